"""Small helpers shared by checks: ages in days and short lists in messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from auditor.awsfacts.cloudtrail import Trail


def now() -> datetime:
    return datetime.now(UTC)


def days_since(moment: datetime, at: datetime | None = None) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, ((at or now()) - moment).days)


def short_list(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def logging_trails(trails: Sequence[Trail]) -> list[Trail]:
    return [trail for trail in trails if trail.logging]
