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
