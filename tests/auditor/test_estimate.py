"""The incident estimate, computed once for the drill's summary and the compliance
report: the active keys of the latest complete audit (the largest count recorded),
times the latest successful drill's rotation time, against four hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor.estimate import (
    ACTIVE_KEYS_EVIDENCE,
    IncidentEstimate,
    active_keys,
    estimate_incident,
    newest_successful_drill,
)
from auditor.models import AuditRun, Finding, Severity, Status
from auditor.store import DrillRecord, HistoryStore

ACCOUNT = "123456789012"
MONDAY = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)


def counted(*counts: str, started: datetime = MONDAY, complete: bool = True) -> AuditRun:
    findings = tuple(
        Finding(check_id="iam.key_inventory", title="t", status=Status.PASS,
                severity=Severity.MEDIUM, account_id=ACCOUNT, region="global",
                resource=f"r{i}", message="m", remediation="r",
                evidence={ACTIVE_KEYS_EVIDENCE: count})
        for i, count in enumerate(counts))
    return AuditRun(account_id=ACCOUNT, started_at=started, finished_at=started,
                    findings=findings, complete=complete)


@pytest.mark.parametrize(("counts", "expected"), [
    pytest.param(("12",), 12, id="one count"),
    pytest.param(("3", "30", "12"), 30, id="several counts: the largest, not the first"),
    pytest.param(("many",), None, id="not a number"),
    pytest.param((), None, id="nothing counted"),
])
def test_active_keys(counts: tuple[str, ...], expected: int | None) -> None:
    assert active_keys(counted(*counts)) == expected


def test_the_estimate_uses_the_latest_complete_audit(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        full = store.save_run(counted("20"))
        store.save_run(counted(started=MONDAY + timedelta(days=1), complete=False))
        estimate = estimate_incident(store, ACCOUNT, 600.0)
        before = estimate_incident(store, ACCOUNT, 600.0, until=MONDAY)
    assert (estimate.active_keys, estimate.audit_run_id) == (20, full)
    assert estimate.total_seconds == 12000.0
    assert estimate.within_window is True
    assert (before.active_keys, before.audit_run_id) == (None, None)


def test_the_newest_successful_drill_gives_the_time() -> None:
    def drill(drill_id: str, day: int, status: str, seconds: float | None) -> DrillRecord:
        return DrillRecord(drill_id=drill_id, account_id=ACCOUNT, user="u", target="t",
                           status=status, started_at=MONDAY + timedelta(days=day),
                           finished_at=None, rotation_seconds=seconds, target_seconds=900)

    drills = [drill("d-1", 0, "SUCCEEDED", 250.0), drill("d-2", 1, "FAILED", 90.0),
              drill("d-3", 2, "SUCCEEDED", None)]
    newest = newest_successful_drill(drills)
    assert newest is not None
    assert newest.drill_id == "d-1"
    assert newest_successful_drill(drills[1:]) is None


def test_a_kept_estimate_reads_back() -> None:
    estimate = IncidentEstimate(per_key_seconds=300.0, active_keys=60, audit_run_id=7)
    assert IncidentEstimate.from_dict(estimate.as_dict()) == estimate
    assert estimate.within_window is False
    assert replace(estimate, active_keys=None).within_window is None
