"""An investigation as Markdown, for the incident ticket: the verdict first, then
tables of follow-ups, source IPs, the timeline and others' mentions, in the terminal's
order. Values come from the logs, so table cells have their pipes and line breaks
escaped, and commands sit in code blocks a responder can copy."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from incident.investigate.model import Event, Investigation, OwnerType
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

MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>|!#~])")


def table_cell(text: str) -> str:
    """A value as the ticket shows it: an attacker's user agent or user name is text,
    never a link, an image, emphasis or HTML."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(table_cell(value) for value in row) + " |" for row in rows]
    return lines


def code_span(text: str) -> str:
    """Inline code that a backtick in the value cannot close early."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _code_block(text: str) -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [fence + "sh", text, fence]


def _event_row(event: Event) -> list[str]:
    return [when(event.event_time), "yes" if event.suspicious else "",
            f"{event.event_source}:{event.event_name}", event.region, event.access_key_id,
            " -> ".join(event.chain), event.source_ip, event.error_code,
            ", ".join(tactic.value for tactic in event.tactics), event.user_agent]


EVENT_HEADER = ("Time (UTC)", "Suspicious", "Event", "Region", "Key", "Chain", "Source IP",
                "Error", "Tactics", "User agent")


def render_markdown(inv: Investigation) -> str:
    lines = [f"# Investigation of {table_cell(inv.key)} in account {inv.account_id}", ""]
    if inv.owner.type is OwnerType.ROOT:
        lines += [f"**{ROOT_P1}**", ""]
    lines += [f"**{verdict_line(inv)}**", ""]
    if incomplete := incomplete_line(inv):
        lines += [f"**{incomplete}**", ""]
    lines += [f"- Investigation: {inv.investigation_id}, {when(inv.started_at)} to "
              f"{when(inv.finished_at)}",
              f"- Owner: {table_cell(owner_line(inv))}",
              *(f"- Note: {table_cell(note)}" for note in inv.notes),
              f"- Window: {when(inv.window.start)} to {when(inv.window.end)} (usual traffic "
              f"learned from {when(inv.window.baseline_start)})"]
    if bounds := first_and_last(inv):
        lines += [f"- {label} suspicious: {when(event.event_time)} "
                  f"{table_cell(event.event_name)} from {table_cell(event.source_ip)}"
                  for label, event in zip(("First", "Last"), bounds, strict=True)]
    counted = [f"{name} {count}" for name, count in tactics_seen(inv)]
    lines += [f"- Tactics: {', '.join(counted) or 'none'}", "", "## Sources", ""]
    lines += _table(("Kind", "Location", "Files", "Records", "Complete", "Not read"),
                    ([source.kind, source.location, str(source.files),
                      str(source.records_scanned), "yes" if source.complete else "NO",
                      "; ".join(source.notes)] for source in inv.sources))
    lines += ["", f"## Follow-ups ({len(inv.follow_ups)})", ""]
    for number, follow_up in enumerate(inv.follow_ups, start=1):
        note = valid_until(follow_up, inv.credentials)
        lines += [f"{number}. {follow_up.kind} {code_span(follow_up.resource)} "
                  f"({when(follow_up.event_time)}, event {follow_up.event_id})"
                  + (f": {note}" if note else ""), ""]
        if follow_up.command:
            lines += [*_code_block(follow_up.command), ""]
    if not inv.follow_ups:
        lines += ["None.", ""]
    lines += ["## Credentials", ""]
    lines += _table(("Key", "Kind", "From", "Principal", "Minted", "Valid until"),
                    ([credential.access_key_id, credential.kind.value,
                      credential.derived_from, credential.principal_arn,
                      when(credential.minted_at) if credential.minted_at else "",
                      when(credential.expires) if credential.expires else ""]
                     for credential in inv.credentials))
    lines += ["", "## Source IPs", ""]
    lines += _table(("IP", "New", "First seen", "Last seen", "Events"),
                    ([source_ip.ip, "NEW" if source_ip.new else "", when(source_ip.first_seen),
                      when(source_ip.last_seen), str(source_ip.events)]
                     for source_ip in inv.source_ips))
    shown = [event for event in inv.events if event.suspicious]
    lines += ["", f"## Timeline ({len(shown)} suspicious events)", ""]
    lines += _table(EVENT_HEADER, (_event_row(event) for event in shown))
    if usual := usual_line(inv):
        lines += ["", usual]
    lines += ["", "## Others' actions that name the key (not the attacker's)", ""]
    if inv.mentions:
        lines += _table(("Time (UTC)", "Event", "By", "Source IP"),
                        ([when(event.event_time), event.event_name, event.principal_arn,
                          event.source_ip] for event in inv.mentions))
    else:
        lines += ["None."]
    return "\n".join(lines) + "\n"
