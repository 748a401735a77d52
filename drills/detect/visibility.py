"""Polling: how long until each replayed call can be seen. Each poll asks every source
that has not yet shown every call, with the readers `irready investigate` uses (event
history through LookupEvents, the trail's files through the log-file scanner), for the
records signed by the temporary key; a record is one of the drill's calls when its
eventName matches and its user agent carries the drill id. The time to visible of a
call is from when it was made to the poll that first showed it, so it is as precise as
the poll interval (reported with it).

A source that waits for another (Athena, which reads the trail's files and bills each
query) is asked nothing until that other source has shown every call: a query before
the files exist would cost money to find nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from drills.detect.model import AthenaQuery, DetectSource, Replayed, Sighting, SourceResult
from incident.investigate.record_source import RecordSource

Now = Callable[[], datetime]
Sleep = Callable[[float], None]
# the sources read records from a little before the first call: clocks differ
SKEW = timedelta(minutes=5)


@dataclass
class Watched:
    """One source being polled: a factory of its reader (a fresh one per poll, so a
    listing is never served from a previous poll), and what it has shown so far."""

    source: DetectSource
    location: str
    reader: Callable[[], RecordSource]
    seen_at: dict[int, datetime] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # the last poll's problems
    polls: int = 0
    after: DetectSource | None = None  # asked only once this source showed every call
    queries: list[AthenaQuery] = field(default_factory=list)  # what each query scanned


def matches(record: dict[str, Any], replayed: Replayed, key_id: str, agent: str) -> bool:
    from incident.investigate.record_fields import event_name, signing_key

    return (signing_key(record) == key_id and event_name(record) == replayed.call.operation
            and agent in str(record.get("userAgent") or ""))


def poll_once(watched: Watched, replayed: Sequence[Replayed], key_id: str, account: str,
              agent: str, now: Now) -> None:
    reader = watched.reader()
    since = min(r.at for r in replayed) - SKEW
    records = reader.find((key_id,), account, since, None)
    if reader.interrupted:  # a source that stops on Ctrl-C (Athena stops its query)
        raise KeyboardInterrupt
    moment = now()
    watched.polls += 1
    for index, call in enumerate(replayed):
        if index not in watched.seen_at and any(
                matches(record, call, key_id, agent) for record in records):
            watched.seen_at[index] = moment
    report = reader.report()
    # the last poll's problems: an early "no log folder yet" is no problem once it came
    watched.notes = list(report.notes)
    # a reader kept across polls (Athena's) lists every query it ran; keep the new ones
    ran = report.queries[len(watched.queries):]
    if ran:
        scanned = report.bytes_scanned - sum(q.bytes_scanned for q in watched.queries)
        watched.queries += [AthenaQuery(query_id, scanned if index == 0 else 0)
                            for index, query_id in enumerate(ran)]


def ready(watched: Watched, sources: Sequence[Watched], calls: int) -> bool:
    """Whether `watched` may be asked now: it waits for nothing, or what it waits for
    has shown every call (in any of its locations)."""
    if watched.after is None:
        return True
    shown: set[int] = set()
    for other in sources:
        if other.source is watched.after:
            shown |= set(other.seen_at)
    return len(shown) == calls


def watch(sources: Sequence[Watched], replayed: Sequence[Replayed], key_id: str,
          account: str, agent: str, *, timeout: float, poll: float,
          now: Now = lambda: datetime.now(UTC), sleep: Sleep = time.sleep,
          also: Callable[[datetime], None] | None = None) -> tuple[SourceResult, ...]:
    """Poll until every source showed every call or `timeout` seconds passed since the
    last call; `also` is polled alongside (GuardDuty), and never keeps the drill waiting.
    Ctrl-C propagates; `results(sources, replayed)` still tells what was seen."""
    deadline = max(r.at for r in replayed) + timedelta(seconds=timeout)
    while True:
        for watched in sources:  # in order: a source waited for is asked before its waiter
            if len(watched.seen_at) < len(replayed) and ready(watched, sources,
                                                              len(replayed)):
                poll_once(watched, replayed, key_id, account, agent, now)
        if also is not None:
            also(now())
        left = (deadline - now()).total_seconds()
        if all(len(w.seen_at) == len(replayed) for w in sources) or left <= 0:
            return results(sources, replayed)
        sleep(min(poll, left))


def results(sources: Sequence[Watched], replayed: Sequence[Replayed]
            ) -> tuple[SourceResult, ...]:
    return tuple(
        SourceResult(
            watched.source, watched.location,
            tuple(Sighting(call.call, round((watched.seen_at[i] - call.at).total_seconds(), 3)
                           if i in watched.seen_at else None)
                  for i, call in enumerate(replayed)),
            watched.polls, tuple(_notes(watched)), tuple(watched.queries))
        for watched in sources)


def _notes(watched: Watched) -> list[str]:
    if watched.after is not None and watched.polls == 0:
        return ["not queried: the trail's files did not show every call within the "
                "timeout, and Athena reads those very files (each query costs money)"]
    return watched.notes
