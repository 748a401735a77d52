"""The scheduler's tables in the history store (schedule_runs and schedule_state,
migration 2), and the questions the scheduler asks of the audit and drill tables: was a
complete audit run, and which users were drilled (or canaries measured), since a slot
began."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.scheduler.vocabulary import (
    COMPLETED,
    INTERRUPTED_SUMMARY,
    JobKind,
    RunStatus,
    ScheduleRun,
    Trigger,
)
from auditor.store.base import StoreBase

_COLUMNS = ("id, job, slot, trigger, status, started_at, finished_at, exit_code, summary,"
            " report, host, pid, notified")


class ScheduleTables(StoreBase):

    def schedule_epoch(self) -> datetime | None:
        """When the schedule first applied; slots before it were never missed."""
        row = self._db.execute("SELECT value FROM schedule_state WHERE key = 'epoch'"
                               ).fetchone()
        return parse_iso(row[0]) if row else None

    def ensure_schedule_epoch(self, now: datetime) -> datetime:
        self._db.execute("INSERT OR IGNORE INTO schedule_state VALUES ('epoch', ?)", (iso(now),))
        epoch = self.schedule_epoch()
        assert epoch is not None
        return epoch

    def start_schedule_run(self, job: JobKind, slot: datetime | None, trigger: Trigger,
                           now: datetime, host: str, pid: int) -> int:
        cursor = self._db.execute(
            "INSERT INTO schedule_runs (job, slot, trigger, status, started_at, host, pid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job.value, iso(slot) if slot else None, trigger.value, RunStatus.RUNNING.value,
             iso(now), host, pid),
        )
        return int(cursor.lastrowid or 0)

    def finish_schedule_run(self, run_id: int, status: RunStatus, now: datetime,
                            exit_code: int | None, summary: str, report: str) -> None:
        self._db.execute(
            "UPDATE schedule_runs SET status = ?, finished_at = ?, exit_code = ?, summary = ?,"
            " report = ? WHERE id = ?",
            (status.value, iso(now), exit_code, summary, report, run_id),
        )

    def set_schedule_notified(self, run_id: int, text: str) -> None:
        self._db.execute("UPDATE schedule_runs SET notified = ? WHERE id = ?", (text, run_id))

    def interrupt_stale_schedule_runs(self, job: JobKind, now: datetime) -> int:
        """Mark `job`'s RUNNING rows INTERRUPTED; how many there were."""
        cursor = self._db.execute(
            "UPDATE schedule_runs SET status = ?, finished_at = ?, summary = ?"
            " WHERE job = ? AND status = ?",
            (RunStatus.INTERRUPTED.value, iso(now), INTERRUPTED_SUMMARY, job.value,
             RunStatus.RUNNING.value),
        )
        return cursor.rowcount

    def schedule_runs(self, job: JobKind | None = None, limit: int | None = None
                      ) -> list[ScheduleRun]:
        """Newest first."""
        sql = f"SELECT {_COLUMNS} FROM schedule_runs"
        params: list[Any] = []
        if job is not None:
            sql += " WHERE job = ?"
            params.append(job.value)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_schedule_run(row) for row in self._db.execute(sql, params).fetchall()]

    def schedule_run(self, run_id: int) -> ScheduleRun:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM schedule_runs WHERE id = ?",
                               (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"no scheduled run with id {run_id} in {self.path}")
        return _schedule_run(row)

    def last_schedule_run(self, job: JobKind) -> ScheduleRun | None:
        runs = self.schedule_runs(job, limit=1)
        return runs[0] if runs else None

    def schedule_completed_since(self, job: JobKind, since: datetime) -> bool:
        """Whether a scheduled run of `job` started at or after `since` completed."""
        row = self._db.execute(
            "SELECT 1 FROM schedule_runs WHERE job = ? AND status IN (?, ?) AND started_at >= ?"
            " LIMIT 1", (job.value, *(s.value for s in COMPLETED), iso(since))).fetchone()
        return row is not None

    def audited_since(self, since: datetime) -> bool:
        """Whether a complete audit run (the whole catalogue) started at or after `since`."""
        row = self._db.execute(
            "SELECT 1 FROM audit_runs WHERE complete = 1 AND started_at >= ? LIMIT 1",
            (iso(since),)).fetchone()
        return row is not None

    def accounts_since(self, since: datetime) -> list[str]:
        """The accounts audited or drilled at or after `since`, sorted."""
        rows = self._db.execute(
            "SELECT account_id FROM audit_runs WHERE started_at >= ?"
            " UNION SELECT account_id FROM drills WHERE started_at >= ? ORDER BY 1",
            (iso(since), iso(since)))
        return [str(row[0]) for row in rows.fetchall()]

    def drilled_since(self, since: datetime, users: Sequence[str]) -> set[str]:
        """Which of `users` have a succeeded drill started at or after `since`."""
        if not users:
            return set()
        marks = ",".join("?" * len(users))
        rows = self._db.execute(
            "SELECT DISTINCT user_name FROM drills WHERE status = 'SUCCEEDED'"
            f" AND started_at >= ? AND user_name IN ({marks})", (iso(since), *users))
        return {str(row[0]) for row in rows.fetchall()}


    def detected_since(self, since: datetime, users: Sequence[str]) -> set[str]:
        """Which of `users` have a detection drill started at or after `since` that
        measured something: SEEN or NOT_SEEN (a drill that replayed nothing did not)."""
        if not users:
            return set()
        marks = ",".join("?" * len(users))
        rows = self._db.execute(
            "SELECT DISTINCT user_name FROM detect_drills WHERE status IN ('SEEN', 'NOT_SEEN')"
            f" AND started_at >= ? AND user_name IN ({marks})", (iso(since), *users))
        return {str(row[0]) for row in rows.fetchall()}


def _schedule_run(row: Sequence[Any]) -> ScheduleRun:
    return ScheduleRun(
        run_id=row[0], job=JobKind(row[1]), slot=parse_iso(row[2]) if row[2] else None,
        trigger=Trigger(row[3]), status=RunStatus(row[4]), started_at=parse_iso(row[5]),
        finished_at=parse_iso(row[6]) if row[6] else None, exit_code=row[7],
        summary=row[8], report=row[9], host=row[10], pid=row[11], notified=row[12])
