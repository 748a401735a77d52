"""The time window of an investigation, from what a responder types: `--since 30d`, or
`--from T --to T` in ISO 8601 (a date alone is midnight UTC; a time without a zone is
UTC), and the baseline before it (`--baseline 14d`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from auditor.errors import UsageError
from incident.investigate.model import Window

SPAN = re.compile(r"(\d{1,5})\s*(m|min|h|d|w)")
UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
LONGEST = timedelta(days=3650)


def parse_span(option: str, text: str) -> timedelta:
    match = SPAN.fullmatch(text.strip().lower())
    if match is None:
        raise UsageError(f"{option}: {text!r} is not a duration: use a number and a unit, "
                         "as in 30d, 12h, 2w or 90m")
    span = timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    if span > LONGEST:
        raise UsageError(f"{option}: {text} is longer than ten years")
    return span


def parse_moment(option: str, text: str) -> datetime:
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a time: use ISO 8601, as in "
                         "2026-12-01 or 2026-12-01T12:11:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def make_window(now: datetime, *, since: str | None, start: str | None, end: str | None,
                baseline: str) -> Window:
    try:
        return _window(now, since, start, end, baseline)
    except OverflowError:
        raise UsageError("--from, --to, --since or --baseline reaches before the year 1 or "
                         "after 9999: give a window of this era") from None


def _window(now: datetime, since: str | None, start: str | None, end: str | None,
            baseline: str) -> Window:
    if since is not None and (start is not None or end is not None):
        raise UsageError("--since and --from/--to both set the window: give one or the other")
    window_end = now if end is None else parse_moment("--to", end)
    if start is not None:
        window_start = parse_moment("--from", start)
    else:
        window_start = window_end - parse_span("--since", since or "30d")
    if window_start >= window_end:
        raise UsageError(f"--from ({window_start:%Y-%m-%dT%H:%M:%SZ}) is not before --to "
                         f"({window_end:%Y-%m-%dT%H:%M:%SZ})")
    if window_start > now:
        raise UsageError(f"--from ({window_start:%Y-%m-%dT%H:%M:%SZ}) is in the future")
    return Window(window_start, window_end, window_start - parse_span("--baseline", baseline))
