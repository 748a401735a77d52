"""Cadences: when a scheduled job's slots fall ("monday 06:00", "quarterly monday
07:00", ...), read from the [schedule] config and turned into moments in a time zone.

Kept apart from the scheduler so that validating a config costs a few regular
expressions: every command reads the config, few run the scheduler. Time zones are
pytz's, since the `schedule` package refuses zoneinfo objects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from auditor.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
QUARTER_MONTHS = (1, 4, 7, 10)
SLOT_SEARCH_DAYS = 130  # a quarter plus its first week, with room to spare
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
CADENCE_FORMS = ("'daily HH:MM', '<weekday> HH:MM', 'monthly [<weekday>] HH:MM', "
                 "'quarterly [<weekday>] HH:MM' or 'off'")


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"  # the first <weekday> of each month, or its 1st
    QUARTERLY = "quarterly"  # the same, in January, April, July and October
    OFF = "off"


@dataclass(frozen=True)
class Cadence:
    """When a job's slots fall. Monthly and quarterly cadences tick daily at `at` so that
    a missed or failed slot is retried the next day."""

    period: Period
    at: time = time(0, 0)
    weekday: int | None = None  # 0 = Monday

    @property
    def enabled(self) -> bool:
        return self.period is not Period.OFF

    @property
    def tick_weekday(self) -> int | None:
        """The weekday the tick fires on, or None for a daily tick."""
        return self.weekday if self.period is Period.WEEKLY else None

    def describe(self) -> str:
        at = self.at.strftime("%H:%M")
        day = WEEKDAYS[self.weekday].capitalize() if self.weekday is not None else ""
        match self.period:
            case Period.OFF:
                return "off"
            case Period.DAILY:
                return f"daily at {at}"
            case Period.WEEKLY:
                return f"{day}s at {at}"
            case Period.MONTHLY:
                first = f"the first {day}" if day else "the 1st"
                return f"monthly, {first} of each month at {at}"
            case Period.QUARTERLY:
                first = f"the first {day}" if day else "the 1st"
                return f"quarterly, {first} of January, April, July and October at {at}"
        raise AssertionError(self.period)  # pragma: no cover - the match is exhaustive

    def is_slot_day(self, day: date) -> bool:
        match self.period:
            case Period.OFF:
                return False
            case Period.DAILY:
                return True
            case Period.WEEKLY:
                return day.weekday() == self.weekday
            case Period.MONTHLY | Period.QUARTERLY:
                if self.period is Period.QUARTERLY and day.month not in QUARTER_MONTHS:
                    return False
                if self.weekday is None:
                    return day.day == 1
                return day.weekday() == self.weekday and day.day <= 7
        raise AssertionError(self.period)  # pragma: no cover

    def latest_slot(self, now: datetime, tz: tzinfo) -> datetime | None:
        """The most recent slot at or before `now` (UTC), or None if the cadence is off."""
        today = now.astimezone(tz).date()
        for back in range(SLOT_SEARCH_DAYS):
            day = today - timedelta(days=back)
            if self.is_slot_day(day):
                moment = local_moment(day, self.at, tz)
                if moment <= now:
                    return moment
        return None

    def next_slot(self, now: datetime, tz: tzinfo) -> datetime | None:
        """The first slot strictly after `now` (UTC)."""
        today = now.astimezone(tz).date()
        for ahead in range(SLOT_SEARCH_DAYS):
            day = today + timedelta(days=ahead)
            if self.is_slot_day(day):
                moment = local_moment(day, self.at, tz)
                if moment > now:
                    return moment
        return None

    def next_tick(self, now: datetime, tz: tzinfo) -> datetime | None:
        """When the service next wakes up for this job."""
        if not self.enabled:
            return None
        tick = Cadence(Period.WEEKLY if self.tick_weekday is not None else Period.DAILY,
                       self.at, self.tick_weekday)
        return tick.next_slot(now, tz)


def local_moment(day: date, at: time, tz: tzinfo) -> datetime:
    """`day` at `at` in `tz`, as UTC. A wall time that DST skips moves an hour later; one
    that happens twice (the autumn hour) is its first occurrence, when the `schedule`
    package wakes the service: a slot placed at the second one would still be ahead at
    that tick, and the day's run would be silently missed."""
    naive = datetime.combine(day, at)
    localize = getattr(tz, "localize", None)
    if localize is not None:  # pytz
        import pytz

        try:
            local = localize(naive, is_dst=None)
        except pytz.AmbiguousTimeError:
            local = localize(naive, is_dst=True)
        except pytz.NonExistentTimeError:
            local = localize(naive, is_dst=False)
        moment: datetime = tz.normalize(local)  # type: ignore[attr-defined]
    else:
        moment = naive.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def parse_cadence(text: str) -> Cadence:
    """Parse a cadence; ValueError with a message that says what is accepted."""
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w not in ("", "every", "at",
                                                                                 "on")]
    if words == ["off"]:
        return Cadence(Period.OFF)
    if not words:
        raise ValueError(f"empty schedule (expected {CADENCE_FORMS})")
    head, *rest = words
    if head in ("daily", "day"):
        period, weekday = Period.DAILY, None
    elif head in ("monthly", "quarterly"):
        period = Period(head)
        if len(rest) not in (1, 2):  # every word counts: none is dropped silently
            raise ValueError(f"cannot read {text!r} (expected {CADENCE_FORMS})")
        weekday = parse_weekday(rest[0]) if len(rest) == 2 else None
        if len(rest) == 2 and weekday is None:
            raise ValueError(f"{rest[0]!r} is not a weekday in {text!r}")
        rest = rest[-1:]
    elif (weekday := parse_weekday(head)) is not None:
        period = Period.WEEKLY
    else:
        raise ValueError(f"cannot read {text!r} (expected {CADENCE_FORMS})")
    if len(rest) != 1:
        raise ValueError(f"cannot read {text!r} (expected {CADENCE_FORMS})")
    match = _TIME.match(rest[0])
    if match is None:
        raise ValueError(f"{rest[0]!r} in {text!r} is not a time HH:MM (24-hour)")
    return Cadence(period, time(int(match.group(1)), int(match.group(2))), weekday)


def parse_weekday(word: str) -> int | None:
    word = word.removesuffix("s") if len(word) > 3 else word
    for index, name in enumerate(WEEKDAYS):
        if word == name or word == name[:3]:
            return index
    return None


def load_timezone(name: str) -> tzinfo:
    """A pytz time zone: `schedule` refuses zoneinfo objects."""
    import pytz

    try:
        return pytz.timezone(name)
    except pytz.UnknownTimeZoneError:
        raise ConfigError(f"schedule.timezone: unknown time zone {name!r} "
                          "(expected an IANA name such as Europe/Paris or UTC)") from None


def validate_schedule(cadences: Mapping[str, str], timezone: str) -> None:
    """One-line ConfigErrors for the cadences of [schedule] (job name -> cadence text)
    and its time zone; called when the config is built."""
    for name, text in cadences.items():
        try:
            parse_cadence(text)
        except ValueError as exc:
            raise ConfigError(f"schedule.{name}: {exc}") from None
    if timezone != "UTC":  # pytz costs an import; UTC needs no check
        load_timezone(timezone)
