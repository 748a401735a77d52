"""The compliance report's "Could we see what the attacker did?": the period's
detection drills, the latest figure and the one before, read back from the PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from report_seed import ACCOUNT, GENERATED, pdf_pages

from auditor.detection import detection_answer, logs_show_after
from auditor.store import HistoryStore
from reports.compliance import build_compliance
from reports.compliance_pdf import write_compliance_report
from reports.compliance_period import quarter_period

Q4 = quarter_period("2026Q4")


def detection(store: HistoryStore, drill_id: str, started: datetime, status: str,
              seconds: float | None) -> None:
    store.begin_detect_drill(drill_id=drill_id, account_id=ACCOUNT, user="canary-user",
                             started_at=started, journal={})
    store.finish_detect_drill(drill_id, status, started + timedelta(minutes=20), "{}",
                              seconds)


@pytest.mark.pdf
def test_the_section_reads_back_with_the_latest_figure_and_the_one_before(
        store: HistoryStore, run_ids: list[int], tmp_path: Path) -> None:
    detection(store, "detect-q3", datetime(2026, 9, 2, tzinfo=UTC), "SEEN", 300.0)
    detection(store, "detect-1", datetime(2026, 10, 21, tzinfo=UTC), "SEEN", 540.0)
    detection(store, "detect-cut", datetime(2026, 11, 3, tzinfo=UTC), "INTERRUPTED", None)
    detection(store, "detect-2", datetime(2026, 12, 2, tzinfo=UTC), "SEEN", 420.0)
    pdf = tmp_path / "q4.pdf"
    write_compliance_report(store, pdf, period=Q4, generated_at=GENERATED)
    text = " ".join(" ".join(pdf_pages(pdf.read_bytes())).split())
    assert "Could we see what the attacker did?" in text
    assert ("Yes: in the latest detection drill (2026-12-02), every call of the story was "
            "visible in the logs after 7 min. The drill before (2026-10-21): every call "
            "visible after 9 min.") in text
    assert "detect-cut" in text  # listed, but it measured nothing
    assert "detect-q3" not in text  # outside the quarter


def test_without_a_detection_drill_the_report_says_nobody_checked(
        store: HistoryStore, run_ids: list[int]) -> None:
    report = build_compliance(store, period=Q4, generated_at=GENERATED)
    assert report.detections == ()
    assert report.detection_answer.startswith("No detection drill ran, so nobody checked")


def test_a_drill_that_saw_nothing_is_a_no(store: HistoryStore) -> None:
    detection(store, "detect-1", datetime(2026, 10, 21, tzinfo=UTC), "NOT_SEEN", None)
    records = store.detect_drills()
    assert detection_answer(records).startswith(
        "No: in the latest detection drill (2026-10-21), some calls of the story were not "
        "visible")
    assert logs_show_after(records) == ""
    detection(store, "detect-2", datetime(2026, 11, 21, tzinfo=UTC), "SEEN", 610.0)
    assert logs_show_after(store.detect_drills()) == (
        "Our logs show a key's calls after about 10 minutes (detection drill detect-2, "
        "2026-11-21).")
