"""`irready audit --format X` and `irready report audit --format X`: every format
renders the same seeded run, and each is checked the way its reader would read it."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from importlib.resources import files

import pytest
from report_seed import NASTY, pdf_pages
from schema_check import errors

from auditor.diff import RunDiff, compare
from auditor.models import AuditRun
from auditor.store import HistoryStore
from reports.formats import AuditFormat, render_audit
from reports.markdown_report import md

XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture
def latest(store: HistoryStore, run_ids: list[int]) -> tuple[AuditRun, RunDiff]:
    run = store.load_run(run_ids[-1])
    return run, compare(store.load_run(run_ids[-2]), run)


@pytest.mark.parametrize("fmt", [
    pytest.param(fmt, marks=[pytest.mark.pdf] if fmt is AuditFormat.PDF else [])
    for fmt in AuditFormat])
def test_every_format_renders_the_run(fmt: AuditFormat, latest: tuple[AuditRun, RunDiff]
                                      ) -> None:
    run, diff = latest
    content = render_audit(run, diff, fmt)
    if fmt is AuditFormat.PDF:
        pages = pdf_pages(content)
        assert f"Page 1 of {len(pages)}" in pages[0]
        assert "irready audit of 123456789012, run 4" in pages[-1]  # the running header
        text = "\n".join(pages)
    else:
        text = content.decode()
    assert "123456789012" in text
    assert "console_mfa" in text


def test_json_follows_its_schema(latest: tuple[AuditRun, RunDiff]) -> None:
    document = json.loads(render_audit(*latest, AuditFormat.JSON))
    schema = json.loads(files("reports").joinpath("schemas/audit.schema.json").read_text())
    assert errors(document, schema) == []
    assert document["changes"]["fixed"]  # retention was fixed since the previous run


def test_schema_check_catches_a_wrong_document(latest: tuple[AuditRun, RunDiff]) -> None:
    document = json.loads(render_audit(*latest, AuditFormat.JSON))
    document["findings"][0]["status"] = "MAYBE"
    del document["score"]
    schema = json.loads(files("reports").joinpath("schemas/audit.schema.json").read_text())
    assert errors(document, schema) == ["$: missing 'score'",
                                        "$.findings[0].status: 'MAYBE' not in "
                                        "['PASS', 'FAIL', 'ERROR', 'NOT_APPLICABLE', 'WAIVED']"]


def test_html_is_well_formed_and_escapes_aws_text(latest: tuple[AuditRun, RunDiff]) -> None:
    html = render_audit(*latest, AuditFormat.HTML).decode()
    root = ET.fromstring(html)  # XHTML-compatible: parses as XML
    assert root.find(f"{XHTML}body/{XHTML}script") is None
    assert not list(root.iter(f"{XHTML}script"))
    cells = ["".join(td.itertext()) for td in root.iter(f"{XHTML}td")]
    assert NASTY in cells  # shown as the text it is
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_csv_has_every_finding_and_defuses_formulas(latest: tuple[AuditRun, RunDiff]
                                                    ) -> None:
    run, diff = latest
    rows = list(csv.DictReader(io.StringIO(render_audit(run, diff, AuditFormat.CSV).decode())))
    assert len(rows) == len(run.findings)
    assert rows[0]["status"] == "FAIL"
    assert rows[0]["severity"] == "high"
    assert NASTY in [row["message"] for row in rows]
    assert {row["run_id"] for row in rows} == {str(run.run_id)}


def test_csv_cell_that_looks_like_a_formula_is_text() -> None:
    from reports.csv_report import cell

    assert cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert cell("arn:aws:iam::1:user/x") == "arn:aws:iam::1:user/x"


def test_markdown_has_the_check_table(latest: tuple[AuditRun, RunDiff]) -> None:
    text = render_audit(*latest, AuditFormat.MARKDOWN).decode()
    lines = text.splitlines()
    header = lines.index("| Status | Severity | Check | Failing | Title |")
    assert lines[header + 1] == "|---|---|---|---:|---|"
    rows = [line for line in lines[header + 2:] if line.startswith("|")]
    assert len(rows) == 9  # one per check
    assert "| FAIL | high | iam.console_mfa | 4 | Title of iam.console_mfa |" in rows
    assert "**78/100**" in text
    assert "<script>" not in text
    assert md(NASTY) in text


def test_markdown_cell_cannot_break_the_table() -> None:
    assert md("a|b\nc") == "a\\|b c"


def test_junit_has_one_testcase_per_check(latest: tuple[AuditRun, RunDiff]) -> None:
    root = ET.fromstring(render_audit(*latest, AuditFormat.JUNIT))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name", "").split(":")[0]: case for case in suite.iter("testcase")}
    assert len(cases) == 9
    assert suite.get("tests") == "9"
    assert suite.get("failures") == "2"
    assert suite.get("errors") == "1"
    assert suite.get("skipped") == "2"  # waived and not applicable
    failure = cases["iam.console_mfa"].find("failure")
    assert failure is not None
    assert failure.get("message") == "4 resource(s) fail: Title of iam.console_mfa"
    assert NASTY in (failure.text or "")
    assert cases["guardduty.enabled"].find("error") is not None
    skipped = cases["account.alternate_contacts"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived: finance handles billing mail (until 2027-03-31)"
    assert list(cases["cloudtrail.enabled"]) == []  # passed


def test_same_run_renders_the_same_bytes(latest: tuple[AuditRun, RunDiff]) -> None:
    for fmt in (AuditFormat.HTML, AuditFormat.CSV, AuditFormat.MARKDOWN, AuditFormat.JUNIT):
        assert render_audit(*latest, fmt) == render_audit(*latest, fmt)


def test_pdf_html_lists_25_findings_per_check_and_names_the_csv() -> None:
    from report_seed import GENERATED, audit_run, findings_for

    from reports.audit_report import PDF_SHOWN_PER_CHECK, render_audit_html

    run = audit_run(GENERATED, findings_for(1, users_without_mfa=40))
    html = render_audit_html(run, None, PDF_SHOWN_PER_CHECK)
    assert html.count("can sign in to the console without MFA") == 24  # and the nasty one
    assert "... and 16 more finding(s) of this check" in html
    assert "irready report audit --format csv --output findings.csv" in html
    full = render_audit_html(run, None)
    assert full.count("can sign in to the console without MFA") == 40


@pytest.mark.parametrize(
    ("score", "previous", "change"),
    [
        pytest.param(79.4, 73.6, "+5", id="79 after 74 is +5, not the +6 of the raw scores"),
        pytest.param(80.4, 79.6, "+0", id="both print as 80"),
        pytest.param(40.0, 60.9, "-21", id="down"),
        pytest.param(50.0, None, "+50", id="no previous score"),
    ],
)
def test_the_score_change_is_the_difference_of_the_printed_scores(
        score: float, previous: float | None, change: str) -> None:
    from auditor.diff import score_change

    assert f"{score_change(score, previous):+d}" == change
