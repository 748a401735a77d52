"""The record of runs: what the executor tells the history store when a job starts and
ends, and the one rule for "this slot is done". The SQL is the store's
(`auditor.store.schedule`); this facade adds who is running (host, pid) and the rule that
runs made outside the scheduler count too."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from auditor.scheduler.vocabulary import JobKind, ScheduleRun, Trigger

if TYPE_CHECKING:
    from auditor.scheduler.jobs import JobResult
    from auditor.store import HistoryStore


class ScheduleLog:
    """The scheduler's rows in the history store (table schedule_runs, migration 2)."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store

    def epoch(self) -> datetime | None:
        return self.store.schedule_epoch()

    def ensure_epoch(self, now: datetime) -> datetime:
        return self.store.ensure_schedule_epoch(now)

    def start(self, job: JobKind, slot: datetime | None, trigger: Trigger,
              now: datetime) -> int:
        return self.store.start_schedule_run(job, slot, trigger, now, socket.gethostname(),
                                             os.getpid())

    def finish(self, run_id: int, result: JobResult, now: datetime) -> None:
        self.store.finish_schedule_run(run_id, result.status, now, result.exit_code,
                                       result.summary, result.report)

    def set_notified(self, run_id: int, text: str) -> None:
        self.store.set_schedule_notified(run_id, text)

    def interrupt_stale(self, job: JobKind, now: datetime) -> int:
        """Runs left RUNNING by a process that died; call only while holding the job's
        lock, which proves that nobody else is running it."""
        return self.store.interrupt_stale_schedule_runs(job, now)

    def runs(self, job: JobKind | None = None, limit: int | None = None) -> list[ScheduleRun]:
        """Newest first."""
        return self.store.schedule_runs(job, limit)

    def get(self, run_id: int) -> ScheduleRun:
        return self.store.schedule_run(run_id)

    def last(self, job: JobKind) -> ScheduleRun | None:
        return self.store.last_schedule_run(job)

    def completed_since(self, job: JobKind, since: datetime,
                        drill_users: Sequence[str] = ()) -> bool:
        """Whether a run of `job` started at or after `since` did its work. Runs made
        outside the scheduler count too: any complete audit run in the store (a hand-run
        `--check`/`--skip` audit is not the weekly audit), a succeeded drill of every
        drill user, or a detection drill that measured (seen or not) every canary."""
        if self.store.schedule_completed_since(job, since):
            return True
        if job is JobKind.AUDIT:
            return self.store.audited_since(since)
        if job is JobKind.DRILL and drill_users:
            return self.drilled_since(since, drill_users) == set(drill_users)
        if job is JobKind.DETECT and drill_users:
            return self.detected_since(since, drill_users) == set(drill_users)
        return False

    def accounts_since(self, since: datetime) -> list[str]:
        """The accounts audited or drilled at or after `since`: one report each."""
        return self.store.accounts_since(since)

    def drilled_since(self, since: datetime, users: Sequence[str]) -> set[str]:
        """Which of `users` have a succeeded drill started at or after `since`."""
        return self.store.drilled_since(since, users)

    def detected_since(self, since: datetime, canaries: Sequence[str]) -> set[str]:
        """Which of `canaries` have a detection drill started at or after `since` that
        measured something (every call seen, or not within its timeout)."""
        return self.store.detected_since(since, canaries)
