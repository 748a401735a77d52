"""`irready drill detect` as a user runs it (in-process, moto without a delivery: moto
logs nothing, so nothing is seen), and the detection drill in `drill list`, `drill show`
and `drill rollback`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import clikit
import pytest

from auditor.errors import ExitCode

CANARY = "canary-user"


@pytest.fixture
def account(aws: Any) -> Any:
    aws.client("iam").create_user(UserName=CANARY,
                                  Tags=[{"Key": "irready:canary", "Value": "true"}])
    aws.client("s3").create_bucket(Bucket="trail-logs")
    return aws


def test_nothing_delivered_is_exit_1_and_listed(account: Any, tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    result = clikit.irready("drill", "detect", "--user", CANARY, "--source",
                            "s3://trail-logs", "--timeout", "0.3", "--poll", "0.1",
                            "--format", "json", "--history", history)
    assert result.exit_code == ExitCode.FAILED, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "NOT_SEEN"
    assert document["key_deleted"] is True
    assert [s["last_seconds"] for s in document["sources"]] == [None]
    assert account.client("iam").list_access_keys(UserName=CANARY)["AccessKeyMetadata"] == []
    drill_id = document["drill_id"]

    listed = clikit.irready("drill", "list", "--format", "json", "--history", history)
    (summary,) = json.loads(listed.stdout)["detection_drills"]
    assert summary["drill_id"] == drill_id
    assert summary["last_seen_seconds"] == {"s3://trail-logs": None}
    table = clikit.irready("drill", "list", "--history", history, env={"COLUMNS": "200"})
    assert drill_id in table.stdout
    assert "not seen" in table.stdout

    shown = clikit.irready("drill", "show", drill_id, "--format", "json", "--history", history)
    assert json.loads(shown.stdout) == document
    text = clikit.irready("drill", "show", drill_id, "--history", history)
    assert "iam:ListUsers: not seen" in text.stdout

    closed = clikit.irready("drill", "rollback", drill_id, "--history", history)
    assert closed.exit_code == ExitCode.USAGE
    assert closed.stderr.strip() == (f"irready: error: detection drill {drill_id} is NOT_SEEN: "
                                     "nothing to resume or roll back")
