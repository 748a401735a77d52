"""The drill `irready demo` runs: a real rotation of the simulated account's drill user,
whose application reads its key from Secrets Manager, as a least-privilege operator."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from auditor.store import HistoryStore
from drills.model import DrillStatus


def test_the_demo_drill_rotates_the_demo_user_and_leaves_the_account_as_seeded(
        aws: Any, tmp_path: Path) -> None:
    from demo.account import seed_story
    from demo.drill import OPERATOR, run_demo_drill
    from demo.run import demo_config

    account = seed_story(aws)
    config = demo_config(account, tmp_path)
    secrets = aws.client("secretsmanager")
    before = json.loads(secrets.get_secret_value(SecretId=account.drill_secret)["SecretString"])
    users = {u["UserName"] for u in aws.client("iam").list_users()["Users"]}
    buffer = io.StringIO()
    with HistoryStore(config.history_file) as store:
        record = run_demo_drill(aws, config, store, account,
                                Console(file=buffer, width=120, color_system=None))
        assert store.drills()[0].drill_id == record.drill_id
    assert record.status is DrillStatus.SUCCEEDED, record.detail
    assert record.detail["caller_arn"].endswith(f":user/{OPERATOR}")
    after = json.loads(secrets.get_secret_value(SecretId=account.drill_secret)["SecretString"])
    assert after["AccessKeyId"] == record.detail["new_key_id"] != before["AccessKeyId"]
    keys = aws.client("iam").list_access_keys(UserName=account.drill_user)["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in keys} == {
        before["AccessKeyId"]: "Inactive", after["AccessKeyId"]: "Active"}
    assert {u["UserName"] for u in aws.client("iam").list_users()["Users"]} == users
    printed = buffer.getvalue()
    assert "8  verify the old key is rejected" in printed
    assert "Time to rotate (start to old key deactivated):" in printed
    assert before["SecretAccessKey"] not in printed
    assert after["SecretAccessKey"] not in printed
