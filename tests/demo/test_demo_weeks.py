"""The demo's replayed weeks: each fix, applied to the story's moto account, turns the
controls it names from FAIL to PASS in a real audit; the weeks stamp the runs; the
report at the end says it is a simulation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import perform_audit
from auditor.config import Config
from auditor.models import AuditRun, Status, check_statuses
from auditor.registry import discover
from auditor.session import AwsContext
from auditor.store import HistoryStore
from demo.account import seed_story
from demo.run import demo_config
from demo.weeks import (
    FIXES,
    SIMULATION_NOTICE,
    simulated_weeks,
    ticking_clock,
    write_demo_report,
)

NOW = datetime(2026, 12, 18, 15, 30, tzinfo=UTC)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, read back with pypdf."""
    import io

    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _audit(ctx: AwsContext, config: Config, store: HistoryStore, at: datetime) -> AuditRun:
    """A full audit, as the demo makes: the compliance report's trend leaves partial
    (--check) runs out, so the weeks must be whole audits to draw one."""
    return perform_audit(ctx, config, discover(), history=store,
                         clock=ticking_clock(at)).run


@pytest.mark.pdf
def test_each_fix_passes_its_controls_and_the_report_says_simulation(
        aws: Any, tmp_path: Path) -> None:
    account = seed_story(aws)
    config = demo_config(account, tmp_path)
    ctx = AwsContext(session=aws, max_attempts=2)
    fixed = tuple(check for fix in FIXES for check in fix.checks)
    weeks = simulated_weeks(NOW, len(FIXES) + 1)
    with HistoryStore(config.history_file) as store:
        before = check_statuses(_audit(ctx, config, store, weeks[0]).findings)
        assert {check: before[check][0] for check in fixed} == dict.fromkeys(fixed, Status.FAIL)
        for fix, week in zip(FIXES, weeks[1:], strict=True):
            fix.apply(aws, account)
            run = _audit(ctx, config, store, week)
            statuses = check_statuses(run.findings)
            assert {c: statuses[c][0] for c in fix.checks} == dict.fromkeys(
                fix.checks, Status.PASS), fix.title
            assert run.started_at == week
        written = write_demo_report(store, tmp_path, account, generated_at=NOW)
    assert written == [tmp_path / "compliance-report.pdf"]
    pages = pdf_pages(written[0].read_bytes())
    assert "SIMULATION" in pages[0]
    assert all("(simulation)" in page for page in pages)
    assert "account 123456789012 (irready-demo)" in pages[0]
    text = "\n".join(pages)
    assert f"over {len(FIXES) + 1} audits" in text


def test_simulated_weeks_end_a_week_before_now() -> None:
    weeks = simulated_weeks(NOW, 3)
    assert weeks == (datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
                     datetime(2026, 12, 4, 6, 0, tzinfo=UTC),
                     datetime(2026, 12, 11, 6, 0, tzinfo=UTC))


def test_ticking_clock_moves_at_every_reading() -> None:
    clock = ticking_clock(NOW, step_seconds=2)
    assert [clock(), clock()] == [NOW, NOW + timedelta(seconds=2)]


def test_the_notice_says_no_real_account_was_touched() -> None:
    assert "no real account was read or changed" in SIMULATION_NOTICE
