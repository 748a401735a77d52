"""The terminal view of an investigation, read back as text from a recording console
80 columns wide: the verdict before the timeline, the worst-day wording (a root key,
an owner read from the logs, an incomplete search) and commands that copy and paste."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from investigationkit import (
    ACCOUNT,
    EVENTS,
    FOLLOW_UPS,
    NEW_IP,
    quiet_investigation,
    sample_investigation,
    usual,
)
from rich.console import Console

from incident.investigate.model import Investigation, Owner, OwnerType
from reports.investigation_terminal import print_investigation

INCOMPLETE = ("us-west-2/2026/12/01: AccessDenied on ListObjectsV2",
              "a session assumed into 111122223333 was not followed")


def render(inv: Investigation, **options: int) -> str:
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    print_investigation(console, inv, **options)
    return console.export_text()


def flat(text: str) -> str:
    """The text with the console's wrapping undone, to find a phrase."""
    return " ".join(text.split())


def test_the_verdict_comes_before_the_timeline() -> None:
    text = render(sample_investigation())
    lines = text.splitlines()
    assert lines[1] == "SUSPICIOUS ACTIVITY: 9 suspicious event(s) and 7 follow-up(s)."
    order = [text.index(part) for part in (
        "Owner: IAM user app-integration-user", "Window: 2026-11-29 00:00:00Z",
        "Source: s3 s3://trail-logs-123456789012/org", "First suspicious: 2026-12-01 12:11:03Z",
        "Last suspicious: 2026-12-01 12:25:00Z", "Tactics: account manipulation 1",
        "Follow-ups (7)", "Source IPs:", "Timeline (9 suspicious event(s)",
        "Others' actions that name the key (not the attacker's):")]
    assert order == sorted(order)
    assert "INCOMPLETE" not in text
    assert "nothing suspicious" not in text.lower()


def test_timeline_marks_chain_errors_tactics_and_new_ips() -> None:
    lines = render(sample_investigation()).splitlines()
    stopped = next(line for line in lines if "StopLogging" in line)
    assert stopped.startswith("! 12:22:00 cloudtrail:StopLogging >>> ASIAEXAMPLEROLESESS1")
    denied = next(line for line in lines if "ListBuckets" in line)
    assert denied.startswith("! 12:12:00 s3:ListBuckets AKIAEXAMPLELEAKED123")
    # the key's usual traffic is counted, not listed: it would bury the attacker's calls
    assert not [line for line in lines if "DescribeInstances" in line]
    assert ("2 event(s) of the key's usual traffic (known IPs and user agents, no tactic; "
            "from 198.51.100.23) are not listed here") in flat("\n".join(lines))
    assert any("AccessDenied [permission_probing]" in line for line in lines)
    new_ip = next(line for line in lines if line.startswith(f"  {NEW_IP}"))
    assert "NEW 2026-12-01 12:11:03Z .. 2026-12-01 12:25:00Z, 9 events" in new_ip
    known = next(line for line in lines if line.startswith("  198.51.100.23"))
    assert "NEW" not in known
    mention = lines.index("Others' actions that name the key (not the attacker's):")
    assert "UpdateAccessKey by" in lines[mention + 1]


def test_an_event_in_another_account_names_it() -> None:
    elsewhere = replace(EVENTS[8], account_id="111122223333")
    text = flat(render(sample_investigation(events=(EVENTS[1], elsewhere))))
    assert ("! 12:22:00 cloudtrail:StopLogging >>> ASIAEXAMPLEROLESESS1 203.0.113.9 "
            "us-east-1 in account 111122223333 [defense_evasion]") in text
    assert "203.0.113.9 us-east-1 [reconnaissance]" in text


def test_each_command_has_a_line_of_its_own_that_copies_whole() -> None:
    lines = render(sample_investigation()).splitlines()
    for follow_up in FOLLOW_UPS:
        assert f"   {follow_up.command}" in lines
    session = lines.index("4. session ASIAEXAMPLESESSION01 (2026-12-01 12:14:00Z)")
    assert lines[session + 1:session + 3] == ["   valid until 2026-12-02 00:14:00Z",
                                              f"   {FOLLOW_UPS[3].command}"]


def test_a_session_says_until_when_it_stays_valid() -> None:
    text = flat(render(sample_investigation()))
    assert "session ASIAEXAMPLEROLESESS1 from AKIAEXAMPLEBACKDOOR1, valid until " \
           "2026-12-01 13:20:00Z" in text
    assert "valid until 2026-12-02 00:14:00Z" in text


@pytest.mark.parametrize("command", [
    pytest.param("aws iam delete-user --user-name '[red]x[/red]'", id="markup"),
    pytest.param("aws s3api put-bucket-policy --bucket b --policy '{\"A\":[\"[/]\"]}'",
                 id="json with brackets"),
    pytest.param("aws iam delete-user --user-name x \\", id="a trailing backslash"),
    pytest.param("echo \\[bold]x :smile:", id="an escaped bracket and an emoji code"),
])
def test_a_command_prints_exactly_as_given(command: str) -> None:
    inv = sample_investigation(follow_ups=(replace(FOLLOW_UPS[0], command=command),))
    assert f"   {command}" in render(inv).splitlines()


def test_text_from_the_logs_is_never_read_as_markup() -> None:
    inv = sample_investigation(events=(replace(
        EVENTS[1], event_name="[blink]Get[/blink]", source_ip=":smile:"),))
    assert "sts:[blink]Get[/blink] AKIAEXAMPLELEAKED123 :smile: us-east-1" in render(inv)


def test_every_line_but_a_command_fits_80_columns() -> None:
    commands = {f"   {follow_up.command}" for follow_up in FOLLOW_UPS}
    lines = render(sample_investigation()).splitlines()
    assert [line for line in lines if len(line) > 80 and line not in commands] == []


def test_an_incomplete_search_never_says_nothing_was_found_alone() -> None:
    text = render(quiet_investigation(complete=False, incomplete_because=INCOMPLETE))
    lines = text.splitlines()
    assert lines[1] == ("Nothing suspicious found in what could be read; the search was "
                        "incomplete.")
    assert lines[2].startswith("INCOMPLETE: us-west-2/2026/12/01: AccessDenied on")
    assert "111122223333 was not followed" in flat(text)
    assert "Nothing suspicious found.\n" not in text


def test_an_incomplete_search_with_findings_still_says_it_is_incomplete() -> None:
    lines = render(sample_investigation(complete=False,
                                        incomplete_because=INCOMPLETE)).splitlines()
    assert lines[1].startswith("SUSPICIOUS ACTIVITY")
    assert lines[2].startswith("INCOMPLETE: us-west-2/2026/12/01")


def test_a_complete_quiet_search_says_nothing_suspicious_found() -> None:
    text = render(quiet_investigation())
    assert text.splitlines()[1] == "Nothing suspicious found."
    assert "Follow-ups: none" in text
    assert "First suspicious" not in text
    assert "Tactics: none" in text


def test_a_root_key_is_a_p1_said_on_the_first_line() -> None:
    inv = sample_investigation(owner=Owner(OwnerType.ROOT, f"arn:aws:iam::{ACCOUNT}:root",
                                           "", from_logs=False))
    text = render(inv)
    assert text.splitlines()[0].startswith("This is the account's root key: a P1")
    assert f"Owner: the root user of {ACCOUNT}" in text


def test_an_owner_read_from_the_logs_says_so() -> None:
    inv = sample_investigation(owner=replace(sample_investigation().owner, from_logs=True))
    assert "owner from the logs (no AWS access)" in flat(render(inv))
    assert "owner from the logs" not in render(sample_investigation())


def test_an_unknown_owner_is_named_unknown() -> None:
    inv = quiet_investigation(owner=Owner(OwnerType.UNKNOWN, "", "", from_logs=True))
    assert "Owner: unknown" in render(inv)


def test_a_long_timeline_points_to_json_and_csv() -> None:
    many = tuple(replace(usual(100 + minute, EVENTS[0].event_time + timedelta(minutes=minute)),
                         suspicious=True) for minute in range(250))
    text = render(quiet_investigation(events=many))
    assert "... 50 more: see --format json/csv" in text
    assert sum(line.startswith("! ") and "DescribeInstances" in line
               for line in text.splitlines()) == 200
    assert "more: see" not in render(quiet_investigation(events=many), limit=300)
