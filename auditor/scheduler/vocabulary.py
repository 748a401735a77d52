"""The words the scheduler and the history store share: which job, why it ran, how it
ended, and the record of one run. A leaf module (it imports nothing of irready), so the
store can return typed runs without importing the scheduler's machinery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobKind(StrEnum):
    AUDIT = "audit"
    DRILL = "drill"
    DETECT = "detect"  # the detection drill, of each [drill] canaries user
    REPORT = "report"


class RunStatus(StrEnum):
    """RUNNING while a job runs; OK and ALERT complete its slot (ALERT also notifies);
    FAILED and INTERRUPTED leave the slot open, so it is retried at the next tick."""

    RUNNING = "RUNNING"
    OK = "OK"
    ALERT = "ALERT"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"


COMPLETED = (RunStatus.OK, RunStatus.ALERT)
INTERRUPTED_SUMMARY = "interrupted: the process running it stopped"


class Trigger(StrEnum):
    SCHEDULE = "schedule"  # the service's tick
    CATCH_UP = "catch-up"  # the service's start, for a slot missed while it was down
    CRON = "cron"  # `irready schedule job JOB --if-due`
    MANUAL = "manual"  # `irready schedule job JOB`
    AFTER_DRILL = "after-drill"


@dataclass(frozen=True)
class ScheduleRun:
    """One run of a job as the history store keeps it (table schedule_runs)."""

    run_id: int
    job: JobKind
    slot: datetime | None
    trigger: Trigger
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    summary: str
    report: str
    host: str
    pid: int
    notified: str
