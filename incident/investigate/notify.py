"""`irready investigate --notify`: an investigation that found something reaches the
people on the scheduler's channels ([notify]: a webhook, SNS, email) while the
responder is still reading the terminal. One short message: the verdict, when the
activity started and stopped, what it was for, the first things to undo (their
commands carry no secret: key ids and names only), whether the search was incomplete,
and where the full report is. A quiet investigation sends nothing: a message that says
"all clear" on every run teaches people to ignore the channel.

The words are written here rather than borrowed from reports/investigation_words.py,
which the core may not import; they say the same thing, in fewer lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from auditor.notify import Message, Notifier, NotifySettings, message
from incident.investigate.model import CredentialKind, Investigation, OwnerType

if TYPE_CHECKING:
    from auditor.session import AwsContext

TOP_FOLLOW_UPS = 5  # a chat message is read on a phone; the report has them all


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def worth_sending(inv: Investigation) -> bool:
    """Only what needs a person: suspicious events or something left to undo."""
    return bool(inv.suspicious or inv.follow_ups)


def _owner(inv: Investigation) -> str:
    owner = inv.owner
    if owner.type is OwnerType.IAM_USER and owner.user:
        return f"IAM user {owner.user}"
    if owner.type is OwnerType.ROOT:
        return "the root user"
    if owner.type is OwnerType.UNKNOWN:
        return "an unknown owner"
    return owner.arn or owner.type.value


def subject(inv: Investigation) -> str:
    counts = f"({len(inv.suspicious)} events, {len(inv.follow_ups)} follow-ups)"
    what = "suspicious activity by" if inv.suspicious else "follow-ups for"
    root = inv.owner.type is OwnerType.ROOT
    return (f"irready{' P1' if root else ''}: {what} {'root key ' if root else ''}{inv.key} "
            f"{counts}")


def investigation_message(inv: Investigation, report_path: str | None) -> Message:
    """The message for `inv`; `report_path`: where the full report was written, if it was."""
    lines: list[str] = []
    if inv.owner.type is OwnerType.ROOT:
        lines.append("P1: this is the account's root key. Root can do anything: act now.")
    lines.append(f"{len(inv.suspicious)} suspicious event(s) and {len(inv.follow_ups)} "
                 f"follow-up(s) for key {inv.key} of {_owner(inv)} in account "
                 f"{inv.account_id}.")
    suspicious = sorted(inv.suspicious, key=lambda event: event.event_time)
    if suspicious:
        first, last = suspicious[0], suspicious[-1]
        lines.append(f"first suspicious: {_when(first.event_time)} {first.event_name} from "
                     f"{first.source_ip}")
        lines.append(f"last suspicious: {_when(last.event_time)} {last.event_name} from "
                     f"{last.source_ip}")
    tactics = [f"{name.replace('_', ' ')} {count}"
               for name, count in sorted(inv.tactics.items()) if count]
    if tactics:
        lines.append("tactics: " + ", ".join(tactics))
    open_sessions = [c for c in inv.credentials if c.kind is CredentialKind.SESSION
                     and c.expires is not None and c.expires > inv.finished_at]
    lines.extend(f"session {c.access_key_id} still valid until {_when(c.expires)}"
                 for c in open_sessions if c.expires is not None)
    if inv.follow_ups:
        # what a person can act on first; an expired session has nothing left to undo
        shown = sorted(inv.follow_ups, key=lambda item: not item.command)[:TOP_FOLLOW_UPS]
        lines.append(f"follow-ups ({len(shown)} of {len(inv.follow_ups)}):")
        for follow_up in shown:
            note = f" ({follow_up.note})" if follow_up.note else ""
            lines.append(f"- {follow_up.kind} {follow_up.resource}{note}")
            if follow_up.command:
                lines.append(f"  {follow_up.command}")
    if not inv.complete:
        lines.append("INCOMPLETE, there may be more: " + ("; ".join(inv.incomplete_because)
                                                         or "a source could not be read whole"))
    lines.append(f"report: {report_path}" if report_path else
                 "report: none written (irready investigate --format pdf -o FILE)")
    lines.append(f"investigation {inv.investigation_id}, finished {_when(inv.finished_at)}")
    facts = {"job": "investigate",
             "status": "SUSPICIOUS" if inv.suspicious else "FOLLOW_UPS",
             "key": inv.key, "account": inv.account_id,
             "investigation": inv.investigation_id, "complete": str(inv.complete).lower(),
             "report": report_path or ""}
    return message(subject(inv), lines, facts)


def notify_investigation(settings: NotifySettings, inv: Investigation,
                         report_path: str | None, *,
                         session_factory: Callable[[], AwsContext] | None = None
                         ) -> list[str]:
    """Send `inv` to every configured channel when it found something; return one line
    per channel that failed ([] when all went, or when there was nothing to send).
    `session_factory` makes the AWS session SNS and SES are reached through (the
    investigation's own --profile); None: the default credentials chain."""
    if not worth_sending(inv):
        return []
    notifier = Notifier(settings, session_factory)
    if not notifier.channels:
        return []
    return list(notifier.send(investigation_message(inv, report_path)))
