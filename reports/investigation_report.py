"""The incident report of one investigation, as HTML and PDF, for the people who were not
in the room (management, legal, the customer): what happened in plain words, a timeline
chart, what the attacker touched, what is still open, the suspicious events, and the
evidence behind it all (every source, what it could not read, the query ids and their
cost). The terminal and the Markdown ticket tell the same story from the same words
(reports/investigation_words.py).

The model holds no secret, and nothing here adds one. The output depends only on the
investigation and `as_of` (default: when the investigation finished), never on the
clock, so the same investigation gives the same bytes. Everything from the logs (a user
agent, a resource name) is escaped by the template: an attacker chooses those."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from auditor import __version__
from auditor.clock import iso
from incident.investigate.model import (
    CredentialKind,
    Event,
    FollowUp,
    Investigation,
    OwnerType,
    SourceReport,
    Tactic,
)
from reports.charts import Mark, Shape, event_timeline
from reports.investigation_words import (
    ROOT_P1,
    first_and_last,
    incomplete_line,
    owner_line,
    usual_line,
    valid_until,
    verdict_line,
    when,
)

EVENT_ROWS_LIMIT = 200  # weasyprint's cost grows with rows (~0.9 s for 200): the rest is JSON/CSV
CHART_ROWS = 5  # chain depths drawn; deeper keys share the last row

TACTIC_WORDS: Mapping[Tactic, str] = {
    Tactic.RECONNAISSANCE: "looked around the account (who the key is, what exists)",
    Tactic.PERMISSION_PROBING: "tried actions to find out what the key is allowed to do",
    Tactic.PERSISTENCE: "created ways back in (users, keys, roles)",
    Tactic.PRIVILEGE_ESCALATION: "gave themselves more rights",
    Tactic.TEMPORARY_CREDENTIALS: ("made temporary credentials, which keep working after "
                                   "the key is disabled"),
    Tactic.CREDENTIAL_ACCESS: "read secrets, credentials or data",
    Tactic.DEFENSE_EVASION: "tried to hide their tracks (for example by stopping logging)",
    Tactic.ACCOUNT_MANIPULATION: "changed account settings such as contacts",
    Tactic.EXPOSURE: "opened resources or data to the outside",
    Tactic.IMPACT: "deleted, encrypted or started resources (damage or cost)",
}

# (shape, filled) per tactic: ten tactics, five shapes, filled or hollow; reads in grey.
TACTIC_MARKS: Mapping[Tactic, tuple[Shape, bool]] = {
    Tactic.RECONNAISSANCE: (Shape.CIRCLE, False),
    Tactic.PERMISSION_PROBING: (Shape.CROSS, False),
    Tactic.PERSISTENCE: (Shape.SQUARE, True),
    Tactic.PRIVILEGE_ESCALATION: (Shape.TRIANGLE, True),
    Tactic.TEMPORARY_CREDENTIALS: (Shape.DIAMOND, False),
    Tactic.CREDENTIAL_ACCESS: (Shape.DIAMOND, True),
    Tactic.DEFENSE_EVASION: (Shape.TRIANGLE, False),
    Tactic.ACCOUNT_MANIPULATION: (Shape.SQUARE, False),
    Tactic.EXPOSURE: (Shape.CIRCLE, True),
    Tactic.IMPACT: (Shape.CROSS, True),
}
NO_TACTIC_MARK: tuple[Shape, bool] = (Shape.DOT, True)
NO_TACTIC_LABEL = "no tactic (new IP or user agent)"

FOLLOW_UP_HEADINGS: Mapping[str, str] = {
    "user": "IAM users created",
    "access_key": "Access keys created",
    "login_profile": "Console passwords set",
    "role": "Roles created",
    "trust_policy": "Role trust policies changed",
    "policy_attachment": "Policies attached",
    "policy": "Policies attached",
    "inline_policy": "Inline policies written",
    "group_membership": "Users added to groups",
    "policy_version": "Policy versions created",
    "bucket_policy": "Bucket policies changed",
    "bucket_acl": "Bucket ACLs changed",
    "public_access_block": "Public access blocks removed",
    "security_group_ingress": "Firewall (security group) rules opened",
    "snapshot_permission": "Snapshots shared",
    "image_permission": "Machine images shared",
    "db_snapshot_permission": "Database snapshots shared",
    "alternate_contact": "Account contacts changed",
    "contact_information": "Account contact information changed",
    "trail_logging": "Logging stopped",
    "trail": "Trails changed or deleted",
    "event_selectors": "What the trail records changed",
    "detector": "Threat detection (GuardDuty) changed",
    "lambda_function": "Functions created",
    "lambda_code": "Function code changed",
    "lambda_permission": "Functions opened to others",
    "session": "Temporary sessions made",
}


@dataclass(frozen=True)
class FollowUpGroup:
    heading: str
    items: tuple[tuple[FollowUp, str], ...]  # each follow-up with its note in words


@dataclass(frozen=True)
class OpenSession:
    key: str
    principal: str
    until: datetime | None
    still_valid: bool  # at the report's time


@dataclass(frozen=True)
class SourceRow:
    source: SourceReport
    scanned: str  # "" when the source is not Athena
    cost: str


@dataclass(frozen=True)
class InvestigationView:
    """An Investigation as the template needs it; every sentence is made here."""

    inv: Investigation
    as_of: datetime
    root: bool
    headline: str
    story: tuple[str, ...]
    incomplete: str
    completeness: str
    chart: Markup
    groups: tuple[FollowUpGroup, ...]
    sessions: tuple[OpenSession, ...]
    backdoors: tuple[FollowUp, ...]
    events: tuple[Event, ...]  # the suspicious events shown (at most EVENT_ROWS_LIMIT)
    events_hidden: int
    usual: str
    sources: tuple[SourceRow, ...]


def tactic_words(inv: Investigation) -> list[str]:
    """What the attacker did, one phrase per tactic seen, in the catalogue's order."""
    return [TACTIC_WORDS[tactic] for tactic in Tactic if inv.tactics.get(tactic.value)]


def _whose(inv: Investigation) -> str:
    owner = inv.owner
    if owner.type is OwnerType.IAM_USER and owner.user:
        return f"the IAM user {owner.user}"
    if owner.type is OwnerType.ROOT:
        return "the account's root user"
    if owner.type is OwnerType.UNKNOWN:
        return "an owner that could not be determined"
    return owner.arn or owner.type.value


def story(inv: Investigation) -> tuple[str, ...]:
    """Two or three sentences a non-engineer reads: the key and whose, when, what."""
    sentences = [f"The access key {inv.key} belongs to {_whose(inv)} in AWS account "
                 f"{inv.account_id}. It was investigated from {when(inv.window.start)} to "
                 f"{when(inv.window.end)}."]
    bounds = first_and_last(inv)
    if bounds:
        first, last = bounds
        new_ips = sorted({e.source_ip for e in inv.suspicious} &
                         {ip.ip for ip in inv.source_ips if ip.new})
        where = (f" from {len(new_ips)} address(es) never seen before ({', '.join(new_ips[:3])}"
                 f"{' and more' if len(new_ips) > 3 else ''})" if new_ips else "")
        sentences.append(f"Someone used it for {len(inv.suspicious)} suspicious action(s)"
                         f"{where}, first at {when(first.event_time)} and last at "
                         f"{when(last.event_time)}.")
        deeper = len({e.access_key_id for e in inv.suspicious}) - (
            1 if any(e.access_key_id == inv.key for e in inv.suspicious) else 0)
        if deeper:
            sentences.append(f"{deeper} other credential(s) made from the key were used too.")
        did = tactic_words(inv)
        if did:
            sentences.append("In doing so they " + "; ".join(did) + ".")
    elif inv.follow_ups:
        sentences.append(f"No action stood out as suspicious, but {len(inv.follow_ups)} "
                         "thing(s) it created or changed should be checked and undone if "
                         "not expected.")
    elif inv.complete:
        sentences.append("Nothing suspicious was found: the key was used only as usual.")
    else:
        sentences.append("Nothing suspicious was found in what could be read, but the "
                         "search could not read everything (see below), so this is not a "
                         "clean bill of health.")
    if bounds and inv.follow_ups:
        sentences.append(f"{len(inv.follow_ups)} thing(s) the attacker created or changed "
                         "are listed below, each with the command that undoes it.")
    return tuple(sentences)


def completeness(inv: Investigation) -> str:
    """The bold statement of the evidence appendix: complete, or why not."""
    if inv.complete:
        return ("The search is complete: every source listed below was read whole for the "
                "whole window.")
    return ("The search is INCOMPLETE: " + ("; ".join(inv.incomplete_because)
                                           or "a source could not be read whole")
            + ". What is not listed here may still have happened.")


def _mark(event: Event) -> Mark:
    shape, filled = TACTIC_MARKS[event.tactics[0]] if event.tactics else NO_TACTIC_MARK
    return Mark(event.event_time, min(max(len(event.chain) - 1, 0), CHART_ROWS - 1), shape, filled)


def _row_label(depth: int, last: bool) -> str:
    if depth == 0:
        return "leaked key"
    label = f"{depth} step{'s' if depth > 1 else ''} down"
    return label + " or more" if last else label


def timeline(inv: Investigation) -> Markup:
    """Suspicious events over time, one mark per event: a row per depth of the signing
    key in the chain, a shape per (first) tactic; the usual traffic is counted."""
    suspicious = inv.suspicious
    depth = min(max((len(e.chain) - 1 for e in suspicious), default=0), CHART_ROWS - 1)
    rows = [_row_label(d, d == CHART_ROWS - 1) for d in range(depth + 1)]
    used = {e.tactics[0] if e.tactics else None for e in suspicious}
    legend = [(tactic.value.replace("_", " "), *TACTIC_MARKS[tactic])
              for tactic in Tactic if tactic in used]
    if None in used:
        legend.append((NO_TACTIC_LABEL, *NO_TACTIC_MARK))
    usual = sum(1 for e in inv.events if not e.suspicious)
    note = (f"{usual} event(s) of the key's usual traffic are not drawn." if usual else "")
    return event_timeline([_mark(e) for e in suspicious], rows=rows, legend=legend, note=note,
                          title=f"Suspicious events of {inv.key} over time (UTC)")


def _groups(inv: Investigation) -> tuple[FollowUpGroup, ...]:
    order: dict[str, list[tuple[FollowUp, str]]] = {}
    for follow_up in inv.follow_ups:
        order.setdefault(follow_up.kind, []).append(
            (follow_up, valid_until(follow_up, inv.credentials)))
    return tuple(FollowUpGroup(FOLLOW_UP_HEADINGS.get(kind, kind.replace("_", " ").capitalize()),
                               tuple(items)) for kind, items in order.items())


def _sessions(inv: Investigation, as_of: datetime) -> tuple[OpenSession, ...]:
    return tuple(OpenSession(c.access_key_id, c.principal_arn, c.expires,
                             c.expires is None or c.expires > as_of)
                 for c in inv.credentials if c.kind is CredentialKind.SESSION)


def size(count: int) -> str:
    """Bytes as a person reads them, in powers of 1024 like Athena's console."""
    value, unit = float(count), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _source_row(source: SourceReport) -> SourceRow:
    if not (source.queries or source.bytes_scanned):
        return SourceRow(source, "", "")
    return SourceRow(source, size(source.bytes_scanned), f"${source.cost_usd:.4f}")


def investigation_view(inv: Investigation, as_of: datetime | None = None
                       ) -> InvestigationView:
    as_of = as_of or inv.finished_at
    suspicious = inv.suspicious
    return InvestigationView(
        inv=inv, as_of=as_of, root=inv.owner.type is OwnerType.ROOT,
        headline=verdict_line(inv), story=story(inv), incomplete=incomplete_line(inv),
        completeness=completeness(inv), chart=timeline(inv), groups=_groups(inv),
        sessions=_sessions(inv, as_of),
        backdoors=tuple(f for f in inv.follow_ups if f.kind != "session"),
        events=suspicious[:EVENT_ROWS_LIMIT],
        events_hidden=max(len(suspicious) - EVENT_ROWS_LIMIT, 0),
        usual=usual_line(inv), sources=tuple(_source_row(s) for s in inv.sources),
    )


def render_investigation_html(inv: Investigation, *, as_of: datetime | None = None) -> str:
    """`as_of`: the time "still valid" is judged at (default: when the search finished)."""
    from reports.html import render_html

    view = investigation_view(inv, as_of)
    return render_html(
        "investigation.html.j2",
        tool_version=__version__,
        created=iso(view.as_of),
        doc_title=f"irready incident report {inv.key}",
        header_right=f"account {inv.account_id}",
        footer_left=f"irready {__version__} \u00b7 {inv.investigation_id}",
        view=view, inv=inv, root_p1=ROOT_P1, owner=owner_line(inv),
        rows_limit=EVENT_ROWS_LIMIT,
    )


def render_investigation_pdf(inv: Investigation, *, as_of: datetime | None = None) -> bytes:
    from reports.pdf import html_to_pdf

    return html_to_pdf(render_investigation_html(inv, as_of=as_of))
