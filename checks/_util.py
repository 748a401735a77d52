"""Small helpers shared by checks: ages in days, short lists in messages, and the
trail filters that keep "status unknown" apart from "stopped". Ages are measured at
the audit's time (`facts.now`), never the wall clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from auditor.awsfacts.cloudtrail import Trail


def days_since(moment: datetime, at: datetime) -> int:
    """Whole days from `moment` to `at` (the audit's time); never negative."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, (at - moment).days)


def short_list(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def logging_trails(trails: Sequence[Trail]) -> list[Trail]:
    """Trails known to be logging."""
    return [trail for trail in trails if trail.logging]


def unknown_trails(trails: Sequence[Trail]) -> list[Trail]:
    """Trails whose status could not be read: they may be logging, or not."""
    return [trail for trail in trails if trail.logging is None]


def active_trails(trails: Sequence[Trail]) -> list[Trail]:
    """Trails not known to be stopped. Checks of a trail's configuration (validation,
    bucket, Athena table) look at these: a trail whose status cannot be read from
    this account (an organization trail seen from a member) still writes somewhere."""
    return [trail for trail in trails if trail.logging is not False]


def checked_here(trails: Sequence[Trail], account_id: str) -> list[Trail]:
    """The trails whose bucket and table this account's audit checks: in an organization
    audit, the management account's organization trail is checked once, there."""
    return [trail for trail in trails if trail.checked_in in ("", account_id)]


def checked_elsewhere_note(trails: Sequence[Trail], account_id: str) -> str:
    """"" or a sentence naming the accounts whose audit checks the other trails."""
    owners = sorted({t.checked_in for t in trails if t.checked_in not in ("", account_id)})
    if not owners:
        return ""
    return f" The organization trail's bucket is checked in account {', '.join(owners)}."
