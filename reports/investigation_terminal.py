"""An investigation on the terminal, read on the worst day: the verdict first (who owns
the key, what was searched, whether anything suspicious happened and what to undo),
then the timeline. Everything that comes from the logs (event names, ARNs, user agents,
the commands built from them) is printed as rich `Text`, never as markup: an attacker
chooses their user agent, and a command must copy and paste exactly as shown."""

from __future__ import annotations

from datetime import UTC

from rich.console import Console
from rich.text import Text

from incident.investigate.model import CredentialKind, Event, Investigation, OwnerType
from reports.investigation_words import (
    ROOT_P1,
    first_and_last,
    incomplete_line,
    owner_line,
    tactics_seen,
    usual_line,
    valid_until,
    verdict_line,
    when,
)

TIMELINE_LIMIT = 200  # more than a screen can hold is read as JSON or CSV


def key_label(event: Event) -> str:
    """The signing key with its depth in the chain: `>> ASIA...` is two steps from the
    leaked key; the full chain is in the JSON and CSV."""
    depth = max(len(event.chain) - 1, 0)
    return (">" * depth + " " if depth else "") + event.access_key_id


def _print_header(console: Console, inv: Investigation) -> None:
    if inv.owner.type is OwnerType.ROOT:
        console.print(Text(ROOT_P1, style="bold red"))
    console.print(Text.assemble(("Leaked key ", "bold"), (inv.key, "bold"),
                                f" in account {inv.account_id}"))
    style = "bold red" if inv.suspicious or inv.follow_ups else (
        "bold yellow" if not inv.complete else "bold green")
    console.print(Text(verdict_line(inv), style=style))
    if incomplete := incomplete_line(inv):
        console.print(Text(incomplete, style="bold yellow"))


def _print_summary(console: Console, inv: Investigation) -> None:
    console.print(Text(f"Investigation {inv.investigation_id}: {when(inv.started_at)} to "
                       f"{when(inv.finished_at)}", style="dim"))
    console.print(Text("Owner: " + owner_line(inv)))
    for note in inv.notes:
        console.print(Text(f"Note: {note}", style="dim"))
    window = inv.window
    console.print(Text(f"Window: {when(window.start)} to {when(window.end)} "
                       f"(usual traffic learned from {when(window.baseline_start)})"))
    for source in inv.sources:
        state = "complete" if source.complete else "INCOMPLETE"
        console.print(Text(f"Source: {source.kind} {source.location}: {source.files} "
                           f"file(s), {source.records_scanned} record(s), {state}"))
        for note in source.notes:
            console.print(Text(f"  not read: {note}", style="yellow"))
    if not inv.sources:
        console.print(Text("Source: none could be read", style="yellow"))
    if bounds := first_and_last(inv):
        for label, event in zip(("First", "Last"), bounds, strict=True):
            console.print(Text(f"{label} suspicious: {when(event.event_time)} "
                               f"{event.event_name} from {event.source_ip}"))
    console.print(Text("Tactics: " + (", ".join(f"{name.replace('_', ' ')} {count}"
                                                for name, count in tactics_seen(inv))
                                      or "none")))


def _print_credentials(console: Console, inv: Investigation) -> None:
    if len(inv.credentials) <= 1:
        return
    console.print(Text("\nCredentials the leaked key led to:", style="bold"))
    for credential in inv.credentials:
        line = f"  {credential.kind.value:<7} {credential.access_key_id}"
        if credential.derived_from:
            line += f" from {credential.derived_from}"
        if credential.kind is CredentialKind.SESSION and credential.expires:
            line += f", valid until {when(credential.expires)}"
        console.print(Text(line))
        if credential.principal_arn:
            console.print(Text(f"          {credential.principal_arn}", style="dim"))


def _print_follow_ups(console: Console, inv: Investigation) -> None:
    if not inv.follow_ups:
        console.print(Text("\nFollow-ups: none"))
        return
    console.print(Text(f"\nFollow-ups ({len(inv.follow_ups)}): what the attacker left, and "
                       "the command that undoes it", style="bold"))
    for number, follow_up in enumerate(inv.follow_ups, start=1):
        console.print(Text(f"{number}. {follow_up.kind} {follow_up.resource} "
                           f"({when(follow_up.event_time)})"))
        if note := valid_until(follow_up, inv.credentials):
            console.print(Text(f"   {note}", style="yellow"))
        # One line of its own, never wrapped and never read as markup: copy-paste ready.
        # Text rather than markup.escape(): escape doubles a trailing backslash.
        if follow_up.command:
            console.print(Text("   " + follow_up.command), soft_wrap=True)


def _print_source_ips(console: Console, inv: Investigation) -> None:
    if not inv.source_ips:
        return
    console.print(Text("\nSource IPs:", style="bold"))
    for source_ip in inv.source_ips:
        console.print(Text.assemble(
            f"  {source_ip.ip:<15} ",
            ("NEW " if source_ip.new else "    ", "bold red"),
            f"{when(source_ip.first_seen)} .. {when(source_ip.last_seen)}, "
            f"{source_ip.events} events", style="" if source_ip.new else "dim"))


def event_text(event: Event, account_id: str = "") -> Text:
    """One line of the timeline; an event logged in another account (a role assumed
    across accounts) names that account."""
    usual = not event.suspicious and not event.tactics
    line = Text(style="dim" if usual else "")
    line.append("! " if event.suspicious else "  ", style="bold red")
    line.append(f"{event.event_time.astimezone(UTC):%H:%M:%S} "
                f"{event.event_source.split('.')[0]}:{event.event_name} "
                f"{key_label(event)} {event.source_ip} {event.region}")
    if event.account_id and account_id and event.account_id != account_id:
        line.append(f" in account {event.account_id}", style="bold")
    if event.error_code:
        line.append(f" {event.error_code}", style="yellow")
    if event.tactics:
        line.append(" [" + ", ".join(tactic.value for tactic in event.tactics) + "]",
                    style="bold")
    return line


def _print_timeline(console: Console, inv: Investigation, limit: int) -> None:
    shown = [event for event in inv.events if event.suspicious]
    console.print(Text(f"\nTimeline ({len(shown)} suspicious event(s); > one step down the "
                       "chain from the leaked key):", style="bold"))
    day = ""
    for event in shown[:limit]:
        if (today := f"{event.event_time.astimezone(UTC):%Y-%m-%d}") != day:
            day = today
            console.print(Text(f" {day} (UTC)", style="bold"))
        console.print(event_text(event, inv.account_id))
    if len(shown) > limit:
        console.print(Text(f"... {len(shown) - limit} more: see --format json/csv"))
    if usual := usual_line(inv):
        console.print(Text(usual, style="dim"))
    if inv.mentions:
        console.print(Text("\nOthers' actions that name the key (not the attacker's):",
                           style="bold"))
        for mention in inv.mentions[:limit]:
            console.print(Text(f"  {when(mention.event_time)} {mention.event_name} by "
                               f"{mention.principal_arn} from {mention.source_ip}"))
        if len(inv.mentions) > limit:
            console.print(Text(f"... {len(inv.mentions) - limit} more: "
                               "see --format json/csv"))


def print_investigation(console: Console, inv: Investigation, *,
                        limit: int = TIMELINE_LIMIT) -> None:
    _print_header(console, inv)
    _print_summary(console, inv)
    _print_follow_ups(console, inv)
    _print_credentials(console, inv)
    _print_source_ips(console, inv)
    _print_timeline(console, inv, limit)
