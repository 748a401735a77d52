"""The period a compliance report covers: a calendar quarter (`--quarter 2026Q4`), the
days since a date (`--since 2026-10-01`), or by default the last 90 days, all in UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from auditor.errors import UsageError

DEFAULT_PERIOD_DAYS = 90
# The years a period may fall in: the store holds nothing before 1970, and a quarter's
# end (and the days a report looks back from its start) must stay a date Python can
# represent (up to 9999-12-31).
FIRST_YEAR, LAST_YEAR = 1970, 9998
QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    label: str

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()

    @property
    def text(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.last_day:%Y-%m-%d}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def quarter_period(text: str) -> Period:
    match = QUARTER.match(text)
    if match is None:
        raise UsageError(f"--quarter: expected a quarter like 2026Q4, got {text!r}")
    year, quarter = int(match[1]), int(match[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UsageError(f"--quarter: expected a quarter from {FIRST_YEAR}Q1 to "
                         f"{LAST_YEAR}Q4, got {text!r}")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Period(_midnight(start), _midnight(end), f"{year}Q{quarter}")


def parse_period(*, since: str | None, quarter: str | None, now: datetime) -> Period:
    """`--since DATE` runs to `now`; `--quarter 2026Q4` is that calendar quarter (UTC);
    neither means the last 90 days."""
    if since and quarter:
        raise UsageError("--since and --quarter exclude each other; pass one of them")
    if quarter:
        return quarter_period(quarter)
    end = now.astimezone(UTC)
    if since:
        try:
            start = _midnight(date.fromisoformat(since.strip()))
        except ValueError:
            raise UsageError(f"--since: expected a date like 2026-10-01, got {since!r}") from None
        if start.year < FIRST_YEAR:
            raise UsageError(f"--since: expected a date from {FIRST_YEAR}-01-01 on, got "
                             f"{since!r}")
        if start >= end:
            raise UsageError(f"--since {since} is not before the report time {end:%Y-%m-%d}")
        return Period(start, end, f"since {start:%Y-%m-%d}")
    start = end - timedelta(days=DEFAULT_PERIOD_DAYS)
    return Period(start, end, f"last {DEFAULT_PERIOD_DAYS} days")
