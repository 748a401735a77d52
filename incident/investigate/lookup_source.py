"""CloudTrail's event history (LookupEvents) as a source of records: every account has
90 days of management events in every region, trail or no trail. It answers one lookup
attribute per call, 50 events a page, at 2 requests a second per region, so the search
paces its calls per region, runs a few regions at once, reports progress per search
(region x key x attribute), and on Ctrl-C stops every region and keeps what it found.

A failure never raises: a throttled, denied or disabled region, an unreadable event,
becomes a note, and a note makes the report incomplete."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from auditor.session import AwsContext, error_code, is_access_denied
from incident.investigate.model import SourceReport
from incident.investigate.record_source import Progress

EVENT_HISTORY_DAYS = 90
PAGE_SIZE = 50  # LookupEvents' maximum
THROTTLE_ATTEMPTS = 4  # calls of one page before a throttled search is given up
THROTTLE_BACKOFF_SECONDS = 1.0  # doubled on each retry: 1, 2, 4 s
PERMISSION = "cloudtrail:LookupEvents"

WHAT_IT_CANNOT_SHOW = (
    "Event history holds management events only (no data events such as S3 GetObject or "
    "Lambda Invoke) and only the last 90 days; with no trail, nothing older than that was "
    "ever kept, and never will be."
)

THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                       "RequestLimitExceeded"})
# How a region the account has not opted into (or credentials it does not know) answers.
NOT_ENABLED = frozenset({"UnrecognizedClientException", "InvalidClientTokenId",
                         "OptInRequired", "AuthFailure"})


class LookupAttribute(StrEnum):
    """The two lookups per key: calls it signed, and calls naming it as a resource (the
    lead tells the attacker's from the mentions by the signing key)."""

    ACCESS_KEY_ID = "AccessKeyId"
    RESOURCE_NAME = "ResourceName"


def lookup_limits(start: datetime, end: datetime, now: datetime) -> str:
    """Why event history cannot cover the window starting at `start`, or "" when it can."""
    horizon = now - timedelta(days=EVENT_HISTORY_DAYS)
    if start >= horizon:
        return ""
    days = max(1, math.ceil((horizon - start) / timedelta(days=1)))
    reason = (f"event history keeps {EVENT_HISTORY_DAYS} days: the window starts "
              f"{start:%Y-%m-%d}, {days} day{'s' if days != 1 else ''} before that")
    if end < horizon:
        reason += ", and ends before it too: none of the window is there"
    return reason


class _RegionStopped(Exception):
    """A region answered in a way that makes its other searches pointless (denied, not
    enabled); carries the note."""


@dataclass
class _Pass:
    """The state of one find(): shared by the region workers, guarded by `lock`."""

    keys: tuple[str, ...]
    start: datetime
    what: str
    total: int
    progress: Progress | None
    stop: threading.Event
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: int = 0
    done_in: dict[str, int] = field(default_factory=dict)  # searches finished per region
    started: list[str] = field(default_factory=list)  # regions whose worker began
    interrupted_in: list[str] = field(default_factory=list)

    def finished(self, region: str, searches: int) -> None:
        with self.lock:
            self.done += searches
            self.done_in[region] = self.done_in.get(region, 0) + searches
            if self.progress is not None:
                self.progress(self.what, self.done, self.total)


class LookupSource:
    """CloudTrail event history of one account, searched in `regions` (every enabled
    region: regional STS endpoints and regional services log where they are called)."""

    def __init__(self, ctx: AwsContext, account_id: str, regions: Sequence[str],
                 start: datetime, end: datetime, *, per_region_rate: float = 2.0,
                 parallel_regions: int = 4, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_region_rate <= 0 or parallel_regions < 1:
            raise ValueError("per_region_rate must be > 0 and parallel_regions >= 1")
        self.ctx = ctx
        self.account_id = account_id
        self.regions = tuple(dict.fromkeys(regions))
        self.start = start
        self.end = end
        self.per_region_rate = per_region_rate
        self.parallel_regions = parallel_regions
        self._sleep = sleep
        self._clock = clock
        self._last_call: dict[str, float] = {}  # per region; one worker per region writes
        self._notes: list[str] = []
        self._notes_lock = threading.Lock()
        self._records_scanned = 0
        self._interrupted = False
        self._answered = False  # some region answered a search
        self._stop = threading.Event()

    @property
    def kind(self) -> str:
        return "lookup"

    @property
    def location(self) -> str:
        count = len(self.regions)
        return f"CloudTrail event history ({count} region{'s' if count != 1 else ''})"

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def holds(self, account: str) -> bool:
        return account == self.account_id  # event history is per account

    def find(self, keys: tuple[str, ...], account: str | None, since: datetime | None,
             progress: Progress | None) -> list[dict[str, Any]]:
        if self._interrupted or not keys or account not in (None, self.account_id):
            return []
        start = self.start if since is None else max(self.start, since)
        if start > self.end:
            return []
        if not self.regions:
            self._note("no region to search: event history was not searched")
            return []
        per_region = len(keys) * len(LookupAttribute)
        run = _Pass(keys, start, f"{self.location}: {', '.join(keys)}",
                    per_region * len(self.regions), progress, self._stop)
        if progress is not None:
            progress(run.what, 0, run.total)
        regions: queue.SimpleQueue[str] = queue.SimpleQueue()
        for region in self.regions:
            regions.put(region)
        workers: list[threading.Thread] = []
        try:
            for number in range(min(self.parallel_regions, len(self.regions))):
                worker = threading.Thread(target=self._work, args=(run, regions),
                                          name=f"lookup-events-{number}", daemon=True)
                workers.append(worker)  # before start(): Ctrl-C may land inside start()
                worker.start()
            for worker in workers:
                worker.join()
        except KeyboardInterrupt:  # Ctrl-C reaches the main thread, waiting here
            self._stop.set()
        finally:
            self._join(workers)
        if self._stop.is_set():
            self._interrupted = True
            self._note(self._interrupt_note(run))
        with run.lock:
            return list(run.records.values())

    @property
    def answered(self) -> bool:
        return self._answered

    def report(self) -> SourceReport:
        with self._notes_lock:
            notes = tuple(self._notes)
        return SourceReport(self.kind, self.location, 0, self._records_scanned, not notes,
                            notes)

    # -- one region --------------------------------------------------------------------

    def _work(self, run: _Pass, regions: queue.SimpleQueue[str]) -> None:
        """A worker thread: the next region not yet searched, until none is left."""
        while not run.stop.is_set():
            try:
                region = regions.get_nowait()
            except queue.Empty:
                return
            self._search_region(run, region)

    def _search_region(self, run: _Pass, region: str) -> None:
        """Every (key, attribute) search of one region, in its own thread. Nothing
        escapes: a KeyboardInterrupt raised here (it can be, by an injected sleep) stops
        every region as Ctrl-C in the main thread does."""
        if run.stop.is_set():
            return
        with run.lock:
            run.started.append(region)
        searches = [(key, attribute) for key in run.keys for attribute in LookupAttribute]
        finished = 0
        try:
            client = self.ctx.client("cloudtrail", region)
            for key, attribute in searches:
                if run.stop.is_set():
                    return
                self._search(run, client, region, key, attribute)
                finished += 1
                run.finished(region, 1)
        except _RegionStopped as stopped:
            self._note(str(stopped))
            run.finished(region, len(searches) - finished)
        except KeyboardInterrupt:
            with run.lock:
                run.interrupted_in.append(region)
            run.stop.set()
        except Exception as exc:  # noqa: BLE001 - a crash in one region is a note, not a stop
            self._note(f"{region}: event history search crashed: {type(exc).__name__}: {exc}")
            run.finished(region, len(searches) - finished)

    def _search(self, run: _Pass, client: Any, region: str, key: str,
                attribute: LookupAttribute) -> None:
        """One paginated lookup; its events go into `run.records` page by page, so an
        interruption keeps every page already read."""
        request: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": attribute.value, "AttributeValue": key}],
            "StartTime": run.start, "EndTime": self.end, "MaxResults": PAGE_SIZE}
        pages = 0
        while not run.stop.is_set():
            response = self._call(client, region, request, f"{attribute}={key}", pages)
            if response is None:
                return
            self._answered = True
            pages += 1
            events = response.get("Events") or []
            parsed = [self._record(region, event) for event in events]
            with run.lock:
                self._records_scanned += len(events)
                for record in parsed:
                    if record is not None:
                        run.records.setdefault(str(record["eventID"]), record)
            token = response.get("NextToken")
            if not token:
                return
            request["NextToken"] = token

    def _call(self, client: Any, region: str, request: dict[str, Any], searching: str,
              pages: int) -> dict[str, Any] | None:
        """One page, paced, throttling retried with backoff; None after a note."""
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(THROTTLE_ATTEMPTS):
            if attempt:
                self._pause(THROTTLE_BACKOFF_SECONDS * 2 ** (attempt - 1))
            self._pace(region)
            if self._stop.is_set():
                return None
            try:
                response: dict[str, Any] = client.lookup_events(**request)
                return response
            except ClientError as exc:
                code = error_code(exc)
                if code in THROTTLED:
                    continue
                if is_access_denied(exc):
                    raise _RegionStopped(
                        f"{region}: {PERMISSION} was denied ({code}): event history there "
                        "was not searched") from None
                if code in NOT_ENABLED:
                    raise _RegionStopped(
                        f"{region}: the region is not enabled for this account, or does not "
                        f"accept these credentials ({code}): event history there was not "
                        "searched") from None
                message = str(exc.response.get("Error", {}).get("Message") or "")
                self._note(f"{region}: LookupEvents failed ({code}) searching {searching}"
                           + (f": {message}" if message else ""))
                return None
            except BotoCoreError as exc:
                self._note(f"{region}: LookupEvents failed ({type(exc).__name__}) searching "
                           f"{searching}: {exc}")
                return None
        self._note(f"{region}: LookupEvents was throttled {THROTTLE_ATTEMPTS} times searching "
                   f"{searching}" + (f" (after {pages} pages)" if pages else "")
                   + ": its remaining events were not read")
        return None

    def _record(self, region: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """The record inside an event history event: the same JSON a trail's file holds."""
        event_id = str(event.get("EventId") or "")
        try:
            record = json.loads(event.get("CloudTrailEvent") or "")
        except (TypeError, ValueError):
            record = None
        if not isinstance(record, dict):
            self._note(f"{region}: event {event_id or '(no id)'} has no readable "
                       "CloudTrailEvent (not a JSON record): skipped")
            return None
        if not record.get("eventID"):
            record["eventID"] = event_id or json.dumps(record, sort_keys=True)
        return record

    # -- pacing, notes, stopping -------------------------------------------------------

    def _pace(self, region: str) -> None:
        """At most `per_region_rate` calls a second in a region: LookupEvents' quota is
        per account and region, and a burst only earns throttling."""
        interval = 1.0 / self.per_region_rate
        last = self._last_call.get(region)
        if last is not None:
            wait = last + interval - self._clock()
            if wait > 0:
                self._pause(wait)
        self._last_call[region] = self._clock()

    def _pause(self, seconds: float) -> None:
        if self._sleep is time.sleep:
            self._stop.wait(seconds)  # the real sleep: Ctrl-C ends it at once
        else:
            self._sleep(seconds)

    def _note(self, note: str) -> None:
        with self._notes_lock:
            if note not in self._notes:
                self._notes.append(note)

    def _interrupt_note(self, run: _Pass) -> str:
        per_region = len(run.keys) * len(LookupAttribute)
        with run.lock:
            cut = list(dict.fromkeys(
                [*run.interrupted_in, *(region for region in run.started
                                        if run.done_in.get(region, 0) < per_region)]))
            untouched = [region for region in self.regions if region not in run.started]
            described = [f"{region} after {run.done_in.get(region, 0)} of {per_region} "
                         "searches" for region in cut]
        note = "interrupted (Ctrl-C) in " + (", ".join(described) or "no region")
        if untouched:
            note += f"; not searched: {', '.join(untouched)}"
        return note

    def _join(self, workers: list[threading.Thread]) -> None:
        """Wait for every worker: each stops before its next call once `stop` is set. A
        thread Ctrl-C caught inside its start() is still starting (threading.enumerate
        lists it): it is waited for too. A second Ctrl-C does not leave threads behind."""
        while True:
            try:
                living = [thread for thread in threading.enumerate() if thread in workers]
                if not living:
                    return
                for thread in living:
                    try:
                        thread.join(0.05)
                    except RuntimeError:  # started, not yet running
                        continue
            except KeyboardInterrupt:
                self._stop.set()
