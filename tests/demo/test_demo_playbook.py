"""The demo's playbooks read back: the story's first week has every step that breaks
(no multi-region trail, logs expiring after 30 days, no Athena table), today's has none
and is filled from the simulated account (trail, bucket, table, regions, the inventory
row and the drill's measured time); no secret is in either."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from auditor.durations import format_duration
from auditor.store import HistoryStore
from demo.account import DEMO_REGIONS, TRAIL_NAME
from demo.run import FAKE_ENV, run_demo
from demo.weeks import LOG_DATABASE, LOG_TABLE

NOT_READY = ("No multi-region trail", "expire after 30 days: events older than 30 days are "
             "gone", "No Athena table over the trail's logs")


@pytest.mark.pdf
def test_the_demo_playbooks(tmp_path: Path) -> None:
    from rich.console import Console

    run_demo(tmp_path, Console(file=io.StringIO()))
    week1 = (tmp_path / "playbook-week1.md").read_text()
    today = (tmp_path / "playbook.md").read_text()
    assert (tmp_path / "playbook.pdf").read_bytes().startswith(b"%PDF")

    for gap in NOT_READY:
        assert gap in week1, gap
    assert "Not ready" not in today
    bucket = "irready-demo-cloudtrail-123456789012"
    assert f"| {TRAIL_NAME} | us-east-1 | yes | yes | s3://{bucket} | 400 days |" in today
    assert f"- Table: `{LOG_DATABASE}.{LOG_TABLE}` (region us-east-1)" in today
    assert f"- Location: `s3://{bucket}/AWSLogs/`" in today
    assert [line.split()[4] for line in today.splitlines() if "lookup-events" in line] == sorted(
        DEMO_REGIONS)
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        # the day's containment rotated the mailer's key through the drill engine too;
        # the playbook, written before it, shows the quarterly drill
        (drill,) = store.drills(user="drill-user")
        assert [c.status for c in store.containments()] == ["safe"]
    assert drill.rotation_seconds is not None
    measured = format_duration(drill.rotation_seconds)
    assert (f"| {drill.user} | platform-team@example.com | drill-app | {drill.target} | "
            f"{drill.started_at:%Y-%m-%d} | {measured} | `irready drill rotate --user "
            f"{drill.user} --target {drill.target}` |") in today
    for text in (week1, today):
        assert FAKE_ENV["AWS_SECRET_ACCESS_KEY"] not in text
        assert "SecretAccessKey" not in text
