"""`irready policy investigate` is enough, and partial permissions still give a result
that says what is missing: proven under moto's IAM enforcement with a user that holds
only the printed policy (moto treats the kms:ViaService condition as matched: the
document's content is checked instead)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from clikit import irready
from investigatekit import BUCKET, NOW, leaked_user, story_in_bucket

from auditor.clock import utcnow
from auditor.session import AwsContext
from demo.attack import BACKDOOR_KEY
from incident.investigate.model import Investigation
from incident.investigate.plan import Limits
from incident.investigate.run import NoSource, Request, run_investigation
from incident.investigate.source_spec import parse_sources
from incident.investigate.window import make_window


def _policy(*args: str) -> dict[str, Any]:
    result = irready("policy", "investigate", *args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert isinstance(body, dict)
    return body


def _run(session: Any, key_id: str) -> Investigation:
    window = make_window(NOW + timedelta(minutes=1), since="7d", start=None, end=None,
                         baseline="14d")
    return run_investigation(
        Request(key_id, window, parse_sources([f"s3://{BUCKET}"]), Limits(workers=1)),
        context=lambda: AwsContext(session=session, max_attempts=1),
        snapshot_of=lambda account: None, clock=utcnow)


def test_the_printed_policy_is_enough(aws: Any, user_with_policy: Callable[..., Any],
                                      enforce_iam: Callable[[], AbstractContextManager[None]]
                                      ) -> None:
    key_id, _ = leaked_user(aws)
    story_in_bucket(aws, key_id)
    session = user_with_policy(_policy("--bucket", BUCKET))
    with enforce_iam():
        found = _run(session, key_id)
    assert found.owner.from_logs is False
    assert found.owner.user == "app-integration-user"
    assert found.sources[0].notes == ()
    assert BACKDOOR_KEY in {c.access_key_id for c in found.credentials}


def test_the_policy_reads_only_and_decrypts_only_through_s3() -> None:
    statements = _policy()["Statement"]
    actions = {action for s in statements for action in s["Action"]}
    assert actions == {"iam:GetAccessKeyLastUsed", "sts:GetAccessKeyInfo",
                       "sts:GetCallerIdentity", "s3:ListBucket", "s3:GetObject", "kms:Decrypt",
                       "cloudtrail:LookupEvents", "ec2:DescribeRegions",
                       "athena:GetQueryExecution", "athena:GetQueryResults",
                       "athena:StartQueryExecution", "athena:StopQueryExecution",
                       "glue:GetDatabase", "glue:GetPartitions", "glue:GetTable",
                       "s3:GetBucketLocation", "s3:PutObject"}
    # the one write: Athena's results, into the results bucket only
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert [w["Resource"] for w in writes] == [[
        "arn:aws:s3:::aws-athena-query-results-*", "arn:aws:s3:::aws-athena-query-results-*/*"]]
    kms = next(s for s in statements if s["Action"] == ["kms:Decrypt"])
    assert kms["Condition"] == {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}
    scoped = _policy("--bucket", BUCKET)["Statement"]
    trail = [s for s in scoped if s["Sid"] in ("ListTheTrailsLogFiles", "ReadTheTrailsLogFiles")]
    assert {r for s in trail for r in s["Resource"]} == {
        f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}


def test_without_iam_the_owner_comes_from_the_logs_and_says_why(
        aws: Any, user_with_policy: Callable[..., Any],
        enforce_iam: Callable[[], AbstractContextManager[None]]) -> None:
    key_id, _ = leaked_user(aws)
    story_in_bucket(aws, key_id)
    policy = _policy("--bucket", BUCKET)
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "iam:GetAccessKeyLastUsed"]
    session = user_with_policy(policy)
    with enforce_iam():
        found = _run(session, key_id)
    assert found.owner.from_logs is True
    assert found.owner.user == "app-integration-user"
    assert ("iam:GetAccessKeyLastUsed was denied: the owner is read from the logs instead"
            in found.notes)


def test_without_get_object_no_source_can_be_read_and_the_permission_is_named(
        aws: Any, user_with_policy: Callable[..., Any],
        enforce_iam: Callable[[], AbstractContextManager[None]]) -> None:
    key_id, _ = leaked_user(aws)
    story_in_bucket(aws, key_id)
    policy = _policy("--bucket", BUCKET)
    policy["Statement"] = [s for s in policy["Statement"] if s["Action"] != ["s3:GetObject"]]
    session = user_with_policy(policy)
    with enforce_iam(), pytest.raises(NoSource) as raised:
        _run(session, key_id)
    assert raised.value.message.startswith("no source could be read: ")
    assert "s3:GetObject" in raised.value.message


def test_the_policy_refuses_a_bucket_that_cannot_exist() -> None:
    result = irready("policy", "investigate", "--bucket", "Not_A_Bucket")
    assert result.exit_code == 2
    assert result.stderr == "irready: error: --bucket: 'Not_A_Bucket' is not an S3 bucket name\n"
