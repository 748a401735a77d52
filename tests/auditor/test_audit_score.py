"""The score tells the truth: a check that cannot be evaluated leaves the score, so every
output that shows a score says how many controls it covers, and "since run N" compares
only the controls both runs evaluated. A region typo that breaks eight checks must never
read as progress."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.diff import compare
from auditor.errors import ExitCode
from auditor.models import AuditRun, Finding, Severity, Status
from auditor.scheduler.jobs import Completed, audit_result
from auditor.store import HistoryStore
from reports.formats import AuditFormat, render_audit

ACCOUNT = "123456789012"
CHECKS = ("a.one", "a.two", "a.three", "a.four")


def finding(check_id: str, status: Status, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(check_id=check_id, title=f"title of {check_id}", status=status,
                   severity=severity, account_id=ACCOUNT, region="global", resource="account",
                   message=f"{check_id} is {status.value}", remediation="fix it")


def run(run_id: int, statuses: dict[str, Status]) -> AuditRun:
    moment = datetime(2026, 11, run_id, 6, tzinfo=UTC)
    return AuditRun(account_id=ACCOUNT, started_at=moment, finished_at=moment,
                    findings=tuple(finding(c, s) for c, s in statuses.items()),
                    checks=tuple(statuses), run_id=run_id, version="1.0")


# run 1 evaluated everything: 1 pass of 4 (25); run 2 broke the two failing checks
# (ERROR) and fixed nothing: over what it evaluated the score is 50, a "rise" of 25
BEFORE = run(1, {"a.one": Status.PASS, "a.two": Status.FAIL, "a.three": Status.FAIL,
                 "a.four": Status.FAIL})
BROKEN = run(2, {"a.one": Status.PASS, "a.two": Status.ERROR, "a.three": Status.ERROR,
                 "a.four": Status.FAIL})


def test_a_check_that_breaks_does_not_raise_the_score_change() -> None:
    assert (BEFORE.score, BROKEN.score) == (25.0, 50.0)
    diff = compare(BEFORE, BROKEN)
    assert (diff.score_change, diff.compared_controls, diff.narrowed) == (0, 2, True)
    assert diff.score_text == "score +0 over the 2 controls both runs evaluated"


def test_a_real_fix_still_shows_in_the_score_change() -> None:
    fixed = run(2, {"a.one": Status.PASS, "a.two": Status.PASS, "a.three": Status.ERROR,
                    "a.four": Status.FAIL})
    diff = compare(BEFORE, fixed)
    # 1 of 3 -> 2 of 3 over those three: 33 -> 67 as printed
    assert (diff.score_change, diff.compared_controls) == (34, 3)


def test_two_fully_evaluated_runs_compare_their_scores_plainly() -> None:
    after = run(2, dict.fromkeys(CHECKS, Status.PASS))
    diff = compare(BEFORE, after)
    assert (diff.score_change, diff.narrowed, diff.score_text) == (75, False, "score +75")


def test_runs_with_no_control_in_common_are_not_compared() -> None:
    other = run(2, {"a.one": Status.ERROR, "a.two": Status.PASS})
    only_one = run(1, {"a.one": Status.PASS})
    diff = compare(only_one, other)
    assert (diff.score_change, diff.compared_controls) == (None, 0)
    assert diff.score_text == "score not comparable (no control was evaluated by both runs)"


def test_the_coverage_counts_the_selected_checks_and_those_evaluated() -> None:
    assert (BROKEN.coverage.evaluated, BROKEN.coverage.selected) == (2, 4)
    assert BROKEN.coverage.note == "covers 2 of 4 controls: 2 could not be evaluated"
    assert BEFORE.coverage.note == ""


@pytest.mark.parametrize("fmt", [AuditFormat.TERMINAL, AuditFormat.MARKDOWN, AuditFormat.HTML])
def test_every_text_format_says_what_the_score_covers_and_what_it_compared(
        fmt: AuditFormat) -> None:
    text = " ".join(render_audit(BROKEN, compare(BEFORE, BROKEN), fmt).decode().split())
    assert "covers 2 of 4 controls: 2 could not be evaluated" in text
    assert "Since run 1: score +0 over the 2 controls both runs evaluated" in text


def test_a_fully_evaluated_run_says_nothing_about_coverage() -> None:
    text = render_audit(BEFORE, None, AuditFormat.MARKDOWN).decode()
    assert "covers" not in text


@pytest.mark.pdf
def test_the_pdf_says_what_the_score_covers() -> None:
    import io

    from pypdf import PdfReader

    pdf = render_audit(BROKEN, compare(BEFORE, BROKEN), AuditFormat.PDF)
    pages = " ".join(" ".join(page.extract_text()
                              for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "covers 2 of 4 controls" in pages
    assert "score +0 over the 2 controls both runs evaluated" in pages


def test_json_carries_the_coverage_and_the_comparable_change() -> None:
    document = json.loads(render_audit(BROKEN, compare(BEFORE, BROKEN), AuditFormat.JSON))
    assert document["score"] == 50.0
    assert document["score_covers"] == {"evaluated": 2, "selected": 4}
    assert (document["changes"]["score_change"],
            document["changes"]["score_compared_controls"]) == (0, 2)


def test_junit_carries_the_coverage_beside_the_score() -> None:
    root = ET.fromstring(render_audit(BROKEN, None, AuditFormat.JUNIT))
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert (properties["score"], properties["score_covers"]) == ("50", "2/4")


def test_the_scheduler_notification_says_what_the_score_covers(tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    report.write_bytes(render_audit(BROKEN, compare(BEFORE, BROKEN), AuditFormat.JSON))
    result = audit_result(Completed(int(ExitCode.FAILED)), report, Severity.LOW)
    assert result.summary.startswith(
        f"account {ACCOUNT}: score 50 (covers 2 of 4 controls: 2 could not be evaluated), ")


def test_the_compliance_report_says_what_the_score_covers_and_trends_fairly(
        store: HistoryStore) -> None:
    from dataclasses import replace

    from reports.compliance import build_compliance
    from reports.compliance_pdf import render_compliance_html
    from reports.compliance_period import quarter_period

    for audit in (BEFORE, BROKEN):
        store.save_run(replace(audit, run_id=None))
    report = build_compliance(store, period=quarter_period("2026Q4"),
                              generated_at=datetime(2027, 1, 4, tzinfo=UTC))
    assert report.trend_sentence == (
        "unchanged since the first audit of the period (2026-11-01, 25/100; compared on the"
        " 2 controls both audits evaluated), over 2 audits.")
    text = " ".join(render_compliance_html(report).split())
    assert ("The score covers 2 of 4 controls: 2 could not be evaluated: they are left out of"
            " it, not counted as passing.") in text
