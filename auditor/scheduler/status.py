"""`irready schedule status`: for each job, its schedule, its last run, whether a
process holds its lock now, and when it runs next (or since when it is overdue)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.cadence import Period
from auditor.scheduler.lock import FileLock, LockHolder
from auditor.scheduler.vocabulary import INTERRUPTED_SUMMARY, JobKind, RunStatus, ScheduleRun

if TYPE_CHECKING:
    from auditor.scheduler.executor import Executor


@dataclass(frozen=True)
class JobStatus:
    job: JobKind
    schedule: str
    enabled: bool
    last: ScheduleRun | None
    next_run: datetime | None
    overdue_since: datetime | None  # its latest slot has no completed run


@dataclass(frozen=True)
class ScheduleStatus:
    jobs: tuple[JobStatus, ...]
    service: LockHolder | None
    running: Mapping[JobKind, LockHolder] = field(default_factory=dict)
    epoch: datetime | None = None
    timezone: str = "UTC"
    output_dir: Path = Path()
    channels: tuple[str, ...] = ()  # where a failed job is notified


def schedule_status(executor: Executor, now: datetime) -> ScheduleStatus:
    plan = executor.plan
    jobs = []
    running = {}
    for kind in JobKind:
        cadence = plan.cadences[kind]
        enabled = plan.enabled(kind)
        overdue = executor.due(kind, now)
        next_run = None
        if enabled:
            retry_daily = (cadence.period in (Period.MONTHLY, Period.QUARTERLY)
                           and (kind is not JobKind.DRILL or plan.catch_up_drill))
            next_run = (cadence.next_tick(now, plan.tz) if overdue and retry_daily
                        else cadence.next_slot(now, plan.tz))
        holder = FileLock(plan.lock_path(kind.value), "").holder()
        if holder is not None:
            running[kind] = holder
        last = executor.log.last(kind)
        if last is not None and last.status is RunStatus.RUNNING and holder is None:
            last = replace(last, status=RunStatus.INTERRUPTED, summary=INTERRUPTED_SUMMARY)
        jobs.append(JobStatus(kind, plan.describe(kind), enabled, last, next_run, overdue))
    service = FileLock(plan.lock_path("scheduler"), "").holder()
    return ScheduleStatus(tuple(jobs), service, running, executor.log.epoch(), plan.timezone,
                          plan.output_dir, executor.notifier.channels)
