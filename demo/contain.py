"""The story's day, after the investigation: `irready contain` on the leaked key, run as
a responder that holds only `irready policy contain` (IAM enforced). The mailer gets a new
key through its Secrets Manager secret before the leaked key is made inactive, and the
time to safe is printed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from demo.account import LEAKED_USER, MAILER_SECRET
from demo.drill import moto_refuses_inactive_keys

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.config import Config
    from auditor.store import ContainmentRecord, HistoryStore

RESPONDER = "irready-responder"
MAILER_TARGET = f"secretsmanager:{MAILER_SECRET}"


def contain_leak(session: Any, config: Config, store: HistoryStore, key_id: str,
                 console: Console) -> ContainmentRecord:
    import boto3
    from moto.core import enable_iam_authentication

    from auditor.session import AwsContext
    from incident.contain.model import ContainOptions
    from incident.contain.policy import contain_policy
    from incident.contain.render import plan_text, record_text
    from incident.contain.run import plan_containment, run_containment

    document = contain_policy([LEAKED_USER], [MAILER_TARGET])
    for statement in document["Statement"]:
        statement["Resource"] = "*"  # moto evaluates IAM resources as "*"
    iam = session.client("iam")
    iam.create_user(UserName=RESPONDER)
    iam.put_user_policy(UserName=RESPONDER, PolicyName="irready-contain",
                        PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=RESPONDER)["AccessKey"]
    options = ContainOptions(key_id, target=MAILER_TARGET, propagation_timeout=5.0,
                             revoke_sessions=True)
    try:
        responder = boto3.Session(aws_access_key_id=key["AccessKeyId"],
                                  aws_secret_access_key=key["SecretAccessKey"],
                                  region_name=session.region_name)
        ctx = AwsContext(session=responder, max_attempts=3)
        with enable_iam_authentication(), moto_refuses_inactive_keys():
            console.print(f"$ irready contain plan {key_id} --target {MAILER_TARGET} "
                          "--revoke-sessions", markup=False)
            console.print(plan_text(plan_containment(ctx, config, store, options)),
                          markup=False)
            console.print(f"$ irready contain run {key_id} --target {MAILER_TARGET} "
                          "--revoke-sessions", markup=False)
            record = run_containment(ctx, config, store, options)
    finally:
        iam.delete_access_key(UserName=RESPONDER, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=RESPONDER, PolicyName="irready-contain")
        iam.delete_user(UserName=RESPONDER)
    console.print(record_text(record), markup=False)
    return record
