"""The drill report (`irready drill rotate --report`, `irready report drill`): step
times, total against target, propagation wait, outcome and earlier drills, in each
format; secrets a caller left in a step's detail never reach it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import pytest
from report_seed import FAILED_DRILL, GOOD_DRILL, Q3_DRILL, STEP_SECONDS, pdf_pages
from schema_check import errors

from auditor.errors import UsageError
from auditor.store import DrillRecord, HistoryStore
from reports.drill_report import DrillFormat, render_drill, write_drill_report


@pytest.fixture
def good(store: HistoryStore, run_ids: list[int]) -> tuple[DrillRecord, list[DrillRecord]]:
    record = store.load_drill(GOOD_DRILL)
    earlier = store.drills(until=record.started_at)
    return record, earlier


@pytest.mark.pdf
def test_pdf_shows_steps_total_target_and_earlier_drills(
        good: tuple[DrillRecord, list[DrillRecord]], tmp_path: Path) -> None:
    record, earlier = good
    path = write_drill_report(record, earlier, tmp_path / "drill.pdf", DrillFormat.PDF)
    pages = pdf_pages(path.read_bytes())
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert f"irready rotation drill {GOOD_DRILL}" in pages[0]  # running header
    text = "\n".join(pages)
    assert "Outcome: SUCCEEDED" in text
    assert "4.2 min, within the 15 min target" in text
    assert "rotated; the old key is inactive" in text
    for name, _ in STEP_SECONDS:
        assert name.value in text
    assert "2.9 min" in text  # propagation wait, 172.5 s
    assert FAILED_DRILL in text
    assert Q3_DRILL in text
    assert "must-not-show" not in text
    assert "[redacted]" in text


def test_json_follows_its_schema_and_redacts(good: tuple[DrillRecord, list[DrillRecord]]
                                             ) -> None:
    record, earlier = good
    document = json.loads(render_drill(record, earlier, DrillFormat.JSON))
    schema = json.loads(files("reports").joinpath("schemas/drill-report.schema.json")
                        .read_text())
    assert errors(document, schema) == []
    assert document["drill"]["rotation_seconds"] == 250.0
    assert document["propagation_seconds"] == 172.5
    assert [d["drill_id"] for d in document["earlier"]] == [FAILED_DRILL, Q3_DRILL]
    publish = next(step for step in document["drill"]["steps"] if step["step"] == "publish")
    assert publish["detail"]["SecretAccessKey"] == "[redacted]"
    assert "must-not-show" not in json.dumps(document)


def test_html_is_well_formed(good: tuple[DrillRecord, list[DrillRecord]]) -> None:
    root = ET.fromstring(render_drill(*good, DrillFormat.HTML))
    rows = root.findall(".//{http://www.w3.org/1999/xhtml}table[@class='steps']/"
                        "{http://www.w3.org/1999/xhtml}tbody/{http://www.w3.org/1999/xhtml}tr")
    assert len(rows) == 7


def test_failed_drill_says_where_it_failed(store: HistoryStore, run_ids: list[int]) -> None:
    html = render_drill(store.load_drill(FAILED_DRILL), [], DrillFormat.HTML).decode()
    assert "failed: the rotation did not complete" in html
    assert "verify_new_key: the new key was not accepted within 180 s" in html
    assert "This is the first drill recorded for this account" in html


def test_a_drill_is_not_compared_with_itself(good: tuple[DrillRecord, list[DrillRecord]]
                                             ) -> None:
    record, earlier = good
    document = json.loads(render_drill(record, [record, *earlier], DrillFormat.JSON))
    assert GOOD_DRILL not in [d["drill_id"] for d in document["earlier"]]


def test_unknown_format_and_missing_folder_are_one_line_errors(
        good: tuple[DrillRecord, list[DrillRecord]], tmp_path: Path) -> None:
    record, earlier = good
    with pytest.raises(UsageError) as caught:
        write_drill_report(record, earlier, tmp_path / "d.txt", "docx")
    assert caught.value.format_message() == ("unknown drill report format 'docx' (expected "
                                             "html, pdf, json)")
    missing = tmp_path / "nowhere" / "d.html"
    with pytest.raises(UsageError) as caught:
        write_drill_report(record, earlier, missing, "html")
    assert caught.value.format_message() == (f"cannot write {missing}: folder "
                                             f"{missing.parent} does not exist")


@pytest.mark.pdf
def test_a_drill_resumed_without_the_old_secret_says_how_the_old_key_was_checked(
        good: tuple[DrillRecord, list[DrillRecord]], tmp_path: Path) -> None:
    from dataclasses import replace

    record, earlier = good
    resumed = replace(record, detail={**record.detail, "old_key_check": "status_only"})
    document = json.loads(render_drill(resumed, earlier, DrillFormat.JSON))
    schema = json.loads(files("reports").joinpath("schemas/drill-report.schema.json")
                        .read_text())
    assert errors(document, schema) == []
    assert document["drill"]["old_key_check"] == "status_only"
    text = " ".join(" ".join(pdf_pages(write_drill_report(
        resumed, earlier, tmp_path / "drill.pdf", DrillFormat.PDF).read_bytes())).split())
    assert ("Old key check status_only: the old key was checked by its status only "
            "(Inactive in IAM): its secret was gone, so AWS's refusal could not be tried"
            ) in text
    plain = json.loads(render_drill(record, earlier, DrillFormat.JSON))
    assert plain["drill"]["old_key_check"] is None
    assert "Old key check" not in render_drill(record, earlier, DrillFormat.HTML).decode()
