"""The plain words an investigation is told in, shared by the terminal and the Markdown
ticket so that both say the same thing: the verdict sentence (which never says "nothing
suspicious" alone when the search was incomplete), the owner, the P1 warning of a root
key, the first and last suspicious events, and until when a session stays valid."""

from __future__ import annotations

from datetime import UTC, datetime

from incident.investigate.model import Credential, Event, FollowUp, Investigation, OwnerType

ROOT_P1 = ("This is the account's root key: a P1 incident. Root can do anything and "
           "cannot be limited by any policy: act now.")


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def owner_line(inv: Investigation) -> str:
    owner = inv.owner
    if owner.type is OwnerType.UNKNOWN:
        named = "unknown (no AWS access and no event in the logs named it)"
    elif owner.type is OwnerType.IAM_USER and owner.user:
        named = f"IAM user {owner.user} ({owner.arn})"
    elif owner.type is OwnerType.ROOT:
        named = f"the root user of {inv.account_id} ({owner.arn or 'root'})"
    else:
        named = f"{owner.type.value} {owner.arn}"
    return named + ("; owner from the logs (no AWS access)" if owner.from_logs else "")


def verdict_line(inv: Investigation) -> str:
    """The one sentence the responder acts on. "Nothing suspicious" is only said alone
    when every source was read whole."""
    suspicious = inv.suspicious
    if suspicious:
        return (f"SUSPICIOUS ACTIVITY: {len(suspicious)} suspicious event(s) and "
                f"{len(inv.follow_ups)} follow-up(s).")
    if inv.follow_ups:
        return (f"Follow-ups found: {len(inv.follow_ups)} object(s) to undo or contain, "
                "no other suspicious event.")
    if not inv.complete:
        return "Nothing suspicious found in what could be read; the search was incomplete."
    return "Nothing suspicious found."


def valid_until(follow_up: FollowUp, credentials: tuple[Credential, ...]) -> str:
    """A session outlives the key's deactivation: its follow-up says until when, from
    the note or else from the credential it names."""
    if "valid until" in follow_up.note or "expired" in follow_up.note:
        return follow_up.note
    for credential in credentials:
        if credential.access_key_id == follow_up.resource and credential.expires:
            expiry = f"valid until {when(credential.expires)}"
            return f"{follow_up.note}; {expiry}" if follow_up.note else expiry
    return follow_up.note


def incomplete_line(inv: Investigation) -> str:
    """Why the search is incomplete, or "" when it is complete."""
    if inv.complete:
        return ""
    return "INCOMPLETE: " + ("; ".join(inv.incomplete_because)
                             or "a source could not be read whole")


def first_and_last(inv: Investigation) -> tuple[Event, Event] | None:
    """The first and the last suspicious events, by time; None when there is none."""
    suspicious = sorted(inv.suspicious, key=lambda event: event.event_time)
    return (suspicious[0], suspicious[-1]) if suspicious else None


def tactics_seen(inv: Investigation) -> list[tuple[str, int]]:
    """The tactics counted at least once, by name."""
    return [(name, count) for name, count in sorted(inv.tactics.items()) if count]


def usual_line(inv: Investigation) -> str:
    """The key's usual traffic is counted, not listed, where a person reads: a busy
    key's month is thousands of calls that bury the attacker's twenty."""
    usual = [event for event in inv.events if not event.suspicious]
    if not usual:
        return ""
    places = sorted({event.source_ip for event in usual})
    shown = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
    return (f"{len(usual)} event(s) of the key's usual traffic (known IPs and user agents, "
            f"no tactic; from {shown}) are not listed here: --format csv or json lists "
            "every event")
