"""The incident report (`irready investigate --format html|pdf`): read back from the PDF
for the demo's story, a quiet key, an incomplete search, a root key and a busy attacker
(the table is capped, the rest is named); what the logs hold (an attacker's user agent)
stays text; the same investigation gives the same bytes."""

from __future__ import annotations

import re
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from report_seed import pdf_pages

# the investigation fixtures live beside the investigate tests, which build them too
sys.path.insert(0, str(Path(__file__).parents[1] / "incident"))
from investigationkit import (
    BACKDOOR,
    LEAKED,
    ROLE_SESSION,
    SESSION,
    at,
    event,
    quiet_investigation,
    sample_investigation,
)

from incident.investigate.model import (
    Investigation,
    Owner,
    OwnerType,
    SkippedSource,
    SourceReport,
    Tactic,
)
from reports.investigation_report import (
    EVENT_ROWS_LIMIT,
    render_investigation_html,
    render_investigation_pdf,
)
from reports.investigation_words import ROOT_P1

XHTML = "{http://www.w3.org/1999/xhtml}"


def pdf_text(inv: Investigation) -> str:
    return " ".join(" ".join(pdf_pages(render_investigation_pdf(inv))).split())


def rows(html: str, table: str) -> list[ET.Element]:
    root = ET.fromstring(html)
    return root.findall(f".//{XHTML}table[@class='{table}']/{XHTML}tbody/{XHTML}tr")


def incomplete() -> Investigation:
    athena = SourceReport("athena", "athena:security.cloudtrail_logs", files=0,
                          records_scanned=1200, complete=False,
                          notes=("query 2 failed: HIVE_CURSOR_ERROR",),
                          queries=("qid-0001", "qid-0002"), bytes_scanned=3 * 1024**3)
    return quiet_investigation(
        complete=False, sources=(athena,),
        incomplete_because=("an Athena query failed (HIVE_CURSOR_ERROR)",),
        skipped_sources=(SkippedSource("lookup", "event history keeps only 90 days"),),
        notes=("the owner was read from the logs",))


def busy(count: int = 500) -> Investigation:
    burst = tuple(event(100 + n, at(12, 0) + timedelta(seconds=7 * n), "ListBuckets", "s3",
                        tactics=(Tactic.RECONNAISSANCE,)) for n in range(count))
    return sample_investigation(events=burst, follow_ups=())


@pytest.mark.pdf
def test_the_story_reads_back_in_order() -> None:
    text = pdf_text(sample_investigation())

    headings = ["SUSPICIOUS ACTIVITY: 9 suspicious event(s) and 7 follow-up(s).", "Timeline",
                "What the attacker touched", "What is still open", "Suspicious events (9)",
                "Evidence"]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert ("The access key AKIAEXAMPLELEAKED123 belongs to the IAM user "
            "app-integration-user in AWS account 123456789012.") in text
    assert ("Someone used it for 9 suspicious action(s) from 1 address(es) never seen "
            "before (203.0.113.9), first at 2026-12-01 12:11:03Z and last at "
            "2026-12-01 12:25:00Z.") in text
    assert "3 other credential(s) made from the key were used too." in text
    assert "tried to hide their tracks" in text
    assert "changed account settings such as contacts" in text
    assert "IAM users created (1)" in text
    assert "aws cloudtrail start-logging --name management-events" in text
    assert "Trails changed or deleted (1)" in text
    # the report is judged at the search's end: the first session is still valid then
    open_part = text[text.index("What is still open"):text.index("Suspicious events (9)")]
    assert re.search(r"2026-12-02 00:14:00 still valid", open_part)
    assert re.search(r"2026-12-01 13:20:00 expired", open_part)
    # the five follow-ups that are not sessions, each a row ending "HH:MM:SS to be confirmed"
    assert len(re.findall(r"\d\d:\d\d:\d\d to be confirmed", open_part)) == 5
    evidence = text[text.index("Evidence"):]
    assert "The search is complete" in evidence
    assert "s3://trail-logs-123456789012/org" in evidence
    assert "51234" in evidence
    assert "inv-20261201T130000Z-0001" in evidence
    assert "irready 0.1.0" in evidence
    assert "2 event(s) of the key's usual traffic" in text


@pytest.mark.pdf
def test_a_quiet_key_says_nothing_suspicious() -> None:
    text = pdf_text(quiet_investigation())

    assert "Nothing suspicious found." in text
    assert "Nothing suspicious was found: the key was used only as usual." in text
    assert "SUSPICIOUS" not in text
    assert "No temporary session was made with the key." in text
    assert "Nothing the attacker created or changed was found." in text
    assert "The search is complete" in text


@pytest.mark.pdf
def test_an_incomplete_search_never_says_nothing_found_alone() -> None:
    text = pdf_text(incomplete())

    assert "Nothing suspicious found." not in text
    assert "Nothing suspicious found in what could be read; the search was incomplete." in text
    assert "not a clean bill of health" in text
    assert ("The search is INCOMPLETE: an Athena query failed (HIVE_CURSOR_ERROR). What is "
            "not listed here may still have happened.") in text
    assert "athena:security.cloudtrail_logs" in text.replace(" ", "")  # wraps in its cell
    assert "qid-0001, qid-0002" in text
    assert "3.0 GB" in text
    assert "$0.0146" in text  # 3 GB at $5 per TB
    assert "Not read: query 2 failed: HIVE_CURSOR_ERROR" in text
    assert "event history keeps only 90 days" in text  # a source not searched, and why
    assert "the owner was read from the logs" in text


@pytest.mark.pdf
def test_a_root_key_is_a_p1_first() -> None:
    root = sample_investigation(owner=Owner(OwnerType.ROOT, "arn:aws:iam::123456789012:root",
                                            "", from_logs=False))
    text = pdf_text(root)

    assert text.index(" ".join(ROOT_P1.split())) < text.index("SUSPICIOUS ACTIVITY")
    assert "belongs to the account's root user in AWS account 123456789012" in text


@pytest.mark.pdf
def test_500_suspicious_events_show_200_and_name_the_rest() -> None:
    inv = busy()
    html = render_investigation_html(inv)

    assert len(rows(html, "events")) == EVENT_ROWS_LIMIT
    assert "300 more suspicious event(s) are not shown here" in html
    assert html.count('<circle cx=') == 500 + 1  # one mark per event, one in the legend
    started = time.perf_counter()
    text = pdf_text(inv)
    assert time.perf_counter() - started < 30
    assert "Suspicious events (500)" in text
    assert "300 more suspicious event(s) are not shown here" in text
    assert "--format json" in text


def test_attacker_strings_stay_text() -> None:
    script = "<script>alert(1)</script>"
    hostile = replace(sample_investigation().events[1], user_agent=script,
                      event_name="Get<b>Caller</b>")
    first = sample_investigation().follow_ups[0]
    inv = sample_investigation(
        events=(hostile, *sample_investigation().events[2:]),
        follow_ups=(replace(first, resource="evil</td><td>x", command="rm -rf / & <x>"),),
        notes=("a note with ]]> and <!-- markup",))
    html = render_investigation_html(inv)

    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Caller</b>" not in html
    assert "evil</td>" not in html
    ET.fromstring(html)  # well-formed: no attacker string opened or closed an element


def test_the_same_investigation_gives_the_same_html() -> None:
    first = render_investigation_html(sample_investigation())
    assert render_investigation_html(sample_investigation()) == first
    assert "2026-12-01T13:30:42" in first  # the creation time is the search's end, not now


def test_as_of_judges_which_session_is_still_valid() -> None:
    before = render_investigation_html(sample_investigation(), as_of=at(12, 30))
    after = render_investigation_html(sample_investigation(), as_of=at(23, 59) + timedelta(
        hours=1))

    assert [r[3][0].text for r in rows(before, "sessions")] == ["still valid", "still valid"]
    assert [r[3][0].text for r in rows(after, "sessions")] == ["expired", "expired"]
    assert [r[0].text for r in rows(after, "sessions")] == [SESSION, ROLE_SESSION]


def test_the_chart_draws_each_depth_of_the_chain() -> None:
    html = render_investigation_html(sample_investigation())
    chart = ET.fromstring(html).find(".//{http://www.w3.org/2000/svg}svg")
    assert chart is not None
    labels = [t.text for t in chart.iter("{http://www.w3.org/2000/svg}text")]
    assert labels[:4] == ["leaked key", "1 step down", "2 steps down", "3 steps down"]
    assert "defense evasion" in labels
    assert "2 event(s) of the key's usual traffic are not drawn." in labels
    quiet = ET.fromstring(render_investigation_html(quiet_investigation()))
    texts = [t.text for t in quiet.iter("{http://www.w3.org/2000/svg}text")]
    assert "no suspicious event" in texts


def test_the_tables_hold_every_credential_and_follow_up() -> None:
    html = render_investigation_html(sample_investigation())
    keys = [r[0].text for r in rows(html, "credentials")]
    assert keys == [LEAKED, SESSION, BACKDOOR, ROLE_SESSION]
    assert len(rows(html, "backdoors")) == 5
    assert len(rows(html, "followups")) == 7  # one table per kind, one row per follow-up


def test_no_source_read_is_said_in_bold() -> None:
    inv = quiet_investigation(
        sources=(), events=(), source_ips=(), complete=False,
        incomplete_because=("no source could be read: the bucket denied ListObjectsV2",),
        skipped_sources=(SkippedSource("athena", "no Athena table covers the trail"),))
    html = render_investigation_html(inv)

    assert "<p><b>No source could be read.</b></p>" in html
    assert "The search is INCOMPLETE: no source could be read: the bucket denied" in html
    assert [r[1].text for r in rows(html, "skipped")] == ["no Athena table covers the trail"]
    assert "Nothing suspicious found." not in html


def test_follow_ups_without_suspicious_events_are_still_told() -> None:
    inv = quiet_investigation(follow_ups=sample_investigation().follow_ups[:1])
    html = render_investigation_html(inv)

    assert "No action stood out as suspicious, but 1 thing(s) it created or changed" in html
    assert "listed below, each with the command" not in html  # said once, not twice
    assert [r[1].text for r in rows(html, "backdoors")] == ["backdoor-user"]


def test_every_tactic_has_its_own_mark() -> None:
    from reports.investigation_report import NO_TACTIC_MARK, TACTIC_MARKS

    marks = [*TACTIC_MARKS.values(), NO_TACTIC_MARK]
    assert set(TACTIC_MARKS) == set(Tactic)
    assert len(set(marks)) == len(marks)  # black and white: shape and fill tell them apart


def test_an_event_from_a_new_place_without_tactic_is_a_dot() -> None:
    new_place = event(50, at(12, 30), "DescribeInstances", "ec2")  # suspicious, no tactic
    html = render_investigation_html(sample_investigation(
        events=(*sample_investigation().events, new_place)))
    svg = ET.fromstring(html).find(".//{http://www.w3.org/2000/svg}svg")
    assert svg is not None
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert labels[-1] == "no tactic (new IP or user agent)"


@pytest.mark.pdf
def test_the_demo_story_investigated_from_a_forensic_copy_reads_back(tmp_path: Path) -> None:
    from investigatekit import story_in_folder

    from auditor.clock import utcnow
    from incident.investigate.run import Request, run_investigation
    from incident.investigate.source_spec import parse_sources
    from incident.investigate.window import make_window

    key = "AKIAQDEMOLEAKEDKEY01"
    story_in_folder(tmp_path / "copy", key)
    window = make_window(utcnow(), since="7d", start=None, end=None, baseline="14d")
    inv = run_investigation(Request(key, window, parse_sources([f"local:{tmp_path / 'copy'}"])),
                            context=None, snapshot_of=lambda account: None, clock=utcnow)
    assert inv.suspicious

    text = pdf_text(inv)
    assert f"The access key {key} belongs to the IAM user app-integration-user" in text
    assert f"SUSPICIOUS ACTIVITY: {len(inv.suspicious)} suspicious event(s)" in text
    assert f"Suspicious events ({len(inv.suspicious)})" in text
    expected = "The search is complete" if inv.complete else "The search is INCOMPLETE"
    assert expected in text
    html = render_investigation_html(inv)
    assert inv.follow_ups
    commands = [follow_up.command for follow_up in inv.follow_ups if follow_up.command]
    assert commands
    for command in commands:  # every command, exactly, for the responder to copy
        assert f"<code>{escape(command)}</code>" in html
