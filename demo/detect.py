"""The detection drill part of `irready demo`: a real detection drill on a canary of the
simulated account (a temporary key, the story's six calls, the key deleted), run as an
operator that holds only `irready policy detect`, with moto's IAM enforcement on, so the
canary's calls are denied as AWS would deny them.

moto logs nothing, so CloudTrail's delivery is simulated and the demo says so: a few
seconds after the replay, the calls are written, as CloudTrail writes them, into the
trail's bucket, by a stand-in for CloudTrail that may only put objects there. The figure
the drill measures is therefore the simulation's delay, not AWS's. The operator and the
stand-in are removed afterwards; the canary stays (a canary is kept for the next drill)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.config import Config
    from auditor.store import HistoryStore
    from demo.account import DemoAccount
    from drills.detect.model import DetectResult

CANARY = "irready-canary"
OPERATOR = "irready-detect-operator"
CLOUDTRAIL = "simulated-cloudtrail-delivery"
DELIVERY_DELAY = 3.0  # seconds: a simulation, CloudTrail's own is about 5 minutes or more


def _user_with(iam: Any, name: str, document: dict[str, Any]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="irready-demo",
                        PolicyDocument=json.dumps(document))
    key: dict[str, str] = iam.create_access_key(UserName=name)["AccessKey"]
    return key


def _remove(iam: Any, name: str, key_id: str) -> None:
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    iam.delete_user_policy(UserName=name, PolicyName="irready-demo")
    iam.delete_user(UserName=name)


def run_demo_detect(session: Any, config: Config, store: HistoryStore, account: DemoAccount,
                    console: Console) -> DetectResult:
    import boto3
    from moto.core import enable_iam_authentication

    from auditor.session import AwsContext
    from demo.detect_delivery import SimulatedDelivery
    from drills.detect.cli_run import detect_options
    from drills.detect.policy import detect_policy
    from drills.detect.run import run_detect
    from drills.detect.terminal import print_detect

    iam = session.client("iam")
    iam.create_user(UserName=CANARY, Tags=[{"Key": "irready:canary", "Value": "true"}])
    policy = detect_policy([CANARY], [account.trail_bucket])
    for statement in policy["Statement"]:
        statement["Resource"] = "*"  # moto evaluates IAM resources as "*"
    operator = _user_with(iam, OPERATOR, policy)
    writer = _user_with(iam, CLOUDTRAIL, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]})
    options, choices = detect_options(config, user=CANARY, sequence="story", sources=["s3"],
                                      timeout=60.0, poll=1.0)
    console.print(f"\nDetection drill: a temporary key for the canary {CANARY}, the story's "
                  f"{len(options.sequence)} calls replayed, the key deleted; run as {OPERATOR} "
                  "(detect policy only, IAM enforced). SIMULATION: moto logs nothing, so the "
                  f"demo writes the calls into the trail's bucket {DELIVERY_DELAY:g} s after "
                  "the replay, as CloudTrail would (about 5 minutes or more on AWS).",
                  markup=False)

    def as_user(key: dict[str, str]) -> Any:
        return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                             aws_secret_access_key=key["SecretAccessKey"],
                             region_name=account.region)

    try:
        delivery = SimulatedDelivery(account.account_id, CANARY, DELIVERY_DELAY,
                                     s3=as_user(writer).client("s3"),
                                     bucket=account.trail_bucket)
        with enable_iam_authentication():
            result = run_detect(AwsContext(session=as_user(operator), max_attempts=3), config,
                                store, options, choices, delivery=delivery)
    finally:
        _remove(iam, OPERATOR, operator["AccessKeyId"])
        _remove(iam, CLOUDTRAIL, writer["AccessKeyId"])
    print_detect(console, result)
    return result
