"""`irready policy detect` is enough for a detection drill, proven under moto's IAM
enforcement with an operator that holds only the printed policy (resources widened:
moto matches IAM resources only against "*"; the condition on kms:Decrypt is checked by
the document's content). A permission missing is exit 3 naming it, before any key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clikit import irready
from detectkit import BUCKET, CANARY, PREFIX, widened, world_of

from auditor.errors import AwsUnavailable
from auditor.store import HistoryStore
from demo.detect_delivery import SimulatedDelivery
from drills.detect.cli_run import detect_options
from drills.detect.model import DetectStatus
from drills.detect.run import run_detect
from drills.detect.sequence import STORY

WRITES = {"iam:CreateAccessKey", "iam:DeleteAccessKey"}
# the IAM action of an API operation is service:Operation, except for these
IAM_ACTION = {"s3:ListObjectsV2": "s3:ListBucket", "s3:ListObjects": "s3:ListBucket"}


def printed(*args: str) -> dict[str, Any]:
    result = irready("policy", "detect", "--user", CANARY, *args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def actions(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in document["Statement"]:
        found.update(statement["Action"])
    return found


def test_the_printed_policy_is_enough(aws: Any, tmp_path: Any) -> None:
    from moto.core import enable_iam_authentication

    world = world_of(aws, tmp_path, operator_policy=widened(printed()))
    calls: list[str] = []
    with enable_iam_authentication():
        def record(model: Any, **_: Any) -> None:
            call = f"{model.service_model.signing_name}:{model.name}"
            calls.append(IAM_ACTION.get(call, call))

        ctx = world.ctx(on_call=record)
        config = world.config()
        options, choices = detect_options(config, user=CANARY, sequence="story", sources=None,
                                          timeout=3.0, poll=0.05)
        played = SimulatedDelivery("123456789012", CANARY, 0.1,
                                   s3=world.admin.client("s3"), bucket=BUCKET, prefix=PREFIX,
                                   history=world.history)
        with HistoryStore(tmp_path / "history.sqlite3") as store:
            result = run_detect(ctx, config, store, options, choices, delivery=played)
    assert result.status is DetectStatus.SEEN
    # the canary's own calls go through the same session; they are the replay's
    replay = {f"{c.service}:{c.operation}" for c in STORY}
    operator = set(calls) - replay
    assert operator <= actions(printed()), operator - actions(printed())
    assert {"iam:CreateAccessKey", "iam:DeleteAccessKey", "cloudtrail:DescribeTrails",
            "s3:ListBucket", "s3:GetObject"} <= operator


def test_the_policy_writes_only_the_canaries_keys() -> None:
    document = printed("--bucket", "trail-logs")
    for statement in document["Statement"]:
        if set(statement["Action"]) & WRITES:
            assert statement["Resource"] == [f"arn:aws:iam::*:user/{CANARY}"]
    writes = {a for a in actions(document)
              if not a.split(":")[1].startswith(("Get", "List", "Describe", "Lookup"))}
    assert writes == WRITES | {"kms:Decrypt"}
    # moto refuses GuardDuty's signatures under enforcement: checked by the content
    assert {"guardduty:ListDetectors", "guardduty:ListFindings"} <= actions(document)
    (decrypt,) = [s for s in document["Statement"] if "kms:Decrypt" in s["Action"]]
    assert decrypt["Condition"] == {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}
    (objects,) = [s for s in document["Statement"] if s["Action"] == ["s3:GetObject"]]
    assert objects["Resource"] == ["arn:aws:s3:::trail-logs/*"]


@pytest.mark.parametrize("missing", ["iam:ListUserTags", "iam:GetLoginProfile",
                                     "cloudtrail:DescribeTrails"])
def test_a_missing_permission_is_named_before_any_key(aws: Any, tmp_path: Any,
                                                      missing: str) -> None:
    from moto.core import enable_iam_authentication

    policy = widened(printed())
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != missing]
    world = world_of(aws, tmp_path, operator_policy=policy)
    with enable_iam_authentication():
        config = world.config()
        options, choices = detect_options(config, user=CANARY, sequence="story", sources=None,
                                          timeout=1.0, poll=0.1)
        with HistoryStore(tmp_path / "history.sqlite3") as store, \
                pytest.raises(AwsUnavailable) as refused:
            run_detect(world.ctx(), config, store, options, choices)
        assert f"{missing} failed" in refused.value.message
        assert "AccessDenied" in refused.value.message
        assert world.canary_keys() == []


def test_the_policy_refuses_a_name_iam_cannot_hold() -> None:
    result = irready("policy", "detect", "--user", "drüll")
    assert result.exit_code == 2
    assert result.stderr.strip() == "irready: error: --user: 'drüll' is not an IAM user name"


def test_athena_adds_the_investigations_query_statements_and_its_one_write() -> None:
    plain = printed()
    with_athena = printed("--athena")
    investigate = json.loads(irready("policy", "investigate").stdout)
    shared = [s for s in investigate["Statement"]
              if s["Sid"] in ("QueryTheAthenaTable", "WriteAthenaQueryResults")]
    assert with_athena["Statement"] == [*plain["Statement"], *shared]
    assert "athena:StartQueryExecution" not in actions(plain)
    results = printed("--results-bucket", "query-results-bucket")
    (write,) = [s for s in results["Statement"] if s["Sid"] == "WriteAthenaQueryResults"]
    assert write["Resource"] == ["arn:aws:s3:::query-results-bucket",
                                 "arn:aws:s3:::query-results-bucket/*"]
    assert "s3:PutObject" in write["Action"]


def test_the_policy_refuses_a_results_bucket_s3_cannot_hold() -> None:
    result = irready("policy", "detect", "--user", CANARY, "--results-bucket", "Bad_Bucket")
    assert result.exit_code == 2
    assert result.stderr.strip() == \
        "irready: error: --results-bucket: 'Bad_Bucket' is not an S3 bucket name"
