"""The drill part of `irready demo`: a real drill on the simulated account's `drill-user`,
whose application reads its key from a Secrets Manager secret.

It runs inside the demo's in-process moto, as a dedicated operator user that holds the
actions of `irready policy drill`, with moto's IAM enforcement switched on for the
drill, so a missing permission would show. Two things moto cannot do are set up here:
moto matches IAM policy resources only against "*", so the operator's policy keeps the
actions and widens the resources; and moto accepts an inactive key, which AWS refuses,
so for the drill it is made to refuse one too, or step 8 could never pass. The operator
is removed afterwards, leaving the account as the story seeded it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drills.model import DrillOptions

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.config import Config
    from auditor.store import DrillRecord, HistoryStore
    from demo.account import DemoAccount

OPERATOR = "irready-drill-operator"
DEMO_PROPAGATION_TIMEOUT = 5.0  # in-process moto accepts a new key at once


@contextmanager
def moto_refuses_inactive_keys() -> Iterator[None]:
    """Make in-process moto refuse a request signed with an inactive key, as AWS does."""
    from moto.iam.access_control import CreateAccessKeyFailure, IAMUserAccessKey

    original = IAMUserAccessKey.__init__

    def init(self: Any, account_id: str, partition: str, access_key_id: str,
             headers: dict[str, str]) -> None:
        original(self, account_id, partition, access_key_id, headers)
        for user in self.backend.users.values():
            for key in user.access_keys:
                if key.access_key_id == access_key_id and key.status != "Active":
                    raise CreateAccessKeyFailure(reason="InvalidId")

    IAMUserAccessKey.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        IAMUserAccessKey.__init__ = original  # type: ignore[method-assign]


def _operator_policy(account: DemoAccount) -> str:
    from drills.policy import drill_policy

    document = drill_policy([account.drill_user], [account.drill_target])
    for statement in document["Statement"]:
        statement["Resource"] = "*"  # moto evaluates IAM resources as "*" (see above)
    return json.dumps(document)


def run_demo_drill(session: Any, config: Config, store: HistoryStore, account: DemoAccount,
                   console: Console, clock: Callable[[], datetime] | None = None
                   ) -> DrillRecord:
    """Rotate the demo drill user's key for real (inside an active mock_aws) and print
    the step timings. Returns the recorded drill."""
    import boto3
    from moto.core import enable_iam_authentication

    from auditor.session import AwsContext
    from drills.rotation import run_drill
    from reports.drill_terminal import print_summary, progress_printer

    iam = session.client("iam")
    iam.create_user(UserName=OPERATOR)
    iam.put_user_policy(UserName=OPERATOR, PolicyName="irready-drill",
                        PolicyDocument=_operator_policy(account))
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    options = DrillOptions(
        user=account.drill_user, target=account.drill_target,
        propagation_timeout=min(float(config.drill.propagation_timeout_seconds),
                                DEMO_PROPAGATION_TIMEOUT),
        health_timeout=DEMO_PROPAGATION_TIMEOUT,
    )
    console.print(f"\nRotation drill: {options.user}'s key, published to {options.target}, "
                  f"run as {OPERATOR} (drill policy only, IAM enforced).", markup=False)
    try:
        operator = boto3.Session(aws_access_key_id=key["AccessKeyId"],
                                 aws_secret_access_key=key["SecretAccessKey"],
                                 region_name=account.region)
        with enable_iam_authentication(), moto_refuses_inactive_keys():
            record = run_drill(AwsContext(session=operator, max_attempts=3), config, store,
                               options, clock=clock, on_event=progress_printer(console))
    finally:
        iam.delete_access_key(UserName=OPERATOR, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=OPERATOR, PolicyName="irready-drill")
        iam.delete_user(UserName=OPERATOR)
    print_summary(console, record)
    return record
