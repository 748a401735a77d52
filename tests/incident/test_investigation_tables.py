"""The investigation for the ticket (Markdown) and for spreadsheets (CSV): the verdict
and tables in the terminal's order, cells that a pipe or a formula cannot break."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from investigationkit import (
    ACCOUNT,
    EVENTS,
    FOLLOW_UPS,
    MENTIONS,
    quiet_investigation,
    sample_investigation,
)

from incident.investigate.jsonform import event_dict
from incident.investigate.model import Owner, OwnerType
from reports.investigation_csv import COLUMNS, render_csv
from reports.investigation_markdown import render_markdown


def cells(row: str) -> list[str]:
    """A Markdown table row split on its unescaped pipes."""
    parts, current, escaped = [], "", False
    for char in row.strip().strip("|"):
        if char == "|" and not escaped:
            parts.append(current.strip())
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*parts, current.strip()]


def test_markdown_follows_the_terminals_order() -> None:
    text = render_markdown(sample_investigation())
    order = [text.index(part) for part in (
        "# Investigation of AKIAEXAMPLELEAKED123 in account 123456789012",
        "**SUSPICIOUS ACTIVITY: 9 suspicious event(s) and 7 follow-up(s).**",
        "- Owner: IAM user app-integration-user", "- First suspicious: 2026-12-01 12:11:03Z",
        "## Sources", "## Follow-ups (7)", "## Credentials", "## Source IPs",
        "## Timeline (9 suspicious events)", "## Others' actions that name the key")]
    assert order == sorted(order)
    assert "INCOMPLETE" not in text


def test_markdown_commands_sit_in_code_blocks() -> None:
    lines = render_markdown(sample_investigation()).splitlines()
    for follow_up in FOLLOW_UPS:
        where = lines.index(follow_up.command)
        assert lines[where - 1] == "```sh"
        assert lines[where + 1] == "```"
    assert any(line.startswith("4. session `ASIAEXAMPLESESSION01`") and
               line.endswith("valid until 2026-12-02 00:14:00Z") for line in lines)


def test_a_command_holding_a_fence_gets_a_longer_one() -> None:
    command = "echo '```' | aws iam delete-user --user-name x"
    text = render_markdown(sample_investigation(
        follow_ups=(replace(FOLLOW_UPS[0], command=command),)))
    assert f"````sh\n{command}\n````" in text


def test_a_backtick_in_a_resource_cannot_close_its_code_span() -> None:
    text = render_markdown(sample_investigation(
        follow_ups=(replace(FOLLOW_UPS[0], resource="odd`name"),)))
    assert "1. user ``odd`name`` (2026-12-01 12:16:00Z" in text


def test_markdown_says_a_root_key_is_a_p1_and_where_the_owner_came_from() -> None:
    owner = Owner(OwnerType.ROOT, f"arn:aws:iam::{ACCOUNT}:root", "", from_logs=True)
    lines = render_markdown(sample_investigation(owner=owner)).splitlines()
    assert lines[2].startswith("**This is the account's root key: a P1 incident.")
    assert ("- Owner: the root user of 123456789012 (arn:aws:iam::123456789012:root); "
            "owner from the logs (no AWS access)") in lines


def test_a_pipe_in_a_value_stays_in_its_cell() -> None:
    agent = "curl/8.0 | [evil]\nsecond line"
    inv = sample_investigation(events=(replace(EVENTS[1], user_agent=agent),))
    lines = render_markdown(inv).splitlines()
    header = lines.index("## Timeline (1 suspicious events)") + 2
    assert cells(lines[header]) == ["Time (UTC)", "Suspicious", "Event", "Region", "Key",
                                    "Chain", "Source IP", "Error", "Tactics", "User agent"]
    row = cells(lines[header + 2])
    assert len(row) == 10
    assert row[-1] == "curl/8.0 \\| \\[evil\\] second line"
    assert row[:3] == ["2026-12-01 12:11:03Z", "yes", "sts.amazonaws.com:GetCallerIdentity"]


def test_markdown_of_an_incomplete_quiet_search() -> None:
    text = render_markdown(quiet_investigation(
        complete=False, incomplete_because=("us-west-2: AccessDenied",)))
    assert ("**Nothing suspicious found in what could be read; the search was "
            "incomplete.**") in text
    assert "**INCOMPLETE: us-west-2: AccessDenied**" in text
    assert "## Follow-ups (0)\n\nNone." in text


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_event_then_mentions() -> None:
    text = render_csv(sample_investigation())
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = read_csv(text)
    assert [row["kind"] for row in rows] == ["attacker"] * len(EVENTS) + ["mention"]
    assert [row["event_id"] for row in rows] == [e.event_id for e in (*EVENTS, *MENTIONS)]
    attached = rows[6]
    assert attached["event_name"] == "AttachUserPolicy"
    assert attached["tactics"] == "persistence;privilege_escalation"
    assert attached["chain"] == "AKIAEXAMPLELEAKED123;ASIAEXAMPLESESSION01"
    assert attached["suspicious"] == "true"
    assert attached["event_time"] == "2026-12-01T12:17:00.000Z"
    assert rows[2]["error_code"] == "AccessDenied"
    assert rows[0]["suspicious"] == "false"


def test_csv_columns_are_the_json_event_fields() -> None:
    assert set(COLUMNS) == {"kind", *event_dict(EVENTS[0])}


def test_csv_cells_cannot_run_as_formulas() -> None:
    inv = sample_investigation(events=(
        replace(EVENTS[1], user_agent="=HYPERLINK(\"http://x.invalid\")",
                event_name="+SUM(A1)", principal_arn="@evil", source_ip="-1+1"),))
    row = read_csv(render_csv(inv))[0]
    assert row["user_agent"] == "'=HYPERLINK(\"http://x.invalid\")"
    assert row["event_name"] == "'+SUM(A1)"
    assert row["principal_arn"] == "'@evil"
    assert row["source_ip"] == "'-1+1"


def test_csv_of_a_quiet_search_has_its_usual_traffic_only() -> None:
    rows = read_csv(render_csv(quiet_investigation()))
    assert [(row["event_name"], row["suspicious"]) for row in rows] == [
        ("DescribeInstances", "false"), ("DescribeInstances", "false")]
