"""The compliance report: built from a seeded history store whose figures are known
(report_seed.py), read back from the PDF, and its model checked piece by piece."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_seed import (
    ACCOUNT,
    FAILED_DRILL,
    GENERATED,
    GOOD_DRILL,
    NASTY,
    OTHER_ACCOUNT,
    Q3_DRILL,
    Q4_RUNS,
    audit_run,
    drill,
    finding,
    findings_for,
    pdf_pages,
    seed,
)

from auditor.errors import NotFound, UsageError
from auditor.models import Severity, Status
from auditor.store import HistoryStore
from reports.compliance import build_compliance, rotation_answer
from reports.compliance_pdf import render_compliance_html, write_compliance_report
from reports.compliance_period import parse_period, quarter_period

Q4 = quarter_period("2026Q4")


@pytest.mark.pdf
def test_compliance_pdf_reads_back_with_its_figures(store: HistoryStore, run_ids: list[int],
                                                    tmp_path: Path) -> None:
    first = tmp_path / "q4.pdf"
    again = tmp_path / "again.pdf"
    written = write_compliance_report(store, first, period=Q4, generated_at=GENERATED)
    write_compliance_report(store, again, period=Q4, generated_at=GENERATED)
    assert written == [first]  # small account: no CSV beside it
    assert first.read_bytes() == again.read_bytes()  # same data and clock, same bytes

    pages = pdf_pages(first.read_bytes())
    count = len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in page
        assert "Leaked-key readiness: 2026Q4" in page
        assert f"account {ACCOUNT}" in page
        assert "irready 0.1.0, generated 2027-01-04 09:30 UTC" in page
    text = "\n".join(pages)
    for section in ("Executive summary", "Could we rotate every key within 4 hours",
                    "The biggest risks", "Readiness trend", "Controls", "What to fix",
                    "Rotation drills", "Waivers", "Appendix A: evidence",
                    "Appendix B: method"):
        assert section in text, section
    cover = pages[0]
    assert "2026-10-01 to 2026-12-31 (2026Q4)" in cover
    assert "2027-01-04 09:30 UTC" in cover
    assert "irready 0.1.0" in cover
    assert "78/100" in text
    # 78.3 and 43.5 print as 78 and 44: the sentence says their difference
    assert "up 34 points since the first audit of the period (2026-10-05, 44/100)" in text
    assert "12 active key(s) take about 50 min" in text
    assert f"{GOOD_DRILL}, 2026-10-20) replaced one key in 4.2 min" in text
    assert FAILED_DRILL in text
    assert Q3_DRILL not in text  # outside the quarter
    assert "failing since 2026-09-28" in text
    assert NASTY in text
    assert "must-not-show" not in text
    assert "finance handles billing mail" in text


def test_same_inputs_give_the_same_html(store: HistoryStore, run_ids: list[int]) -> None:
    def html() -> str:
        return render_compliance_html(build_compliance(store, period=Q4,
                                                       generated_at=GENERATED))

    assert html() == html()


def test_html_is_well_formed_and_escapes_findings(store: HistoryStore,
                                                  run_ids: list[int]) -> None:
    html = render_compliance_html(build_compliance(store, period=Q4, generated_at=GENERATED))
    root = ET.fromstring(html)
    assert not [node for node in root.iter() if node.tag.endswith("}script")]
    assert "user &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_summary_figures(store: HistoryStore, run_ids: list[int]) -> None:
    report = build_compliance(store, period=Q4, generated_at=GENERATED)
    assert report.score == 78.3
    assert [run.run_id for run in report.runs] == run_ids[1:]  # one trend point per audit
    assert [risk.check_id for risk in report.risks] == ["iam.console_mfa",
                                                        "cloudtrail.bucket_access_logging"]
    assert report.risks[0].sentence.startswith("4 console login(s)")
    assert report.rotation.verdict == "yes"
    assert report.rotation.total_seconds == 12 * 250
    assert [d.record.drill_id for d in report.drills] == [FAILED_DRILL, GOOD_DRILL]
    assert [(w.check_id, w.state, str(w.expires)) for w in report.waivers] == [
        ("account.alternate_contacts", "active", "2027-03-31"),
        ("cloudtrail.bucket_access_logging", "expired", "2026-09-30"),
    ]


def test_a_partial_run_is_left_out_and_counted(store: HistoryStore,
                                               run_ids: list[int]) -> None:
    """A `--check iam.console_mfa` run after the last weekly audit scores 100 over one
    check: in the trend it would read as a jump to 100, its controls would show every
    other check NOT RUN. It is left out, and the report says so."""
    partial_at = datetime(2026, 10, 26, 6, 0, tzinfo=UTC)
    partial = store.save_run(replace(
        audit_run(partial_at, (finding("iam.console_mfa", Status.PASS, Severity.HIGH),)),
        checks=("iam.console_mfa",), complete=False))

    report = build_compliance(store, period=Q4, generated_at=GENERATED)

    assert [run.run_id for run in report.runs] == run_ids[1:]
    assert partial not in [run.run_id for run in report.runs]
    assert report.latest is not None
    assert report.latest.run_id == run_ids[-1]
    assert report.score == 78.3
    assert report.partial_runs == 1
    assert report.trend_sentence == (
        "up 34 points since the first audit of the period (2026-10-05, 44/100), over 3 "
        "audits. 1 partial audit (a subset of the checks) is left out.")
    controls = {c.check_id: c for c in report.controls}
    assert controls["iam.console_mfa"].status == "FAIL"
    assert controls["iam.console_mfa"].failing_since == datetime(2026, 9, 28, 6, 0, tzinfo=UTC)
    html = render_compliance_html(report)
    assert ("<td>3 (and 1 partial, of a subset of the checks, left out of this report)</td>"
            in html)


def test_a_partial_run_does_not_break_a_failing_streak(store: HistoryStore,
                                                      run_ids: list[int]) -> None:
    """Between two full audits where console MFA fails, a partial run where it passed
    (say, a user was given MFA and later a new user came) must not make the report say
    it fails only since the second one: the streak is read from full audits only."""
    between = datetime(2026, 10, 13, 6, 0, tzinfo=UTC)
    store.save_run(replace(
        audit_run(between, (finding("iam.console_mfa", Status.PASS, Severity.HIGH),)),
        checks=("iam.console_mfa",), complete=False))

    report = build_compliance(store, period=Q4, generated_at=GENERATED)

    mfa = next(c for c in report.controls if c.check_id == "iam.console_mfa")
    assert mfa.failing_since == datetime(2026, 9, 28, 6, 0, tzinfo=UTC)


def test_a_period_with_only_partial_runs_has_no_score(store: HistoryStore) -> None:
    for day in (5, 12):
        store.save_run(replace(
            audit_run(datetime(2026, 10, day, 6, 0, tzinfo=UTC),
                      (finding("iam.root_mfa", Status.PASS, Severity.CRITICAL),)),
            checks=("iam.root_mfa",), complete=False))

    report = build_compliance(store, period=Q4, generated_at=GENERATED)

    assert (report.runs, report.latest, report.score) == ((), None, None)
    assert report.trend_sentence == (
        "No full audit ran in this period, so there is no readiness score. 2 partial "
        "audits (a subset of the checks) are left out.")
    html = render_compliance_html(report)
    assert "There is no data for a trend: no full audit ran in this period." in html


def test_every_control_appears_with_its_references(store: HistoryStore,
                                                   run_ids: list[int]) -> None:
    from auditor.registry import discover

    report = build_compliance(store, period=Q4, generated_at=GENERATED)
    controls = {c.check_id: c for c in report.controls}
    assert set(controls) >= {check.id for check in discover()}
    mfa = controls["iam.console_mfa"]
    assert (mfa.status, mfa.cis, mfa.security_hub) == ("FAIL", ("CIS 1.9",), ("IAM.5",))
    assert mfa.failing_since == datetime(2026, 9, 28, 6, 0, tzinfo=UTC)
    assert mfa.affected == 4
    assert controls["cloudtrail.multi_region"].failing_since is None  # fixed in week 2
    assert controls["iam.root_mfa"].status == "NOT_RUN"


def _statuses(store: HistoryStore, *weekly: Status) -> None:
    for week, status in enumerate(weekly):
        at = datetime(2026, 10, 1 + 7 * week, tzinfo=UTC)
        store.save_run(audit_run(at, (finding("iam.root_mfa", status, Severity.CRITICAL),)))


@pytest.mark.parametrize(("weekly", "since_week"), [
    pytest.param((Status.FAIL, Status.ERROR, Status.FAIL), 0,
                 id="an unreadable week does not break the streak"),
    pytest.param((Status.FAIL, Status.PASS, Status.FAIL), 2, id="a passing week restarts it"),
    pytest.param((Status.PASS, Status.FAIL, Status.FAIL), 1, id="first failure starts it"),
])
def test_failing_since(store: HistoryStore, weekly: tuple[Status, ...], since_week: int
                       ) -> None:
    _statuses(store, *weekly)
    report = build_compliance(store, period=Q4, generated_at=GENERATED)
    control = next(c for c in report.controls if c.check_id == "iam.root_mfa")
    assert control.failing_since == datetime(2026, 10, 1 + 7 * since_week, tzinfo=UTC)


def test_rotation_answer_no_when_keys_times_drill_exceed_four_hours() -> None:
    run = audit_run(Q4_RUNS[0], (finding("iam.key_inventory", Status.PASS, Severity.MEDIUM,
                                         evidence={"account_active_keys": "100"}),))
    answer = rotation_answer(run, [drill(GOOD_DRILL, Q4_RUNS[1])])
    assert answer.verdict == "no"
    assert "100 active key(s) take about 6.9 h one after the other, beyond the four-hour" \
        in answer.explanation


def test_rotation_answer_unknown_without_a_successful_drill() -> None:
    run = audit_run(Q4_RUNS[0], findings_for(1))
    answer = rotation_answer(run, [drill(FAILED_DRILL, Q4_RUNS[1], failed=True)])
    assert answer.verdict == "unknown"
    assert "No rotation drill succeeded in this period" in answer.explanation
    assert "1 of the 1 drill(s) in this period did not succeed" in answer.explanation


def test_rotation_answer_unknown_without_a_key_count() -> None:
    run = audit_run(Q4_RUNS[0], (finding("iam.root_mfa", Status.PASS, Severity.CRITICAL),))
    answer = rotation_answer(run, [drill(GOOD_DRILL, Q4_RUNS[1])])
    assert answer.verdict == "unknown"
    assert "did not count the account's active keys" in answer.explanation


def test_rotation_answer_flags_keys_without_owner() -> None:
    counts = {"account_active_keys": "3"}
    run = audit_run(Q4_RUNS[0], (
        finding("iam.key_inventory", Status.FAIL, Severity.MEDIUM, "u1", evidence=counts),
        finding("iam.key_inventory", Status.FAIL, Severity.MEDIUM, "u2", evidence=counts),
    ))
    answer = rotation_answer(run, [drill(GOOD_DRILL, Q4_RUNS[1])])
    assert answer.verdict == "yes"
    assert "2 user(s) holding keys have no owner or rotation target" in answer.explanation


@pytest.mark.parametrize(("since", "quarter", "start", "end"), [
    pytest.param(None, "2026Q4", "2026-10-01", "2027-01-01", id="fourth quarter"),
    pytest.param(None, "2027q1", "2027-01-01", "2027-04-01", id="lower-case quarter"),
    pytest.param("2026-11-15", None, "2026-11-15", "2027-01-04", id="since a date until now"),
    pytest.param(None, None, "2026-10-06", "2027-01-04", id="default: last 90 days"),
])
def test_periods(since: str | None, quarter: str | None, start: str, end: str) -> None:
    period = parse_period(since=since, quarter=quarter, now=GENERATED)
    assert (f"{period.start:%Y-%m-%d}", f"{period.end:%Y-%m-%d}") == (start, end)


@pytest.mark.parametrize(("since", "quarter", "message"), [
    pytest.param("2026-10-01", "2026Q4", "--since and --quarter exclude each other; pass one "
                 "of them", id="both"),
    pytest.param(None, "2026Q5", "--quarter: expected a quarter like 2026Q4, got '2026Q5'",
                 id="no fifth quarter"),
    pytest.param("last week", None, "--since: expected a date like 2026-10-01, got "
                 "'last week'", id="not a date"),
    pytest.param("2027-02-01", None, "--since 2027-02-01 is not before the report time "
                 "2027-01-04", id="in the future"),
])
def test_bad_periods(since: str | None, quarter: str | None, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_period(since=since, quarter=quarter, now=GENERATED)
    assert caught.value.format_message() == message


def test_period_without_data_is_a_clear_error(store: HistoryStore, run_ids: list[int]
                                              ) -> None:
    with pytest.raises(NotFound) as caught:
        build_compliance(store, period=quarter_period("2025Q1"), generated_at=GENERATED)
    assert caught.value.format_message() == (
        f"no audit runs or drills for 2025-01-01 to 2025-03-31 in {store.path}: run "
        "`irready audit` first, or choose another period")
    assert caught.value.exit_code == 2


def test_several_accounts_need_account(store: HistoryStore, run_ids: list[int]) -> None:
    store.save_run(audit_run(Q4_RUNS[0], (), account=OTHER_ACCOUNT))
    with pytest.raises(UsageError, match="pass --account ID") as caught:
        build_compliance(store, period=Q4, generated_at=GENERATED)
    assert f"({ACCOUNT}, {OTHER_ACCOUNT})" in caught.value.format_message()
    report = build_compliance(store, period=Q4, generated_at=GENERATED, account_id=ACCOUNT)
    assert len(report.runs) == 3


def test_period_with_drills_only_says_there_is_no_audit(store: HistoryStore) -> None:
    store.save_drill(drill(GOOD_DRILL, datetime(2026, 10, 20, 7, 0, tzinfo=UTC)))
    report = build_compliance(store, period=Q4, generated_at=GENERATED)
    html = render_compliance_html(report)
    assert "No audit ran in this period: there is no data about the controls." in html
    assert "There is no data for a trend: no audit ran in this period." in html
    assert report.rotation.verdict == "unknown"


def test_large_account_summarises_and_writes_every_finding_beside(
        store: HistoryStore, tmp_path: Path) -> None:
    seed(store, users_without_mfa=60)
    output = tmp_path / "q4.html"
    written = write_compliance_report(store, output, period=Q4, generated_at=GENERATED)
    beside = tmp_path / "q4-findings.csv"
    assert written == [output, beside]
    rows = list(csv.DictReader(beside.read_text().splitlines()))
    assert sum(row["check_id"] == "iam.console_mfa" for row in rows) == 61
    html = output.read_text()
    assert "q4-findings.csv" in html
    assert "... and 56 more (see q4-findings.csv)." in html
    shown = re.findall(r"user-00\d\d can sign in", html)
    assert len(shown) == 4  # the five worst: the nasty one and four of the users


def test_output_must_be_pdf_or_html(store: HistoryStore, run_ids: list[int],
                                    tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"the name must end in \.pdf or \.html"):
        write_compliance_report(store, tmp_path / "q4.docx", period=Q4,
                                generated_at=GENERATED)


@pytest.mark.parametrize(
    ("first", "last", "movement"),
    [
        pytest.param(35.6, 79.4, "up 43 points", id="the difference of the printed scores"),
        pytest.param(80.4, 79.6, "unchanged", id="both print as 80"),
        pytest.param(50.0, 49.4, "down 1 point", id="down by one"),
    ],
)
def test_the_trend_is_the_difference_of_the_scores_it_prints(
        first: float, last: float, movement: str) -> None:
    from auditor.store import RunSummary
    from reports.compliance import _trend_sentence

    runs = [RunSummary(n, ACCOUNT, datetime(2026, 10, n, tzinfo=UTC),
                       datetime(2026, 10, n, tzinfo=UTC), score, {})
            for n, score in ((1, first), (8, last))]
    assert _trend_sentence(runs).startswith(f"{movement} since the first audit")
