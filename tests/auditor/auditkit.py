"""Helpers for the tests of the audit engine: a seeded moto account in which every
fact of the audit has something to read, many users seeded fast, the calls a session
makes, and the map from a recorded API call to the IAM action it needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import auditor

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRAIL_BUCKET = "trail-logs-123456789012"
AUDIT_POLICY = Path(auditor.__file__).parent / "policies" / "audit.json"

# The IAM action of an API operation is `service:Operation`, except for these S3 ones.
S3_ACTIONS = {
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetBucketPolicyStatus": "GetBucketPolicyStatus",
}


def iam_action(call: str) -> str:
    """`s3:GetBucketLifecycleConfiguration` -> `s3:GetLifecycleConfiguration`."""
    service, operation = call.split(":")
    if service == "s3":
        operation = S3_ACTIONS.get(operation, operation)
    return f"{service}:{operation}"


def policy_actions(document: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in document["Statement"]:
        granted = statement["Action"]
        actions.update([granted] if isinstance(granted, str) else granted)
    return actions


def shipped_policy() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(AUDIT_POLICY.read_text())
    return document


def record_calls(session: Any) -> list[str]:
    """Every API call made through `session` from now on (one per page and attempt
    group), as `service:Operation` with the service's signing name."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.signing_name}:{model.name}")

    session.events.register("before-call.*.*", record)
    return calls


def seed_account(session: Any, users: int = 3) -> None:
    """An account where every read of the audit returns something: users with and
    without console passwords, a logging multi-region trail whose bucket expires logs
    after 30 days (so Object Lock is read too), an Athena table over the trail, a
    GuardDuty detector, and only a SECURITY alternate contact."""
    iam = session.client("iam")
    for n in range(users):
        name = f"user-{n}"
        iam.create_user(UserName=name)
        iam.create_access_key(UserName=name)
        if n % 2 == 0:
            iam.create_login_profile(UserName=name, Password="Seeded-Passw0rd!")
    s3 = session.client("s3")
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    s3.put_bucket_lifecycle_configuration(
        Bucket=TRAIL_BUCKET,
        LifecycleConfiguration={"Rules": [{
            "ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "AWSLogs/"},
            "Expiration": {"Days": 30},
        }]},
    )
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(Name="main-trail", S3BucketName=TRAIL_BUCKET,
                            IsMultiRegionTrail=True, EnableLogFileValidation=True)
    cloudtrail.put_event_selectors(TrailName="main-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    cloudtrail.start_logging(Name="main-trail")
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": "security_logs"})
    glue.create_table(DatabaseName="security_logs", TableInput={
        "Name": "cloudtrail",
        "StorageDescriptor": {"Location": f"s3://{TRAIL_BUCKET}/AWSLogs/"},
    })
    session.client("guardduty").create_detector(Enable=True)
    session.client("account").put_alternate_contact(
        AlternateContactType="SECURITY", Name="Security team", Title="SecOps",
        EmailAddress="security@example.com", PhoneNumber="+15555550100")


def seed_users_in_backend(count: int, start: int = 0) -> None:
    """Many users, fast: straight into moto's IAM backend (the API would take seconds).
    Half have a console password; each has an access key."""
    from moto.iam.models import iam_backends

    backend = iam_backends[ACCOUNT]["global"]
    for n in range(start, start + count):
        name = f"bulk-user-{n:04d}"
        backend.create_user(REGION, name)
        backend.create_access_key(name)
        if n % 2 == 0:
            backend.create_login_profile(name, "Seeded-Passw0rd!")


