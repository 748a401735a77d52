"""Helpers of the containment tests: the seeded account (an admin that inspects, the
operator that contains, the application user whose key leaked and its secret), and a
stored investigation that names a key the attacker created."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from drillkit import session

from auditor.session import AwsContext

ACCOUNT = "123456789012"
APP_USER = "app-integration-user"
APP_ARN = f"arn:aws:iam::{ACCOUNT}:user/{APP_USER}"
APP_SECRET = "app/integration/aws-credentials"
TARGET = f"secretsmanager:{APP_SECRET}"


@dataclass
class Account:
    admin: Any
    operator: Any
    tmp: Path
    leaked: tuple[str, str]
    notes: dict[str, Any] = field(default_factory=dict)

    def ctx(self, max_attempts: int = 3) -> AwsContext:
        return AwsContext(session=self.operator, max_attempts=max_attempts)

    def key_states(self) -> dict[str, str]:
        listed = self.admin.client("iam").list_access_keys(
            UserName=APP_USER)["AccessKeyMetadata"]
        return {k["AccessKeyId"]: k["Status"] for k in listed}

    def held(self) -> tuple[str, str]:
        value = self.admin.client("secretsmanager").get_secret_value(SecretId=APP_SECRET)
        document = json.loads(value["SecretString"])
        return document["AccessKeyId"], document["SecretAccessKey"]

    def works(self, key_id: str, secret: str) -> bool:
        try:
            arn = session(key_id, secret).client("sts").get_caller_identity()["Arn"]
        except Exception:  # noqa: BLE001 - a refusal is the answer
            return False
        return bool(arn == APP_ARN)

    def second_key(self) -> tuple[str, str]:
        made = self.admin.client("iam").create_access_key(UserName=APP_USER)["AccessKey"]
        return made["AccessKeyId"], made["SecretAccessKey"]


def seed_account(admin: Any, tmp: Path) -> Account:
    iam = admin.client("iam")
    everything = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    keys = {}
    for name in ("admin", "operator"):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=everything)
        made = iam.create_access_key(UserName=name)["AccessKey"]
        keys[name] = (made["AccessKeyId"], made["SecretAccessKey"])
    iam.create_user(UserName=APP_USER)
    iam.put_user_policy(UserName=APP_USER, PolicyName="ses", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*"}]}))
    made = iam.create_access_key(UserName=APP_USER)["AccessKey"]
    leaked = (made["AccessKeyId"], made["SecretAccessKey"])
    admin.client("secretsmanager").create_secret(
        Name=APP_SECRET, SecretString=json.dumps({"AccessKeyId": leaked[0],
                                                  "SecretAccessKey": leaked[1]}))
    return Account(admin=session(*keys["admin"]), operator=session(*keys["operator"]),
                   tmp=tmp, leaked=leaked)


def store_investigation_naming(store: Any, leaked: str, backdoor: str, at: datetime) -> str:
    """A stored investigation of `leaked`, started at `at`, that found `backdoor` created
    with it (CreateAccessKey on the same user)."""
    from investigationkit import sample_investigation

    from incident.investigate.model import Credential, CredentialKind
    from incident.investigate.stored import store_investigation

    base = sample_investigation()
    credentials = (
        Credential(leaked, CredentialKind.LEAKED, "", "", None, ACCOUNT, APP_ARN),
        Credential(backdoor, CredentialKind.CREATED, leaked, "ev-create", None, ACCOUNT,
                   APP_ARN, at))
    result = replace(base, key=leaked, started_at=at, finished_at=at,
                     credentials=credentials)
    store_investigation(store, result)
    return result.investigation_id
