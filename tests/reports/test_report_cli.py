"""`irready report compliance|audit|drill` end to end through the command line, on a
seeded history file: files written, exit codes, and the one line a user sees when the
input is wrong."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clikit import irready
from report_seed import GENERATED, GOOD_DRILL, OTHER_ACCOUNT, pdf_pages

from auditor.store import HistoryStore


@pytest.fixture
def history(store: HistoryStore, run_ids: list[int]) -> Path:
    return store.path


@pytest.mark.pdf
def test_compliance_pdf_for_a_quarter(history: Path, tmp_path: Path) -> None:
    output = tmp_path / "q4.pdf"
    epoch = str(int(GENERATED.timestamp()))
    result = irready("report", "compliance", "--history", history, "--quarter", "2026Q4",
                     "--alias", "prod-main", "--output", output,
                     env={"SOURCE_DATE_EPOCH": epoch})
    assert (result.exit_code, result.stderr) == (0, f"wrote {output}\n")
    cover = pdf_pages(output.read_bytes())[0]
    assert "prod-main" in cover
    assert "Generated 2027-01-04 09:30 UTC" in cover


def test_compliance_format_says_what_a_name_without_a_suffix_holds(history: Path,
                                                                   tmp_path: Path) -> None:
    output = tmp_path / "q4-report"
    result = irready("report", "compliance", "--history", history, "--quarter", "2026Q4",
                     "--format", "html", "--output", output)
    assert (result.exit_code, result.stderr) == (0, f"wrote {output}\n")
    assert output.read_text().startswith("<!DOCTYPE html>")
    assert "Leaked-key readiness report" in output.read_text()


def test_audit_report_junit_to_a_file(history: Path, tmp_path: Path) -> None:
    output = tmp_path / "audit.xml"
    result = irready("report", "audit", "--history", history, "--run", "2", "--format",
                     "junit", "--output", output)
    assert (result.exit_code, result.stderr) == (0, f"wrote {output}\n")
    suite = ET.parse(output).getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["run_id"] == "2"


def test_audit_report_defaults_to_the_newest_run_on_stdout(history: Path) -> None:
    result = irready("report", "audit", "--history", history, "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["run_id"] == 4
    assert document["changes"]["previous_run_id"] == 3


def test_drill_report_json(history: Path) -> None:
    result = irready("report", "drill", "--history", history, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["drill"]["drill_id"] == GOOD_DRILL  # the newest


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(("report", "audit", "--run", "99"), "no audit run with id 99 in {history}",
                 id="unknown run id"),
    pytest.param(("report", "drill", "--drill", "d-nope"), "no drill with id 'd-nope' in "
                 "{history}", id="unknown drill id"),
    pytest.param(("report", "compliance", "--quarter", "2025Q1", "--output", "{tmp}/r.pdf"),
                 "no audit runs or drills for 2025-01-01 to 2025-03-31 in {history}: run "
                 "`irready audit` first, or choose another period", id="period without data"),
    pytest.param(("report", "compliance", "--quarter", "2026Q4", "--output",
                  "{tmp}/missing/r.pdf"),
                 "cannot write {tmp}/missing/r.pdf: folder {tmp}/missing does not exist",
                 id="output folder missing"),
    pytest.param(("report", "audit", "--format", "csv", "--output", "{tmp}/missing/a.csv"),
                 "cannot write {tmp}/missing/a.csv: folder {tmp}/missing does not exist",
                 id="audit output folder missing"),
    pytest.param(("report", "audit", "--run", "2", "--account", OTHER_ACCOUNT),
                 f"audit run 2 is of account 123456789012, not {OTHER_ACCOUNT}",
                 id="a run of another account than --account"),
    pytest.param(("report", "drill", "--drill", GOOD_DRILL, "--account", OTHER_ACCOUNT),
                 f"drill {GOOD_DRILL} is of account 123456789012, not {OTHER_ACCOUNT}",
                 id="a drill of another account than --account"),
    pytest.param(("report", "compliance", "--quarter", "2026Q4", "--since", "2026-10-01",
                  "--output", "{tmp}/r.pdf"),
                 "--since and --quarter exclude each other; pass one of them",
                 id="two periods"),
])
def test_bad_input_is_one_line_and_exit_2(history: Path, tmp_path: Path,
                                          args: tuple[str, ...], message: str) -> None:
    filled = [a.format(tmp=tmp_path) for a in args]
    result = irready(*filled, "--history", history)
    assert result.exit_code == 2
    assert result.stderr == f"irready: error: {message.format(history=history, tmp=tmp_path)}\n"
    assert result.stdout == ""


def test_history_file_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    result = irready("report", "audit", "--history", missing)
    assert result.exit_code == 2
    assert result.stderr == (f"irready: error: no history store at {missing}: run `irready audit` "
                   "first, or pass --history PATH\n")
    assert not missing.exists()


@pytest.mark.pdf
def test_audit_command_writes_the_new_formats_directly(aws: object, tmp_path: Path) -> None:
    """`irready audit --format pdf` on an (empty) moto account: the same renderers."""
    output = tmp_path / "audit.pdf"
    result = irready("audit", "--regions", "us-east-1", "--check", "cloudtrail",
                     "--history", tmp_path / "h.sqlite3", "--format", "pdf",
                     "--output", output)
    assert result.exit_code == 1  # no trail: cloudtrail checks fail
    assert f"wrote {output}" in result.stderr
    text = "\n".join(pdf_pages(output.read_bytes()))
    assert "cloudtrail.enabled" in text
    assert "Page 1 of" in text
