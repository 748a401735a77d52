"""The executor: one job, under its lock, recorded, run, recorded, pruned, notified.
It also decides whether a job is due. The service and `irready schedule job` share it,
so a tick of the service and a cron line do exactly the same thing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from auditor.clock import iso, utcnow
from auditor.errors import ExitCode, Locked
from auditor.notify import Message, Notifier, message
from auditor.scheduler.jobs import JobResult, JobRunner, prune_reports
from auditor.scheduler.lock import FileLock
from auditor.scheduler.log import ScheduleLog
from auditor.scheduler.plan import REPORT_PERIOD, REPORT_PREFIX, Plan, ensure_writable
from auditor.scheduler.runner import SubprocessRunner
from auditor.scheduler.vocabulary import JobKind, RunStatus, ScheduleRun, Trigger

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.store import HistoryStore

logger = logging.getLogger("irready.schedule")

# The first run of a schedule (its epoch) owes no slot that passed before it, except one
# a moment earlier: the cron line or timer of that very slot is what set the epoch.
EPOCH_GRACE = timedelta(minutes=10)


class Executor:
    """Decides whether a job is due and runs it: lock, record, run, record, prune,
    notify. Shared by the service and by `irready schedule job`."""

    def __init__(self, config: Config, store: HistoryStore, *, runner: JobRunner | None = None,
                 notifier: Notifier | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.plan = Plan.from_config(config)
        self.tz = self.plan.tz
        self.log = ScheduleLog(store)
        self.runner = runner or SubprocessRunner(self.plan)
        self.notifier = notifier or Notifier(config.notify)
        self.clock = clock

    def due(self, kind: JobKind, now: datetime) -> datetime | None:
        """The slot of `kind` that is due at `now`, or None."""
        if not self.plan.enabled(kind):
            return None
        slot = self.plan.cadences[kind].latest_slot(now, self.tz)
        epoch = self.log.epoch()
        if slot is None or epoch is None:
            return None
        if slot < epoch - EPOCH_GRACE:
            return None  # before the schedule existed: nothing was missed
        if kind is JobKind.REPORT and not self.log.accounts_since(now - REPORT_PERIOD):
            return None  # nothing audited or drilled in its period: nothing to report yet
        if (kind is JobKind.DRILL and not self.plan.catch_up_drill
                and now - slot >= timedelta(days=1)):
            return None  # a missed window waits for the next one
        if self._completed(kind, slot):
            return None
        return slot

    def _completed(self, kind: JobKind, slot: datetime) -> bool:
        return self.log.completed_since(kind, slot, self.plan.users(kind))

    def run_if_due(self, kind: JobKind, trigger: Trigger) -> ScheduleRun | None:
        slot = self.due(kind, self.clock())
        if slot is None:
            logger.debug("%s: not due", kind)
            return None
        return self.run(kind, trigger=trigger, slot=slot)

    def catch_up(self, should_stop: Callable[[], bool] = lambda: False) -> list[ScheduleRun]:
        """Run at once what was missed while nothing was running."""
        done = []
        for kind in JobKind:
            if should_stop():
                break
            run = self.run_if_due(kind, Trigger.CATCH_UP)
            if run is not None:
                done.append(run)
        return done

    def run(self, kind: JobKind, *, trigger: Trigger, slot: datetime | None = None
            ) -> ScheduleRun | None:
        """Run `kind` now; for a `slot`, only if no other process completed it meanwhile
        (None then). Raises Locked when another process is running it."""
        ran = self._run_locked(kind, trigger, slot)
        if ran is None:
            return None
        run, result = ran
        compliance = ""
        if kind is JobKind.DRILL and self.plan.report_after_drill:
            try:
                after, after_result = self._run_locked(JobKind.REPORT, Trigger.AFTER_DRILL,
                                                       None) or (None, None)
            except Locked as exc:
                logger.warning("report: not written after the drill: %s", exc)
                after = after_result = None
            if after is not None and after_result is not None:
                self._notify(after, after_result)
                compliance = after.report if after.status is RunStatus.OK else ""
        self._notify(run, result, compliance)
        return run

    def _run_locked(self, kind: JobKind, trigger: Trigger, slot: datetime | None
                    ) -> tuple[ScheduleRun, JobResult] | None:
        lock = FileLock(self.plan.lock_path(kind.value), f"the {kind} job")
        with lock.held(self.clock()):
            if slot is not None and self._completed(kind, slot):
                logger.info("%s: already done by another process", kind)
                return None  # a cron job finished it between our look and our lock
            now = self.clock()
            if self.log.interrupt_stale(kind, now):
                logger.warning("%s: an earlier run was interrupted; it is retried now", kind)
            accounts = (self.log.accounts_since(now - REPORT_PERIOD)
                        if kind is JobKind.REPORT else ())
            request = self.plan.request(kind, now, self._drill_targets(kind, slot), accounts,
                                        self._canaries(kind, slot))
            run_id = self.log.start(kind, slot, trigger, now)
            logger.info("%s: started (%s)", kind, trigger)
            try:
                result = self.runner(request)
            except Exception as exc:  # noqa: BLE001 - a failing job never stops the service
                result = JobResult(RunStatus.FAILED, None,
                                   f"the {kind} job could not run: {type(exc).__name__}: {exc}")
            result = result.redacted()
            self.log.finish(run_id, result, self.clock())
            prune_reports(self.plan.output_dir, REPORT_PREFIX[kind], self.plan.keep_reports,
                          per_account=kind is JobKind.REPORT)
            level = logging.INFO if result.status is RunStatus.OK else logging.WARNING
            logger.log(level, "%s: %s: %s", kind, result.status, result.summary)
            return self.log.get(run_id), result

    def _drill_targets(self, kind: JobKind, slot: datetime | None
                       ) -> tuple[tuple[str, str], ...] | None:
        """For a slot's drill, the users without a succeeded drill since the slot: when one
        of several drills failed, the retry must not rotate the others' keys again."""
        if kind is not JobKind.DRILL or slot is None:
            return None
        done = self.log.drilled_since(slot, [user for user, _ in self.plan.drill_targets])
        return tuple(t for t in self.plan.drill_targets if t[0] not in done)

    def _canaries(self, kind: JobKind, slot: datetime | None) -> tuple[str, ...] | None:
        """For a slot's detection drill, the canaries not yet measured since the slot:
        a retry after one drill could not run does not hand the others a key again."""
        if kind is not JobKind.DETECT or slot is None:
            return None
        done = self.log.detected_since(slot, self.plan.canaries)
        return tuple(user for user in self.plan.canaries if user not in done)

    def _notify(self, run: ScheduleRun, result: JobResult, compliance: str = "") -> None:
        if not result.needs_a_person:
            return
        if not self.notifier.channels:
            self.log.set_notified(run.run_id, "no channel configured")
            return
        failures = self.notifier.send(job_message(run, result, compliance))
        for failure in failures:
            logger.warning("%s: notification failed: %s", run.job, failure)
        sent = [c for c in self.notifier.channels if not any(f.startswith(c) for f in failures)]
        self.log.set_notified(run.run_id, ", ".join(sent) + (
            f"; failed: {'; '.join(failures)}" if failures else ""))


def job_message(run: ScheduleRun, result: JobResult, compliance: str = "") -> Message:
    what = {RunStatus.ALERT: "needs attention", RunStatus.FAILED: "failed",
            RunStatus.INTERRUPTED: "was interrupted"}.get(result.status, "ran")
    lines = [result.summary, *result.details]
    if result.report:
        lines.append(f"report: {result.report}")
    if compliance:
        lines.append(f"compliance report: {compliance}")
    if result.status is RunStatus.FAILED:
        lines.append("it is retried at its next slot")
    lines.append(f"host: {run.host}; started {iso(run.started_at)} ({run.trigger})")
    return message(f"irready {run.job} {what}: {result.summary}", lines,
                   {"job": run.job.value, "status": result.status.value,
                    "report": result.report or compliance, "host": run.host,
                    "started_at": iso(run.started_at)})


def open_executor(config: Config, store: HistoryStore) -> Executor:
    """The executor for the CLI: checks that reports can be written first."""
    executor = Executor(config, store)
    named_by = ("schedule.output_dir" if config.schedule.output_dir
                else "reports.dir" if config.reports.dir else "")
    ensure_writable(executor.plan.output_dir, named_by)
    return executor


def job_exit_code(result_status: RunStatus, exit_code: int | None) -> int:
    """`irready schedule job`'s exit: the job's own code, and never 0 when a person is
    needed (cron mails and alerts on it)."""
    if result_status is RunStatus.OK:
        return 0
    if exit_code and exit_code > 0:
        return exit_code
    return int(ExitCode.FAILED)
