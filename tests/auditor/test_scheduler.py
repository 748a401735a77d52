"""The scheduler's service with a simulated clock and sleeper: six months of ticks run
in a second. Jobs are counted by an injected runner, so the rules are tested on their
own: every slot runs exactly once, a restart (even one that killed a job) neither loses
nor repeats a slot, a failing job is notified and retried at its next slot, SIGTERM
stops the service once the running job has ended, and locks keep runs apart."""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from test_notify import Webhook

from auditor.cadence import Cadence, Period, load_timezone, parse_cadence
from auditor.config import Config, DrillSettings, InventoryEntry, ScheduleSettings
from auditor.errors import ConfigError, Locked
from auditor.models import AuditRun
from auditor.notify import NotifySettings
from auditor.scheduler.executor import Executor
from auditor.scheduler.jobs import JobRequest, JobResult
from auditor.scheduler.lock import FileLock
from auditor.scheduler.log import ScheduleLog
from auditor.scheduler.service import Service
from auditor.scheduler.status import schedule_status
from auditor.scheduler.vocabulary import JobKind, RunStatus, ScheduleRun, Trigger
from auditor.store import DrillRecord, HistoryStore

START = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
END = datetime(2026, 7, 2, tzinfo=UTC)  # 182 days = 26 weeks later
MONDAYS = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(26)]
JOB_MINUTES = 3


class SimClock:
    """Now, and a sleeper that advances now instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.stop_at: datetime | None = None
        self.on_stop: Callable[[], None] = lambda: None
        self.sleeps = 0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += timedelta(seconds=seconds)
        if self.stop_at is not None and self.now >= self.stop_at:
            self.on_stop()


class Killed(BaseException):
    """Stands for kill -9 in the middle of a job: nothing after it runs."""


class CountingRunner:
    """Stands in for the subprocesses: records each request, takes a few minutes, and
    fails (or kills the service) on the days it is told to."""

    def __init__(self, clock: SimClock, history: Path | None = None) -> None:
        self.clock = clock
        self.history = history  # where a successful audit stores its run, as irready's does
        self.requests: list[JobRequest] = []
        self.failing: set[tuple[JobKind, date]] = set()
        self.alerting: set[tuple[JobKind, date]] = set()  # ran, but a person is needed
        self.kill_on: tuple[JobKind, date] | None = None
        self.on_run: Callable[[JobRequest], None] = lambda request: None

    def __call__(self, request: JobRequest) -> JobResult:
        self.requests.append(request)
        self.on_run(request)
        self.clock.advance(timedelta(minutes=JOB_MINUTES))
        when = (request.job, request.started_at.date())
        if when == self.kill_on:
            self.kill_on = None
            raise Killed
        if when in self.failing:
            return JobResult(RunStatus.FAILED, 3, f"the {request.job} failed (exit 3): "
                             "irready: error: cannot reach AWS")
        if when in self.alerting:
            return JobResult(RunStatus.ALERT, 1, f"the {request.job} needs a person")
        if request.job is JobKind.AUDIT and self.history is not None:
            with HistoryStore(self.history) as store:
                store.save_run(AuditRun("123456789012", request.started_at, self.clock.now, ()))
        return JobResult(RunStatus.OK, 0, "all good")

    def count(self, job: JobKind) -> int:
        return sum(1 for request in self.requests if request.job is job)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return replace(
        Config(),
        history_path=str(tmp_path / "history.sqlite3"),
        drill=DrillSettings(users=("drill-user",)),
        inventory=(InventoryEntry("drill-user", "platform team", "secretsmanager:app-key"),),
        schedule=ScheduleSettings(output_dir=str(tmp_path / "reports")),
    )


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def runner(clock: SimClock, config: Config) -> CountingRunner:
    return CountingRunner(clock, config.history_file)


def serve(config: Config, clock: SimClock, runner: CountingRunner, until: datetime) -> Service:
    """Run the service on the simulated clock until `until`, then stop it."""
    with HistoryStore(config.history_file) as store:
        executor = Executor(config, store, runner=runner, clock=clock)
        service = Service(executor, sleep=clock.sleep, max_sleep=3600)
        clock.stop_at, clock.on_stop = until, service.stop
        service.run()
    return service


def audited_before_start(config: Config) -> None:
    """An audit by hand before the schedule's first start: the report of the 1st has
    something to report (without one it waits for the first audit)."""
    with HistoryStore(config.history_file) as store:
        store.save_run(AuditRun("123456789012", START - timedelta(days=1),
                                START - timedelta(days=1), ()))


def completed_runs(config: Config, job: JobKind) -> list[ScheduleRun]:
    with HistoryStore(config.history_file) as store:
        return [run for run in reversed(ScheduleLog(store).runs(job))
                if run.status in (RunStatus.OK, RunStatus.ALERT)]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


# -- six months --------------------------------------------------------------------


def test_six_months_run_26_audits_2_drills_and_every_report(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    audited_before_start(config)
    service = serve(config, clock, runner, END)

    assert runner.count(JobKind.AUDIT) == 26
    assert runner.count(JobKind.DRILL) == 2
    audits = completed_runs(config, JobKind.AUDIT)
    assert [run.slot for run in audits] == [at(monday, 6) for monday in MONDAYS]
    assert [run.started_at for run in audits] == [at(monday, 6) for monday in MONDAYS]
    drills = completed_runs(config, JobKind.DRILL)
    assert [run.slot for run in drills] == [at(date(2026, 1, 5), 7), at(date(2026, 4, 6), 7)]
    # the compliance PDF: on the 1st of each month, and after each drill
    reports = completed_runs(config, JobKind.REPORT)
    assert [(run.started_at.date(), run.trigger) for run in reports] == [
        (date(2026, 1, 1), "schedule"), (date(2026, 1, 5), "after-drill"),
        (date(2026, 2, 1), "schedule"), (date(2026, 3, 1), "schedule"),
        (date(2026, 4, 1), "schedule"), (date(2026, 4, 6), "after-drill"),
        (date(2026, 5, 1), "schedule"), (date(2026, 6, 1), "schedule"),
        (date(2026, 7, 1), "schedule"),
    ]
    # the drill's report request names the same config and writes under output_dir
    drill = next(r for r in runner.requests if r.job is JobKind.DRILL)
    drill_report = Path(config.schedule.output_dir) / "drill-20260105T070000Z-drill-user.json"
    assert drill.commands == (("drill", "rotate", "--user", "drill-user",
                               "--target", "secretsmanager:app-key", "--make-room",
                               "--format", "json",
                               "--output", str(drill_report)),)
    assert service.ticks > 0
    assert clock.sleeps < 2 * 182 * 24  # it sleeps until the next tick, not minute by minute


@pytest.mark.parametrize(
    ("stop", "restart"),
    [
        pytest.param(at(date(2026, 4, 2), 12), at(date(2026, 4, 2), 12),
                     id="restart at once, mid-quarter"),
        pytest.param(at(date(2026, 4, 6), 7, 30), at(date(2026, 4, 6), 7, 30),
                     id="restart right after the audit and the drill ran"),
        pytest.param(at(date(2026, 4, 4), 12), at(date(2026, 4, 8), 12),
                     id="down over the audit and the drill: both caught up"),
    ],
)
def test_a_restart_halfway_loses_nothing_and_repeats_nothing(
        config: Config, clock: SimClock, runner: CountingRunner, stop: datetime,
        restart: datetime) -> None:
    serve(config, clock, runner, stop)
    clock.now = restart
    serve(config, clock, runner, END)

    assert runner.count(JobKind.AUDIT) == 26
    assert runner.count(JobKind.DRILL) == 2
    audits = completed_runs(config, JobKind.AUDIT)
    assert [run.slot for run in audits] == [at(monday, 6) for monday in MONDAYS]


def test_catch_up_runs_what_was_missed_at_start(config: Config, clock: SimClock,
                                               runner: CountingRunner) -> None:
    serve(config, clock, runner, at(date(2026, 4, 4), 12))
    clock.now = at(date(2026, 4, 8), 12)
    serve(config, clock, runner, at(date(2026, 4, 8), 13))

    caught = [run for run in completed_runs(config, JobKind.AUDIT) if run.trigger == "catch-up"]
    assert [(run.slot, run.started_at) for run in caught] == [
        (at(date(2026, 4, 6), 6), at(date(2026, 4, 8), 12))]
    (drill,) = [run for run in completed_runs(config, JobKind.DRILL) if run.trigger == "catch-up"]
    assert drill.slot == at(date(2026, 4, 6), 7)


def test_a_missed_drill_waits_for_the_next_window_if_configured(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    config = replace(config, schedule=replace(config.schedule, catch_up_drill=False))
    serve(config, clock, runner, at(date(2026, 4, 4), 12))
    clock.now = at(date(2026, 4, 8), 12)
    serve(config, clock, runner, END)

    assert [run.slot for run in completed_runs(config, JobKind.DRILL)] == [
        at(date(2026, 1, 5), 7)]
    assert runner.count(JobKind.AUDIT) == 26  # the audit is caught up all the same


def test_a_service_killed_in_a_job_reruns_that_slot_once(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    runner.kill_on = (JobKind.AUDIT, date(2026, 3, 2))
    with pytest.raises(Killed):
        serve(config, clock, runner, END)
    clock.advance(timedelta(hours=1))
    serve(config, clock, runner, END)

    with HistoryStore(config.history_file) as store:
        interrupted = [run for run in ScheduleLog(store).runs(JobKind.AUDIT)
                       if run.status is RunStatus.INTERRUPTED]
    assert [run.slot for run in interrupted] == [at(date(2026, 3, 2), 6)]
    audits = completed_runs(config, JobKind.AUDIT)
    assert [run.slot for run in audits] == [at(monday, 6) for monday in MONDAYS]
    assert audits[8].trigger == "catch-up"


def test_a_failing_job_is_notified_and_retried_at_its_next_slot(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    runner.failing = {(JobKind.AUDIT, date(2026, 1, 19)), (JobKind.DRILL, date(2026, 1, 5))}
    with Webhook() as webhook:
        config = replace(config, notify=NotifySettings(webhook_url=webhook.url))
        serve(config, clock, runner, END)

    assert runner.count(JobKind.AUDIT) == 26  # the failed week is not repeated mid-week
    assert [run.started_at for run in completed_runs(config, JobKind.AUDIT)] == [
        at(monday, 6) for monday in MONDAYS if monday != date(2026, 1, 19)]
    # the quarterly drill ticks daily: the failed one is retried the next morning
    drills = completed_runs(config, JobKind.DRILL)
    assert [run.started_at for run in drills] == [at(date(2026, 1, 6), 7),
                                                  at(date(2026, 4, 6), 7)]
    assert runner.count(JobKind.DRILL) == 3
    texts = [post["text"] for post in webhook.posts]
    assert len(texts) == 2
    audit_text = next(text for text in texts if text.startswith("irready audit failed"))
    assert "cannot reach AWS" in audit_text
    assert "it is retried at its next slot" in audit_text
    assert any(text.startswith("irready drill failed") for text in texts)
    with HistoryStore(config.history_file) as store:
        failed = [run for run in ScheduleLog(store).runs() if run.status is RunStatus.FAILED]
    assert {run.notified for run in failed} == {"webhook"}


def test_a_retried_drill_rotates_only_the_users_not_yet_drilled_this_quarter(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    config = replace(
        config, drill=DrillSettings(users=("drill-user", "other-user")),
        inventory=(*config.inventory,
                   InventoryEntry("other-user", "platform team", "ssm:/other/key")))

    def first_drill_half_done(request: JobRequest) -> None:
        """drill-user's drill succeeds and is recorded; other-user's fails the job."""
        if request.job is JobKind.DRILL and request.started_at.date() == date(2026, 1, 5):
            runner.failing.add((JobKind.DRILL, date(2026, 1, 5)))
            with HistoryStore(config.history_file) as store:
                store.save_drill(DrillRecord("d-1", "123456789012", "drill-user", "t",
                                             "SUCCEEDED", clock.now, clock.now, 60.0, 900.0))

    runner.on_run = first_drill_half_done
    serve(config, clock, runner, at(date(2026, 1, 7), 0))

    drills = [r for r in runner.requests if r.job is JobKind.DRILL]
    assert [r.started_at.date() for r in drills] == [date(2026, 1, 5), date(2026, 1, 6)]
    users = [[c[c.index("--user") + 1] for c in r.commands] for r in drills]
    # a drill rotates a real key: the user already drilled this quarter is not rotated again
    assert users == [["drill-user", "other-user"], ["other-user"]]
    assert [run.started_at.date() for run in completed_runs(config, JobKind.DRILL)] == [
        date(2026, 1, 6)]


def test_an_exception_in_the_runner_is_a_failed_run_not_a_dead_service(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    def explode(request: JobRequest) -> None:
        if request.job is JobKind.REPORT:
            raise RuntimeError("disk on fire")

    runner.on_run = explode
    serve(config, clock, runner, at(date(2026, 1, 13), 0))

    with HistoryStore(config.history_file) as store:
        report = ScheduleLog(store).runs(JobKind.REPORT)[-1]
    assert report.status is RunStatus.FAILED
    assert report.summary == "the report job could not run: RuntimeError: disk on fire"
    assert runner.count(JobKind.AUDIT) == 2  # and the service went on


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_service_after_the_running_job_ends(
        config: Config, clock: SimClock, runner: CountingRunner, signum: int) -> None:
    def terminate(request: JobRequest) -> None:
        os.kill(os.getpid(), signum)

    runner.on_run = terminate
    previous = signal.getsignal(signum)
    audited_before_start(config)
    serve(config, clock, runner, END)

    (only,) = runner.requests  # the first job (the report of Jan 1) and nothing after it
    (run,) = completed_runs(config, only.job)
    assert run.status is RunStatus.OK
    assert clock.now < datetime(2026, 1, 2, tzinfo=UTC)
    assert signal.getsignal(signum) == previous


def test_a_signal_while_asleep_ends_the_nap(config: Config, clock: SimClock,
                                            runner: CountingRunner) -> None:
    def sleep_then_signal(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.sleeps == 3:
            os.kill(os.getpid(), signal.SIGTERM)
            raise AssertionError("the signal should have ended this nap")

    with HistoryStore(config.history_file) as store:
        service = Service(Executor(config, store, runner=runner, clock=clock),
                          sleep=sleep_then_signal, max_sleep=3600)
        service.run()
    assert service.stopping
    assert clock.sleeps == 3


def test_a_time_zone_with_daylight_saving(config: Config, clock: SimClock,
                                          runner: CountingRunner) -> None:
    config = replace(config, schedule=replace(config.schedule, timezone="Europe/Paris"))
    serve(config, clock, runner, END)

    starts = [run.started_at for run in completed_runs(config, JobKind.AUDIT)]
    assert len(starts) == 26
    # Monday 06:00 in Paris: 05:00 UTC in winter, 04:00 UTC from the last Sunday of March
    assert {s.hour for s in starts if s.date() < date(2026, 3, 29)} == {5}
    assert {s.hour for s in starts if s.date() > date(2026, 3, 29)} == {4}


def test_a_slot_in_the_autumn_hour_that_happens_twice_runs_once(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    # 02:30 happens twice in Paris on 2026-10-25; the service wakes at the first one
    config = replace(config, schedule=replace(
        config.schedule, timezone="Europe/Paris", audit="daily 02:30", drill="off",
        report="off"))
    clock.now = datetime(2026, 10, 23, 12, tzinfo=UTC)
    serve(config, clock, runner, datetime(2026, 10, 28, 12, tzinfo=UTC))

    starts = [run.started_at for run in completed_runs(config, JobKind.AUDIT)]
    # the 23rd's 02:30 passed before the first start: not missed
    assert [s.date() for s in starts] == [date(2026, 10, d) for d in range(24, 29)]
    assert datetime(2026, 10, 25, 0, 30, tzinfo=UTC) in starts  # 02:30 CEST, not missed
    assert runner.count(JobKind.AUDIT) == 5


def test_a_service_without_a_notification_channel_says_so_at_start(
        config: Config, clock: SimClock, runner: CountingRunner,
        caplog: pytest.LogCaptureFixture) -> None:
    serve(config, clock, runner, clock.now + timedelta(minutes=1))
    assert "no [notify] channel is configured: a failed job reaches nobody" in caplog.text


# -- what counts as done --------------------------------------------------------------


def test_an_audit_run_by_hand_completes_its_slot(config: Config, clock: SimClock,
                                                 runner: CountingRunner) -> None:
    with HistoryStore(config.history_file) as store:
        ScheduleLog(store).ensure_epoch(START)
        executor = Executor(config, store, runner=runner, clock=clock)
        assert executor.due(JobKind.AUDIT, at(date(2026, 1, 5), 6, 10)) == at(date(2026, 1, 5), 6)
        manual = at(date(2026, 1, 5), 6, 30)
        store.save_run(AuditRun("123456789012", manual, manual, ()))
        assert executor.due(JobKind.AUDIT, at(date(2026, 1, 5), 9)) is None


def test_a_partial_audit_by_hand_does_not_complete_its_slot(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    """`irready audit --check iam` on a Monday morning is not the weekly audit: the
    weekly one must still run, or the week's full audit is silently skipped."""
    with HistoryStore(config.history_file) as store:
        ScheduleLog(store).ensure_epoch(START)
        executor = Executor(config, store, runner=runner, clock=clock)
        slot = at(date(2026, 1, 5), 6)
        manual = at(date(2026, 1, 5), 6, 30)
        store.save_run(AuditRun("123456789012", manual, manual, (),
                                checks=("iam.console_mfa",), complete=False))
        assert executor.due(JobKind.AUDIT, at(date(2026, 1, 5), 9)) == slot


def test_slots_before_the_first_start_are_not_missed(config: Config, clock: SimClock,
                                                     runner: CountingRunner) -> None:
    clock.now = datetime(2026, 2, 18, 12, tzinfo=UTC)  # a Wednesday, mid-quarter
    serve(config, clock, runner, clock.now + timedelta(hours=1))
    assert runner.requests == []


def test_a_first_start_owes_nothing_for_that_mornings_earlier_slots(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    """A first start on the 1st of a month that is also a Monday, after the audit's 06:00
    and the report's 08:00: neither was missed (the report would fail: nothing audited)."""
    clock.now = datetime(2026, 6, 1, 9, tzinfo=UTC)  # Monday 1 June
    serve(config, clock, runner, clock.now + timedelta(hours=1))
    assert runner.requests == []


def test_a_first_start_by_the_slots_own_cron_line_runs_it(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    """cron starts `schedule job audit --if-due` at 06:00; the store is new, so that run
    sets the schedule's epoch a few seconds after the slot it is meant to run."""
    with HistoryStore(config.history_file) as store:
        executor = Executor(config, store, runner=runner, clock=clock)
        clock.now = at(MONDAYS[0], 6) + timedelta(seconds=2)
        executor.log.ensure_epoch(clock.now)
        assert executor.due(JobKind.AUDIT, clock.now) == at(MONDAYS[0], 6)


def test_a_slot_that_comes_due_during_the_catch_up_runs_once_at_once(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    """Down over the 1st of February (the monthly report), restarted on Monday the 2nd at
    05:59:30: the report is caught up until 06:02:30, and the 06:00 audit runs right
    after it, not a week later."""
    config = replace(config, schedule=replace(config.schedule, drill="off"))
    serve(config, clock, runner, at(date(2026, 1, 31), 12))
    clock.now = at(date(2026, 2, 2), 5, 59) + timedelta(seconds=30)
    serve(config, clock, runner, at(date(2026, 2, 2), 7))

    (report,) = [run for run in completed_runs(config, JobKind.REPORT)
                 if run.started_at.date() == date(2026, 2, 2)]
    assert report.trigger == "catch-up"
    audits = [run for run in completed_runs(config, JobKind.AUDIT)
              if run.slot == at(date(2026, 2, 2), 6)]
    assert [(run.trigger, run.started_at) for run in audits] == [
        ("schedule", at(date(2026, 2, 2), 6, 2) + timedelta(seconds=30))]


def test_status_says_no_report_after_drills_when_drills_are_off(config: Config) -> None:
    without_users = replace(config, drill=DrillSettings())
    drills_off = replace(config, schedule=replace(config.schedule, drill="off"))
    for each in (without_users, drills_off):
        with HistoryStore(each.history_file) as store:
            assert Executor(each, store).plan.describe(JobKind.REPORT) == (
                "monthly, the 1st of each month at 08:00")
    with HistoryStore(config.history_file) as store:
        assert Executor(config, store).plan.describe(JobKind.REPORT) == (
            "after each drill; monthly, the 1st of each month at 08:00")


# -- locks ----------------------------------------------------------------------------


def test_a_second_scheduler_says_who_holds_the_lock(config: Config, clock: SimClock,
                                                    runner: CountingRunner) -> None:
    with HistoryStore(config.history_file) as store:
        executor = Executor(config, store, runner=runner, clock=clock)
        lock = FileLock(executor.plan.lock_path("scheduler"), "another irready scheduler")
        with lock.held(START), pytest.raises(Locked) as caught:
            Service(executor, sleep=clock.sleep).run()
    assert caught.value.exit_code == 5
    assert caught.value.message.startswith(
        f"another irready scheduler is already running: pid {os.getpid()} on ")
    assert "since 2026-01-01T00:00:00.000Z (lock " in caught.value.message
    assert runner.requests == []


def test_a_job_held_by_cron_is_skipped_not_doubled(config: Config, clock: SimClock,
                                                    runner: CountingRunner) -> None:
    with HistoryStore(config.history_file) as store:
        plan = Executor(config, store).plan
    cron_audit = FileLock(plan.lock_path("audit"), "the audit job")

    def hold_audit_lock(request: JobRequest) -> None:
        # a cron job starts the audit just before the service's own tick
        if request.job is JobKind.REPORT:
            cron_audit.acquire(clock())

    runner.on_run = hold_audit_lock
    audited_before_start(config)
    serve(config, clock, runner, at(date(2026, 1, 5), 6, 30))
    cron_audit.release()

    assert runner.count(JobKind.AUDIT) == 0
    with HistoryStore(config.history_file) as store:
        assert ScheduleLog(store).runs(JobKind.AUDIT) == []  # the cron job records its own


def test_a_slot_done_by_cron_between_look_and_lock_is_not_run_again(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    clock.now = at(date(2026, 1, 5), 6, 1)
    with HistoryStore(config.history_file) as store:
        log = ScheduleLog(store)
        log.ensure_epoch(START)
        executor = Executor(config, store, runner=runner, clock=clock)
        slot = executor.due(JobKind.AUDIT, clock.now)
        assert slot == at(date(2026, 1, 5), 6)
        cron = log.start(JobKind.AUDIT, slot, Trigger.CRON, clock.now)  # another process
        log.finish(cron, JobResult(RunStatus.OK, 0, "all good"), clock.now)

        assert executor.run(JobKind.AUDIT, trigger=Trigger.SCHEDULE, slot=slot) is None
    assert runner.requests == []


def test_lock_holder_is_none_when_free(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "x.lock", "x")
    assert lock.holder() is None
    with lock.held(START):
        holder = lock.holder()
        assert holder is not None
        assert holder.pid == os.getpid()
        assert holder.since == START
    assert lock.holder() is None


# -- status -----------------------------------------------------------------------------


def test_status_says_what_ran_and_what_is_next(config: Config, clock: SimClock,
                                               runner: CountingRunner) -> None:
    runner.failing = {(JobKind.AUDIT, date(2026, 1, 12))}
    serve(config, clock, runner, at(date(2026, 1, 14), 0))

    with HistoryStore(config.history_file) as store:
        state = schedule_status(Executor(config, store, runner=runner), clock.now)
    jobs = {row.job: row for row in state.jobs}
    audit = jobs[JobKind.AUDIT]
    assert audit.last is not None
    assert audit.last.status is RunStatus.FAILED
    assert audit.overdue_since == at(date(2026, 1, 12), 6)
    assert audit.next_run == at(date(2026, 1, 19), 6)
    drill = jobs[JobKind.DRILL]
    assert drill.last is not None
    assert drill.last.status is RunStatus.OK
    assert drill.overdue_since is None
    assert drill.next_run == at(date(2026, 4, 6), 7)
    assert state.epoch == START
    assert state.service is None


# -- cadences -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("monday 06:00", Cadence(Period.WEEKLY, time(6), 0), id="weekday"),
        pytest.param("every Friday at 18:30", Cadence(Period.WEEKLY, time(18, 30), 4),
                     id="with every and at"),
        pytest.param("mondays 6:05", Cadence(Period.WEEKLY, time(6, 5), 0), id="plural"),
        pytest.param("daily 00:00", Cadence(Period.DAILY, time(0)), id="daily"),
        pytest.param("quarterly monday 07:00", Cadence(Period.QUARTERLY, time(7), 0),
                     id="quarterly"),
        pytest.param("monthly 08:00", Cadence(Period.MONTHLY, time(8)), id="monthly on the 1st"),
        pytest.param("monthly tue 09:00", Cadence(Period.MONTHLY, time(9), 1),
                     id="monthly on a weekday"),
        pytest.param("off", Cadence(Period.OFF), id="off"),
    ],
)
def test_cadences_read(text: str, expected: Cadence) -> None:
    assert parse_cadence(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("mondy 06:00", "cannot read 'mondy 06:00' (expected 'daily HH:MM', "
                     "'<weekday> HH:MM', 'monthly [<weekday>] HH:MM', "
                     "'quarterly [<weekday>] HH:MM' or 'off')", id="typo"),
        pytest.param("monday 25:00", "'25:00' in 'monday 25:00' is not a time HH:MM (24-hour)",
                     id="hour"),
        pytest.param("quarterly funday 07:00", "'funday' is not a weekday in "
                     "'quarterly funday 07:00'", id="weekday"),
        pytest.param("monthly", "cannot read 'monthly' (expected 'daily HH:MM', "
                     "'<weekday> HH:MM', 'monthly [<weekday>] HH:MM', "
                     "'quarterly [<weekday>] HH:MM' or 'off')", id="no time"),
        pytest.param("quarterly monday 07:30 and 08:00", "cannot read 'quarterly monday "
                     "07:30 and 08:00' (expected 'daily HH:MM', '<weekday> HH:MM', "
                     "'monthly [<weekday>] HH:MM', 'quarterly [<weekday>] HH:MM' or 'off')",
                     id="words left over"),
    ],
)
def test_bad_cadences_say_what_is_accepted(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(error)}$"):
        parse_cadence(text)


@pytest.mark.parametrize(
    ("now", "latest", "following"),
    [
        pytest.param(at(date(2026, 1, 5), 6, 59), at(date(2025, 10, 6), 7),
                     at(date(2026, 1, 5), 7), id="just before the window"),
        pytest.param(at(date(2026, 1, 5), 7), at(date(2026, 1, 5), 7),
                     at(date(2026, 4, 6), 7), id="at the window"),
        pytest.param(at(date(2026, 9, 30), 23), at(date(2026, 7, 6), 7),
                     at(date(2026, 10, 5), 7), id="late in a quarter"),
    ],
)
def test_quarterly_slots_are_the_first_monday_of_the_quarter(
        now: datetime, latest: datetime, following: datetime) -> None:
    cadence = parse_cadence("quarterly monday 07:00")
    assert cadence.latest_slot(now, load_timezone("UTC")) == latest
    assert cadence.next_slot(now, load_timezone("UTC")) == following


def test_plan_refuses_a_drill_user_without_a_target(config: Config) -> None:
    config = replace(config, inventory=())
    with HistoryStore(config.history_file) as store, pytest.raises(ConfigError) as caught:
        Executor(config, store)
    assert caught.value.message == ("[drill] users lists 'drill-user' but no [[inventory]] "
                                    "entry gives it a rotation_target to drill")


@pytest.fixture(autouse=True)
def _no_leaked_locks(tmp_path: Path) -> Iterator[None]:
    yield
    for path in tmp_path.glob("*.lock"):
        assert FileLock(path, "").holder() is None, f"{path.name} left held"


# -- one compliance report per account ----------------------------------------------------


def test_the_compliance_report_is_written_per_account(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    """`report compliance` refuses to pick one of several accounts (exit 2): the scheduled
    report is one command per account audited in its 90 days, each file naming its
    account; an account last audited before those 90 days gets none."""
    now = at(date(2026, 6, 1), 8)
    clock.now = now
    with HistoryStore(config.history_file) as store:
        for account, days_ago in (("222222222222", 3), ("111111111111", 10),
                                  ("333333333333", 120)):
            started = now - timedelta(days=days_ago)
            store.save_run(AuditRun(account, started, started, ()))
        Executor(config, store, runner=runner, clock=clock).run(JobKind.REPORT,
                                                                trigger=Trigger.MANUAL)
    (request,) = runner.requests
    folder = Path(config.schedule.output_dir)
    assert request.commands == tuple(
        ("report", "compliance", "--account", account, "--output",
         str(folder / f"compliance-20260601T080000Z-{account}.pdf"))
        for account in ("111111111111", "222222222222"))


def test_the_monthly_report_waits_for_something_to_report(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    """A schedule first started on 30 December, nothing audited yet: the report of
    1 January would fail ("no audit runs"); it runs at its first tick after the first
    weekly audit instead."""
    config = replace(config, schedule=replace(config.schedule, drill="off"))
    clock.now = datetime(2025, 12, 30, 12, tzinfo=UTC)
    serve(config, clock, runner, at(date(2026, 1, 7), 0))

    assert [(r.job, r.started_at) for r in runner.requests] == [
        (JobKind.AUDIT, at(MONDAYS[0], 6)), (JobKind.REPORT, at(MONDAYS[0], 8))]
    (report,) = completed_runs(config, JobKind.REPORT)
    assert report.slot == at(date(2026, 1, 1), 8)


# -- the detection drill -----------------------------------------------------------------


def with_canaries(config: Config, *canaries: str) -> Config:
    return replace(config, drill=replace(config.drill, canaries=canaries))


def test_the_detection_drill_runs_each_quarter_after_the_rotation_drill(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    config = with_canaries(config, "canary-user", "other-canary")
    serve(config, clock, runner, END)

    detections = completed_runs(config, JobKind.DETECT)
    assert [run.slot for run in detections] == [at(date(2026, 1, 5), 7, 30),
                                                at(date(2026, 4, 6), 7, 30)]
    drills = completed_runs(config, JobKind.DRILL)
    assert all(d.finished_at is not None and d.finished_at <= run.started_at
               for d, run in zip(drills, detections, strict=True))
    assert runner.count(JobKind.DETECT) == 2
    first = next(r for r in runner.requests if r.job is JobKind.DETECT)
    folder = Path(config.schedule.output_dir)
    assert first.commands == tuple(
        ("drill", "detect", "--user", user, "--format", "json", "--output",
         str(folder / f"detect-20260105T073000Z-{user}.json"))
        for user in ("canary-user", "other-canary"))
    assert first.canaries == ("canary-user", "other-canary")


def test_a_call_not_seen_is_notified_and_completes_the_quarter(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    runner.alerting = {(JobKind.DETECT, date(2026, 1, 5))}
    with Webhook() as webhook:
        config = replace(with_canaries(config, "canary-user"),
                         notify=NotifySettings(webhook_url=webhook.url))
        serve(config, clock, runner, END)

    assert runner.count(JobKind.DETECT) == 2  # not retried the next morning
    runs = completed_runs(config, JobKind.DETECT)
    assert [(run.status, run.exit_code) for run in runs] == [(RunStatus.ALERT, 1),
                                                             (RunStatus.OK, 0)]
    (text,) = [post["text"] for post in webhook.posts]
    assert text.startswith("irready detect needs attention: the detect needs a person")
    assert runs[0].notified == "webhook"


def test_a_detection_drill_that_could_not_run_is_retried_the_next_morning(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    runner.failing = {(JobKind.DETECT, date(2026, 1, 5))}
    serve(config := with_canaries(config, "canary-user"), clock, runner, END)

    assert [run.started_at for run in completed_runs(config, JobKind.DETECT)] == [
        at(date(2026, 1, 6), 7, 30), at(date(2026, 4, 6), 7, 30)]
    assert runner.count(JobKind.DETECT) == 3


def test_a_retried_detection_drill_hands_a_key_only_to_the_canaries_not_measured(
        config: Config, clock: SimClock, runner: CountingRunner) -> None:
    config = with_canaries(config, "canary-user", "other-canary")
    runner.failing = {(JobKind.DETECT, date(2026, 1, 5))}

    def measured_first(request: JobRequest) -> None:
        """The first canary's drill measured something; the other's could not run."""
        if request.job is JobKind.DETECT and request.started_at.date() == date(2026, 1, 5):
            with HistoryStore(config.history_file) as store:
                store.begin_detect_drill(drill_id="detect-1", account_id="123456789012",
                                         user="canary-user", started_at=request.started_at,
                                         journal={})
                store.finish_detect_drill("detect-1", "NOT_SEEN", clock.now, None)

    runner.on_run = measured_first
    serve(config, clock, runner, at(date(2026, 1, 7), 0))

    retry = [r for r in runner.requests if r.job is JobKind.DETECT][1]
    assert retry.canaries == ("other-canary",)


def test_without_canaries_the_detection_drill_is_skipped_with_a_note(
        config: Config, clock: SimClock, runner: CountingRunner,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="irready.schedule")
    serve(config, clock, runner, at(date(2026, 4, 30), 0))

    assert runner.count(JobKind.DETECT) == 0
    assert runner.count(JobKind.DRILL) == 2
    assert "detect: skipped: no [drill] canaries in the config (quarterly, the first Monday " \
           "of January, April, July and October at 07:30)" in caplog.text
    with HistoryStore(config.history_file) as store:
        status = schedule_status(Executor(config, store, runner=runner, clock=clock),
                                 clock.now)
    (detect,) = [job for job in status.jobs if job.job is JobKind.DETECT]
    assert not detect.enabled
    assert detect.overdue_since is None

