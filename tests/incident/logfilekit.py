"""A trail's log files for the tests of the log-file reader: a small story (the leaked
key's calls, a session it mints, others' calls that name it, noise and a decoy key) cut
into files as CloudTrail cuts them, and faults injected into S3 calls the way AWS
answers them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo.cloudtrail_files import group_into_files, log_key, write_to_dir, write_to_s3
from demo.cloudtrail_records import (
    assumed_role,
    event,
    iam_user,
    session_credentials,
    user_session,
)

ACCOUNT = "123456789012"
MEMBER = "111122223333"
ORG = "o-a1b2c3d4e5"
BUCKET = "trail-logs"
KEY = "AKIAIOSFODNN7EXAMPLE"
SESSION_KEY = "ASIAIOSFODNN7EXAMPLE"
DECOY = "AKIAIOSFODNN7DECOYKY"  # another user's key: never a match
START = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
FIRST_DAY = START.date()
LAST_DAY = FIRST_DAY + timedelta(days=1)


def story() -> list[dict[str, Any]]:
    """The records of the window: ids say what each is for."""
    app = iam_user("app-integration-user", ACCOUNT)
    admin = iam_user("admin-user", ACCOUNT)
    other = iam_user("ci-user", ACCOUNT)
    member = assumed_role("deploy", "ci", MEMBER, START)
    at = START
    records = [
        event("GetCallerIdentity", "sts", at, principal=app, key=KEY, event_id="e-whoami"),
        event("ListUsers", "iam", at + timedelta(minutes=3), principal=app, key=KEY,
              region="eu-west-1", event_id="e-list-users"),
        event("GetSessionToken", "sts", at + timedelta(minutes=10), principal=app, key=KEY,
              response={"credentials": session_credentials(
                  SESSION_KEY, at + timedelta(minutes=10), timedelta(hours=12))},
              event_id="e-mint"),
        event("ListBuckets", "s3", at + timedelta(minutes=20),
              principal=user_session(app, at + timedelta(minutes=10)), key=SESSION_KEY,
              event_id="e-session-use"),
        # the admin's calls name the key only in requestParameters / responseElements
        event("UpdateAccessKey", "iam", at + timedelta(minutes=30), principal=admin,
              key="AKIAIOSFODNN7ADMINKY", request={"accessKeyId": KEY, "status": "Inactive",
                                                  "userName": "app-integration-user"},
              event_id="e-admin-request"),
        event("ListAccessKeys", "iam", at + timedelta(minutes=31), principal=admin,
              key="AKIAIOSFODNN7ADMINKY", response={"accessKeyMetadata": [
                  {"accessKeyId": KEY, "status": "Inactive"}]},
              event_id="e-admin-response"),
        # 23:58: its slot ends at midnight, so its file is in the next day's folder
        event("ListRoles", "iam", START.replace(hour=23, minute=58), principal=app, key=KEY,
              event_id="e-midnight"),
        event("ListRoles", "iam", at + timedelta(minutes=40), principal=other, key=DECOY,
              event_id="e-decoy"),
        event("DescribeInstances", "ec2", at + timedelta(minutes=41), principal=member,
              key="ASIAIOSFODNN7MEMBERK", region="us-west-2", event_id="e-member"),
    ]
    records += [event("DescribeRegions", "ec2", at + timedelta(minutes=minute), principal=other,
                      key=DECOY, region=region, event_id=f"noise-{region}-{minute}")
                for minute in range(0, 60, 7) for region in ("us-east-1", "eu-west-1")]
    return records


MATCHES_OF_KEY = ("e-whoami", "e-list-users", "e-mint", "e-admin-request",
                  "e-admin-response", "e-midnight")


def files_of(records: list[dict[str, Any]], *, prefix: str = "", org: bool = False
             ) -> dict[str, list[dict[str, Any]]]:
    """key -> records, as the trail delivers them (the member account's files in the
    organization layout when `org`)."""
    return {log_key(account, region, delivered, prefix=prefix,
                    org_id=ORG if org or account == MEMBER else ""): batch
            for account, region, delivered, batch in group_into_files(records)}


def outside_window() -> list[dict[str, Any]]:
    """A file two days before and one two days after the window, with the key in both."""
    app = iam_user("app-integration-user", ACCOUNT)
    return [event("GetUser", "iam", START - timedelta(days=2), principal=app, key=KEY,
                  event_id="e-before"),
            event("GetUser", "iam", START + timedelta(days=3), principal=app, key=KEY,
                  event_id="e-after")]


def put_all(s3: Any, files: Mapping[str, list[dict[str, Any]]], bucket: str = BUCKET) -> None:
    for key, batch in files.items():
        write_to_s3(s3, bucket, key, batch)


def write_all(root: Path, files: Mapping[str, list[dict[str, Any]]]) -> None:
    for key, batch in files.items():
        write_to_dir(root, key, batch)


def error_response(code: str, message: str, status: int) -> tuple[Any, Any]:
    from botocore.awsrequest import AWSResponse

    http = AWSResponse("https://denied.invalid/", status, {}, None)
    parsed = {"Error": {"Code": code, "Message": message},
              "ResponseMetadata": {"HTTPStatusCode": status}}
    return http, parsed


def deny(client: Any, operation: str, when: Callable[[Mapping[str, Any]], bool], *,
         code: str = "AccessDenied", message: str = "Access Denied", status: int = 403
         ) -> None:
    """Every `operation` call of `client` whose parameters satisfy `when` fails as AWS
    answers it (before-call: no retry)."""

    def remember(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def handler(context: dict[str, Any], **_: Any) -> tuple[Any, Any] | None:
        if when(context.get("api_params", {})):
            return error_response(code, message, status)
        return None

    client.meta.events.register(f"before-parameter-build.s3.{operation}", remember)
    client.meta.events.register(f"before-call.s3.{operation}", handler)


def record_calls(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """(operation, parameters) of every call `client` makes."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def remember(params: Mapping[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    client.meta.events.register("before-parameter-build.s3.*", remember)
    return calls
