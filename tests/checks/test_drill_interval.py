"""`drill_interval_days` must never fail a punctual drill. The scheduler drills quarterly,
on the first <weekday> of January, April, July and October (or their 1st): two on-time
drills can be 98 days apart (July 1st to October 7th). Over ten years of calendars, and
in time zones whose clocks move, the default exceeds every gap between the scheduler's
own quarterly slots, with a day to spare for a drill that runs late or is retried the
next day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from auditor.cadence import load_timezone, parse_cadence
from auditor.config import AuditSettings, Config, ScheduleSettings
from auditor.facts import Facts
from auditor.models import Status
from auditor.runner import run_check
from auditor.store import DrillRecord, HistoryStore
from checks import drills
from checks._util import days_since

ACCOUNT = "123456789012"
TEN_YEARS = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC))
# a drill that runs a few hours late, or fails and is retried at the next day's tick
LATE = timedelta(days=1)


def slots(cadence_text: str, timezone: str) -> list[datetime]:
    cadence, tz = parse_cadence(cadence_text), load_timezone(timezone)
    found: list[datetime] = []
    moment = cadence.next_slot(TEN_YEARS[0], tz)
    while moment is not None and moment < TEN_YEARS[1]:
        found.append(moment)
        moment = cadence.next_slot(moment, tz)
    return found


def test_the_default_cadence_drills_forty_times_in_ten_years_at_most_98_days_apart() -> None:
    drills_ = slots(ScheduleSettings().drill, ScheduleSettings().timezone)
    assert len(drills_) == 40
    assert max(after - before for before, after in pairwise(drills_)) == timedelta(days=98)


@pytest.mark.parametrize("timezone", ["UTC", "America/New_York", "Pacific/Auckland"])
@pytest.mark.parametrize("cadence", [
    pytest.param(ScheduleSettings().drill, id="the default: quarterly monday 07:00"),
    pytest.param("quarterly sunday 23:30", id="a late weekday slot"),
    pytest.param("quarterly 00:15", id="the 1st of the quarter"),
])
def test_the_default_interval_never_fails_between_on_time_drills(cadence: str,
                                                                 timezone: str) -> None:
    interval = AuditSettings().drill_interval_days
    worst = max(days_since(before, after + LATE) for before, after
                in pairwise(slots(cadence, timezone)))
    assert worst < interval, f"{cadence} in {timezone}: {worst} days between drills"


def test_drill_recent_passes_just_before_a_late_drill_after_the_longest_gap(
        store: HistoryStore) -> None:
    """The check itself, on the longest gap of the default cadence: drilled on time on
    a July 1st, audited when October 7th's drill is a day late."""
    drills_ = slots(ScheduleSettings().drill, ScheduleSettings().timezone)
    before, after = max(pairwise(drills_), key=lambda pair: pair[1] - pair[0])
    store.save_drill(DrillRecord(
        drill_id="d-1", account_id=ACCOUNT, user="drill-user",
        target="secretsmanager:app/aws", status="SUCCEEDED", started_at=before,
        finished_at=before + timedelta(minutes=5), rotation_seconds=300.0,
        target_seconds=900))
    config = Config()
    facts = Facts(None, config, history=store, account_id=ACCOUNT,
                  now=after + LATE - timedelta(seconds=1))
    [finding] = run_check(drills.recent, facts, config)
    assert finding.status is Status.PASS, finding.message
