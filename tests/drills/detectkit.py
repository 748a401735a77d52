"""Helpers of the detection drill tests: a moto account under IAM enforcement with a
canary, an admin that inspects, an operator that holds only `irready policy detect`
(resources widened: moto matches IAM resources only against "*"), a trail writing to
a bucket, and CloudTrail's delivery played by demo.detect_delivery."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from drillkit import ACCOUNT, REGION, session

from auditor.config import Config, DrillSettings
from auditor.session import AwsContext
from drills.detect.policy import detect_policy

# event history's test double and Athena's queued answers live with the tests of
# `irready investigate`, the schema checker with the tests of the reports
for _folder in ("incident", "reports"):
    _path = str(Path(__file__).resolve().parent.parent / _folder)
    if _path not in sys.path:
        sys.path.append(_path)
from athenakit import athena_row, queue  # noqa: E402
from lookupkit import FakeEventHistory  # noqa: E402
from schema_check import errors as schema_errors  # noqa: E402

CANARY = "canary-user"
BUCKET = "trail-logs"
PREFIX = "audit"


def widened(document: dict[str, Any]) -> dict[str, Any]:
    for statement in document["Statement"]:
        statement["Resource"] = "*"
        statement.pop("Condition", None)
    return document


def seed(admin: Any, *, operator_policy: dict[str, Any] | None = None) -> dict[str, str]:
    iam = admin.client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="detect", PolicyDocument=json.dumps(
        operator_policy or widened(detect_policy([CANARY]))))
    iam.create_user(UserName=CANARY, Tags=[{"Key": "irready:canary", "Value": "true"}])
    keys = {}
    for name in ("admin", "operator"):
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[f"{name}_id"], keys[f"{name}_secret"] = key["AccessKeyId"], key["SecretAccessKey"]
    admin.client("s3").create_bucket(Bucket=BUCKET)
    admin.client("cloudtrail").create_trail(Name="main", S3BucketName=BUCKET,
                                            S3KeyPrefix=PREFIX, IsMultiRegionTrail=True)
    return keys


@dataclass
class DetectWorld:
    admin: Any
    operator: Any
    tmp: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    secrets_seen: list[str] = field(default_factory=list)

    def ctx(self, on_call: Any = None) -> AwsContext:
        context = AwsContext(session=self.operator, max_attempts=2)
        if on_call is not None:  # before any client is made: clients copy the hooks
            context.on_call(on_call)
        FakeEventHistory(self.history).install(context, (REGION,))
        return context

    def canary_keys(self) -> list[str]:
        listed = self.admin.client("iam").list_access_keys(UserName=CANARY)
        return [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]]

    def config(self, **drill: Any) -> Config:
        return replace(Config(), drill=DrillSettings(propagation_timeout_seconds=5, **drill),
                       history_path=str(self.tmp / "history.sqlite3"))


def world_of(admin: Any, tmp: Path, **seeding: Any) -> DetectWorld:
    keys = seed(admin, **seeding)
    return DetectWorld(admin=session(keys["admin_id"], keys["admin_secret"]),
                       operator=session(keys["operator_id"], keys["operator_secret"]),
                       tmp=tmp)


__all__ = ["ACCOUNT", "BUCKET", "CANARY", "PREFIX", "REGION", "DetectWorld", "athena_row",
           "queue", "schema_errors", "world_of"]
