"""`irready schedule run`: the long-running service. It catches up on what was missed,
then sleeps until the `schedule` package's next tick and asks the executor whether the
job is due. SIGTERM and SIGINT stop it once the running job has ended; nothing a job
does can stop it."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time as time_module
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from auditor.cadence import WEEKDAYS
from auditor.errors import Locked
from auditor.scheduler.lock import FileLock
from auditor.scheduler.vocabulary import JobKind, Trigger

if TYPE_CHECKING:
    from auditor.scheduler.executor import Executor

logger = logging.getLogger("irready.schedule")


@contextmanager
def schedule_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """Make the `schedule` package read `clock` instead of the system time.

    `schedule` calls `datetime.datetime.now()` (naive local time) and `now(tz)`; it has
    no clock parameter, so its `datetime` module reference is swapped for one whose
    `datetime.now` reads ours. With the real clock this changes nothing; with a
    simulated one, months of ticks pass in a test without sleeping."""
    import datetime as real_datetime

    import schedule

    class ClockedDatetime(real_datetime.datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> ClockedDatetime:
            moment = clock()
            if tz is None:
                return moment.astimezone().replace(tzinfo=None)  # type: ignore[return-value]
            return moment.astimezone(tz)  # type: ignore[return-value]

    shim = types.ModuleType("datetime")
    shim.__dict__.update(vars(real_datetime))
    shim.datetime = ClockedDatetime  # type: ignore[attr-defined]
    library: Any = schedule
    saved = library.datetime
    library.datetime = shim
    try:
        yield
    finally:
        library.datetime = saved


class _WakeUp(Exception):
    """Raised by the signal handler to cut a nap short."""


class Service:
    """`irready schedule run`: catch up, then tick until SIGTERM/SIGINT."""

    def __init__(self, executor: Executor, *, sleep: Callable[[float], None] | None = None,
                 max_sleep: float = 60.0, handle_signals: bool = True) -> None:
        self.executor = executor
        self.max_sleep = max_sleep
        self.handle_signals = handle_signals
        self._sleep = sleep or time_module.sleep
        self._sleeping = False
        self.stopping = False
        self.ticks = 0

    def stop(self, reason: str = "") -> None:
        if reason:
            logger.info("%s", reason)
        self.stopping = True

    def run(self) -> None:
        plan = self.executor.plan
        clock = self.executor.clock
        lock = FileLock(plan.lock_path("scheduler"), "another irready scheduler")
        with lock.held(clock()), self._signals(), schedule_clock(clock):
            epoch = self.executor.log.ensure_epoch(clock())
            jobs = "; ".join(f"{kind}: {plan.describe(kind)}" for kind in JobKind)
            logger.info("started (pid %d; %s; time zone %s; schedule in force since %s)",
                        os.getpid(), jobs, plan.timezone, epoch.date().isoformat())
            if not self.executor.notifier.channels:
                logger.warning("no [notify] channel is configured: a failed job reaches "
                               "nobody, it is only logged here and in `irready schedule "
                               "status`")
            # the timed jobs first: a slot that passes while the catch-up runs is then
            # pending at the first run_pending (and runs once), not a week later
            scheduler = self._build()
            self._guarded(lambda: self.executor.catch_up(lambda: self.stopping))
            while not self.stopping:
                scheduler.run_pending()
                if self.stopping:
                    break
                idle = scheduler.idle_seconds
                wait = self.max_sleep if idle is None else min(max(idle, 1.0), self.max_sleep)
                self._nap(wait)
            logger.info("stopped")

    def _nap(self, seconds: float) -> None:
        """Sleep until the next tick, or until a signal asks to stop. The handler raises
        _WakeUp only while `_sleeping` is set, so a signal during a job never interrupts
        it; a signal just before the nap is seen through `stopping`."""
        try:
            self._sleeping = True
            if not self.stopping:
                self._sleep(seconds)
            self._sleeping = False
        except _WakeUp:
            self._sleeping = False

    def _build(self) -> Any:
        import schedule

        scheduler = schedule.Scheduler()
        plan = self.executor.plan
        for kind in JobKind:
            cadence = plan.cadences[kind]
            if not plan.enabled(kind):
                continue
            every = scheduler.every()
            unit = (every.day if cadence.tick_weekday is None
                    else getattr(every, WEEKDAYS[cadence.tick_weekday]))
            unit.at(cadence.at.strftime("%H:%M"), plan.timezone).do(self._tick, kind)
        return scheduler

    def _tick(self, kind: JobKind) -> None:
        if self.stopping:
            return  # caught up at the next start
        self.ticks += 1
        self._guarded(lambda: self.executor.run_if_due(kind, Trigger.SCHEDULE))

    def _guarded(self, work: Callable[[], object]) -> None:
        """Nothing a job does may stop the service; an error is logged in one line."""
        try:
            work()
        except Locked as exc:
            logger.warning("skipped: %s", exc)
        except Exception as exc:  # noqa: BLE001 - the service outlives any one job
            logger.error("scheduler error: %s: %s", type(exc).__name__, exc)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, _frame: object) -> None:
            name = signal.Signals(signum).name
            if self.stopping:
                logger.info("%s again: still waiting for the running job to end", name)
                return
            self.stop(f"{name} received: stopping after the running job ends")
            if self._sleeping:
                raise _WakeUp

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
