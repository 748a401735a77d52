"""What the tests of `irready investigate` share: a leaked user in moto's IAM, and log
files in CloudTrail's real layout, written into moto's S3 or a folder by the same writer
the demo and the benchmark use."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from demo.account import DEMO_ACCOUNT, LEAKED_USER
from demo.attack import write_attack_logs
from demo.cloudtrail_files import group_into_files, log_key, write_to_dir, write_to_s3

BUCKET = "trail-logs-123456789012"
NOW = datetime.now(UTC)
ATTACK_DAY = datetime.combine(NOW.date() - timedelta(days=1), time(), UTC)


def leaked_user(session: Any, user: str = LEAKED_USER) -> tuple[str, str]:
    """A user with a key in moto's IAM: (key id, secret). The secret is only there to
    prove that no artifact ever holds it."""
    iam = session.client("iam")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def story_in_bucket(session: Any, key_id: str, bucket: str = BUCKET) -> None:
    session.client("s3").create_bucket(Bucket=bucket)
    write_attack_logs(session, bucket, key_id, NOW)


def write_records(records: Iterable[dict[str, Any]], *, session: Any = None,
                  bucket: str = BUCKET, folder: Path | None = None, prefix: str = "",
                  org_id: str = "") -> list[str]:
    """Write `records` as CloudTrail would (5-minute files); the keys written."""
    keys = []
    for account, region, delivered, batch in group_into_files(
            sorted(records, key=lambda r: str(r["eventTime"]))):
        key = log_key(account, region, delivered, prefix=prefix, org_id=org_id)
        if folder is not None:
            write_to_dir(folder, key, batch)
        else:
            write_to_s3(session.client("s3"), bucket, key, batch)
        keys.append(key)
    return keys


def story_in_folder(folder: Path, key_id: str) -> None:
    """The story's logs copied to disk, as a forensic copy would hold them."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        story_in_bucket(session, key_id)
        s3 = session.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", ()):
                target = folder / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())


def document(text: str) -> dict[str, Any]:
    body = json.loads(text)
    assert isinstance(body, dict)
    return body


__all__ = ["ATTACK_DAY", "BUCKET", "DEMO_ACCOUNT", "NOW", "document", "leaked_user",
           "story_in_bucket", "story_in_folder", "write_records"]
