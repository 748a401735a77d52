"""The scheduler: the weekly audit, the quarterly drill and the compliance report, run at
their times as the same `irready` commands cron would run, so that nothing runs twice,
nothing is silently missed, and failures reach a person.

The `schedule` package only wakes the service up. Every decision to run is taken here,
from the history store: a job is *due* when its latest slot (Monday 06:00, the first
Monday of the quarter at 07:00, ...) has no completed run. That one rule gives catch-up
after downtime, the retry of a failed job at its next slot, the quarterly drill
(`schedule` has no month unit, so it is a daily tick that asks whether this quarter's
slot is done) and agreement between the service and cron jobs, which call
`irready schedule job JOB --if-due`. Slots before the day the schedule first ran (its
epoch) are never "missed". File locks (flock, released by the kernel when a process
dies) keep two schedulers, or a scheduler and a cron job, from running a job at once.

Jobs run as subprocesses (`python -m auditor ...`): a crashing job cannot take the
service down, and the service and cron behave identically. The runner is injectable,
as are the clock and the sleeper, so six months of service run in a test in seconds."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time as time_module
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.cadence import WEEKDAYS, Cadence, Period, load_timezone, parse_cadence
from auditor.clock import iso, parse_iso, utcnow
from auditor.errors import ConfigError, ExitCode, Locked
from auditor.notify import Message, Notifier, message, redact

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.models import Severity
    from auditor.store import HistoryStore

logger = logging.getLogger("irready.schedule")

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_STAMP = re.compile(r"^\d{8}T\d{6}Z$")


# -- what to run ----------------------------------------------------------------------


class JobKind(StrEnum):
    AUDIT = "audit"
    DRILL = "drill"
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


class Trigger(StrEnum):
    SCHEDULE = "schedule"  # the service's tick
    CATCH_UP = "catch-up"  # the service's start, for a slot missed while it was down
    CRON = "cron"  # `irready schedule job JOB --if-due`
    MANUAL = "manual"  # `irready schedule job JOB`
    AFTER_DRILL = "after-drill"


@dataclass(frozen=True)
class Plan:
    """The [schedule] settings, parsed and checked against the rest of the config."""

    cadences: Mapping[JobKind, Cadence]
    timezone: str
    report_after_drill: bool
    catch_up_drill: bool
    output_dir: Path
    keep_reports: int
    timeout_seconds: float
    drill_targets: tuple[tuple[str, str], ...]
    config_file: str  # absolute, or "" when the config is the built-in defaults
    history_file: Path
    fail_on: Severity

    @classmethod
    def from_config(cls, config: Config) -> Plan:
        settings = config.schedule
        cadences = {kind: parse_cadence(getattr(settings, kind.value)) for kind in JobKind}
        targets = []
        for user in config.drill.users:
            entry = config.inventory_for(user)
            if entry is not None and entry.rotation_target:
                targets.append((user, entry.rotation_target))
            elif cadences[JobKind.DRILL].enabled:
                raise ConfigError(f"[drill] users lists {user!r} but no [[inventory]] entry "
                                  "gives it a rotation_target to drill")
        output = (config.resolve(settings.output_dir) if settings.output_dir
                  else config.reports_dir)
        return cls(
            cadences=cadences, timezone=settings.timezone,
            report_after_drill=settings.report_after_drill,
            catch_up_drill=settings.catch_up_drill, output_dir=output.absolute(),
            keep_reports=settings.keep_reports,
            timeout_seconds=settings.job_timeout_minutes * 60.0,
            drill_targets=tuple(targets),
            config_file=str(Path(config.source).absolute()) if config.source else "",
            history_file=config.history_file.absolute(), fail_on=config.fail_on,
        )

    @property
    def tz(self) -> tzinfo:
        return load_timezone(self.timezone)

    def enabled(self, kind: JobKind) -> bool:
        return self.cadences[kind].enabled and (kind is not JobKind.DRILL
                                                or bool(self.drill_targets))

    def describe(self, kind: JobKind) -> str:
        cadence = self.cadences[kind]
        if kind is JobKind.DRILL and cadence.enabled and not self.drill_targets:
            return "off: no [drill] users in the config"
        text = cadence.describe()
        if kind is JobKind.REPORT and self.report_after_drill:
            text = "after each drill" + ("" if text == "off" else f"; {text}")
        return text

    def lock_path(self, name: str) -> Path:
        return self.history_file.with_name(f"{self.history_file.name}.{name}.lock")

    def config_args(self) -> tuple[str, ...]:
        return ("--config", self.config_file) if self.config_file else ()

    def request(self, kind: JobKind, now: datetime,
                drill_targets: Sequence[tuple[str, str]] | None = None) -> JobRequest:
        """The commands of one run; `drill_targets` narrows a drill to some users."""
        stamp = now.astimezone(UTC).strftime(STAMP_FORMAT)
        targets = tuple(self.drill_targets if drill_targets is None else drill_targets)
        if kind is JobKind.AUDIT:
            report = self.output_dir / f"audit-{stamp}.json"
            commands: tuple[tuple[str, ...], ...] = (
                ("audit", "--format", "json", "--output", str(report), *self.config_args()),)
        elif kind is JobKind.DRILL:
            report = None  # one JSON report per drilled user, named in its command
            # --make-room: each drill leaves the old key inactive beside the new one (IAM
            # allows two), so without it every drill after the first would stop at
            # preflight, fail daily, and need a person to delete a key by hand. Only an
            # inactive key is ever deleted; a second active key still stops the drill.
            commands = tuple(("drill", "rotate", "--user", user, "--target", target,
                              "--make-room", "--format", "json", "--output",
                              str(self.output_dir / f"drill-{stamp}-{_file_safe(user)}.json"),
                              *self.config_args()) for user, target in targets)
        else:
            report = self.output_dir / f"compliance-{stamp}.pdf"
            commands = (("report", "compliance", "--output", str(report),
                         *self.config_args()),)
        return JobRequest(job=kind, commands=commands, report=report, started_at=now,
                          drill_targets=targets if kind is JobKind.DRILL else ())


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+=,-]", "_", name)


def ensure_writable(folder: Path) -> None:
    """Refuse to start when reports could not be written (ConfigError, exit 2)."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".irready-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"schedule.output_dir: cannot write to {folder}: {reason}") from None


# -- locks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    since: datetime | None

    def describe(self) -> str:
        since = f" since {iso(self.since)}" if self.since else ""
        return f"pid {self.pid} on {self.host}{since}"


class FileLock:
    """An exclusive flock on a small file that says who holds it (pid, host, since)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self, now: datetime) -> None:
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot create the lock file {self.path}: "
                              f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            who = holder.describe() if holder else "another process"
            raise Locked(f"{self.what} is already running: {who} (lock {self.path})") from None
        os.ftruncate(fd, 0)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": iso(now)}
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    @contextmanager
    def held(self, now: datetime) -> Iterator[FileLock]:
        self.acquire(now)
        try:
            yield self
        finally:
            self.release()

    def holder(self) -> LockHolder | None:
        """Who holds the lock now, or None when nobody does."""
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return _read_holder(fd) or LockHolder(0, "?", None)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def _read_holder(fd: int) -> LockHolder | None:
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode() or "null")
        return LockHolder(int(record["pid"]), str(record["host"]), parse_iso(record["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


# -- the record of runs ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRun:
    run_id: int
    job: JobKind
    slot: datetime | None
    trigger: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    summary: str
    report: str
    host: str
    pid: int
    notified: str


class ScheduleLog:
    """The scheduler's rows in the history store (table schedule_runs, migration 2)."""

    _COLUMNS = ("id, job, slot, trigger, status, started_at, finished_at, exit_code, summary,"
                " report, host, pid, notified")

    def __init__(self, store: HistoryStore) -> None:
        self.store = store

    def epoch(self) -> datetime | None:
        row = self.store.execute("SELECT value FROM schedule_state WHERE key = 'epoch'"
                                 ).fetchone()
        return parse_iso(row[0]) if row else None

    def ensure_epoch(self, now: datetime) -> datetime:
        self.store.execute("INSERT OR IGNORE INTO schedule_state VALUES ('epoch', ?)", (iso(now),))
        epoch = self.epoch()
        assert epoch is not None
        return epoch

    def start(self, job: JobKind, slot: datetime | None, trigger: Trigger,
              now: datetime) -> int:
        cursor = self.store.execute(
            "INSERT INTO schedule_runs (job, slot, trigger, status, started_at, host, pid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job.value, iso(slot) if slot else None, trigger.value, RunStatus.RUNNING.value,
             iso(now), socket.gethostname(), os.getpid()),
        )
        return int(cursor.lastrowid or 0)

    def finish(self, run_id: int, result: JobResult, now: datetime) -> None:
        self.store.execute(
            "UPDATE schedule_runs SET status = ?, finished_at = ?, exit_code = ?, summary = ?,"
            " report = ? WHERE id = ?",
            (result.status.value, iso(now), result.exit_code, result.summary, result.report,
             run_id),
        )

    def set_notified(self, run_id: int, text: str) -> None:
        self.store.execute("UPDATE schedule_runs SET notified = ? WHERE id = ?", (text, run_id))

    def interrupt_stale(self, job: JobKind, now: datetime) -> int:
        """Runs left RUNNING by a process that died; call only while holding the job's
        lock, which proves that nobody else is running it."""
        cursor = self.store.execute(
            "UPDATE schedule_runs SET status = ?, finished_at = ?,"
            " summary = 'interrupted: the process running it stopped' WHERE job = ? AND status = ?",
            (RunStatus.INTERRUPTED.value, iso(now), job.value, RunStatus.RUNNING.value),
        )
        return cursor.rowcount

    def runs(self, job: JobKind | None = None, limit: int | None = None) -> list[ScheduleRun]:
        """Newest first."""
        sql = f"SELECT {self._COLUMNS} FROM schedule_runs"
        params: list[Any] = []
        if job is not None:
            sql += " WHERE job = ?"
            params.append(job.value)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._run(row) for row in self.store.execute(sql, params).fetchall()]

    def get(self, run_id: int) -> ScheduleRun:
        row = self.store.execute(f"SELECT {self._COLUMNS} FROM schedule_runs WHERE id = ?",
                                 (run_id,)).fetchone()
        return self._run(row)

    def last(self, job: JobKind) -> ScheduleRun | None:
        runs = self.runs(job, limit=1)
        return runs[0] if runs else None

    def completed_since(self, job: JobKind, since: datetime,
                        drill_users: Sequence[str] = ()) -> bool:
        """Whether a run of `job` started at or after `since` did its work. Runs made
        outside the scheduler count too: any complete audit run in the store (a hand-run
        `--check`/`--skip` audit is not the weekly audit), or a succeeded drill of every
        drill user."""
        row = self.store.execute(
            "SELECT 1 FROM schedule_runs WHERE job = ? AND status IN (?, ?) AND started_at >= ?"
            " LIMIT 1", (job.value, *(s.value for s in COMPLETED), iso(since))).fetchone()
        if row is not None:
            return True
        if job is JobKind.AUDIT:
            row = self.store.execute(
                "SELECT 1 FROM audit_runs WHERE complete = 1 AND started_at >= ? LIMIT 1",
                (iso(since),)).fetchone()
            return row is not None
        if job is JobKind.DRILL and drill_users:
            return self.drilled_since(since, drill_users) == set(drill_users)
        return False

    def drilled_since(self, since: datetime, users: Sequence[str]) -> set[str]:
        """Which of `users` have a succeeded drill started at or after `since`."""
        if not users:
            return set()
        marks = ",".join("?" * len(users))
        rows = self.store.execute(
            "SELECT DISTINCT user_name FROM drills WHERE status = 'SUCCEEDED'"
            f" AND started_at >= ? AND user_name IN ({marks})", (iso(since), *users))
        return {str(row[0]) for row in rows.fetchall()}

    @staticmethod
    def _run(row: Sequence[Any]) -> ScheduleRun:
        return ScheduleRun(
            run_id=row[0], job=JobKind(row[1]), slot=parse_iso(row[2]) if row[2] else None,
            trigger=row[3], status=RunStatus(row[4]), started_at=parse_iso(row[5]),
            finished_at=parse_iso(row[6]) if row[6] else None, exit_code=row[7],
            summary=row[8], report=row[9], host=row[10], pid=row[11], notified=row[12])


# -- running a job --------------------------------------------------------------------


@dataclass(frozen=True)
class JobRequest:
    """One job run: the `irready` command lines (without the program) and its report."""

    job: JobKind
    commands: tuple[tuple[str, ...], ...]
    report: Path | None
    started_at: datetime
    drill_targets: tuple[tuple[str, str], ...] = ()  # (user, target) per drill command


@dataclass(frozen=True)
class JobResult:
    status: RunStatus
    exit_code: int | None
    summary: str  # one line
    details: tuple[str, ...] = ()  # what a person reads in the notification
    report: str = ""  # where the report is, when there is one

    @property
    def needs_a_person(self) -> bool:
        return self.status is not RunStatus.OK

    def redacted(self) -> JobResult:
        return replace(self, summary=redact(self.summary),
                       details=tuple(redact(line) for line in self.details))


JobRunner = Callable[[JobRequest], JobResult]


@dataclass(frozen=True)
class Completed:
    """How one command ended."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""

    def last_error_line(self) -> str:
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


Launcher = Callable[[Sequence[str], float], Completed]
TIMED_OUT = -1
INTERRUPT_GRACE_SECONDS = 60.0  # for a drill to roll back after SIGINT
NOT_STARTED = 127
DETAIL_LIMIT = 10


IRREADY = (sys.executable, "-m", "auditor")


def launch_irready(argv: Sequence[str], timeout: float,
                   program: Sequence[str] = IRREADY) -> Completed:
    """Run `python -m auditor ARGV` in its own session: a Ctrl-C on the scheduler's
    terminal reaches only the scheduler, which lets the running job end. A job that
    outlives `timeout` gets SIGINT (a drill then rolls back), then SIGKILL."""
    import subprocess

    command = [*program, *argv]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as exc:
        return Completed(NOT_STARTED, "", f"cannot start {command[0]}: {exc.strerror or exc}")
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for sig, grace in ((signal.SIGINT, INTERRUPT_GRACE_SECONDS), (signal.SIGKILL, None)):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.communicate(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        minutes = timeout / 60
        return Completed(TIMED_OUT, "", f"timed out after {minutes:g} minutes and was stopped")
    return Completed(process.returncode, out, err)


class SubprocessRunner:
    """Runs a job's commands and reads what they produced (the audit's JSON report, the
    drills in the history store) to say whether a person is needed."""

    def __init__(self, plan: Plan, launch: Launcher = launch_irready) -> None:
        self.plan = plan
        self.launch = launch

    def __call__(self, request: JobRequest) -> JobResult:
        if request.job is JobKind.AUDIT:
            assert request.report is not None
            done = self.launch(request.commands[0], self.plan.timeout_seconds)
            return audit_result(done, request.report, self.plan.fail_on)
        if request.job is JobKind.REPORT:
            assert request.report is not None
            done = self.launch(request.commands[0], self.plan.timeout_seconds)
            return report_result(done, request.report)
        outcomes = [DrillOutcome(user, target, self.launch(command, self.plan.timeout_seconds),
                                 Path(command[command.index("--output") + 1]))
                    for (user, target), command in zip(request.drill_targets,
                                                       request.commands, strict=True)]
        return drill_result(outcomes, self._drills_since(request.started_at))

    def _drills_since(self, since: datetime) -> Mapping[str, Any]:
        from auditor.store import HistoryStore

        with HistoryStore(self.plan.history_file) as store:
            latest: dict[str, Any] = {}
            for record in reversed(store.drills(since=since - timedelta(seconds=1))):
                latest[record.user] = record  # oldest first, so the newest wins
            return latest


def failed(done: Completed, what: str) -> JobResult:
    reason = done.last_error_line() or "no message"
    if done.exit_code == TIMED_OUT:
        summary = f"{what} {reason}"
    else:
        summary = f"{what} failed (exit {done.exit_code}): {reason}"
    return JobResult(RunStatus.FAILED, done.exit_code, summary)


def audit_result(done: Completed, report: Path, fail_on: Severity) -> JobResult:
    """Exit 0, 1 and 4 mean the audit ran: read its JSON report. A person is needed for
    a failure that is new since the previous audit (at or above fail_on), or a check
    that could not be evaluated; old failures are in the report, not in a message."""
    from auditor.models import Severity

    if done.exit_code not in (ExitCode.OK, ExitCode.FAILED, ExitCode.INCOMPLETE):
        return failed(done, "the audit")
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
        findings = document["findings"]
    except (OSError, ValueError, KeyError) as exc:
        return JobResult(RunStatus.FAILED, done.exit_code,
                         f"the audit ran but its report {report} cannot be read: {exc}")
    changes = document.get("changes")
    failing = [f for f in findings if f["status"] == "FAIL"]
    new_keys = ({f["key"] for f in failing} if changes is None
                else set(changes.get("new_failures", ())))
    new = [f for f in failing if f["key"] in new_keys
           and Severity.parse(f["severity"]) >= fail_on]
    errors = [f for f in findings if f["status"] == "ERROR"]
    account = document.get("account_id", "?")
    summary = (f"account {account}: score {document.get('score', 0):g}, {len(failing)} failing"
               f" ({len(new)} new), {len(errors)} check(s) could not run")
    details = [f"new FAIL [{f['severity']}] {f['check_id']} {f['resource']} ({f['region']}):"
               f" {f['message']}" for f in new[:DETAIL_LIMIT]]
    if len(new) > DETAIL_LIMIT:
        details.append(f"... and {len(new) - DETAIL_LIMIT} more new failures")
    details += [f"ERROR {f['check_id']} ({f['region']}): {f['message']}"
                for f in errors[:DETAIL_LIMIT]]
    if len(errors) > DETAIL_LIMIT:
        details.append(f"... and {len(errors) - DETAIL_LIMIT} more checks that could not run")
    status = RunStatus.ALERT if new or errors else RunStatus.OK
    return JobResult(status, done.exit_code, summary, tuple(details), str(report))


@dataclass(frozen=True)
class DrillOutcome:
    user: str
    target: str
    done: Completed
    report: Path  # the drill's JSON report, when it got far enough to write one


def drill_result(outcomes: Sequence[DrillOutcome], records: Mapping[str, Any]) -> JobResult:
    """One drill per configured user. A drill that failed, or that left no record, fails
    the job (the quarter stays open, so it is retried); a drill slower than its target
    completes the job but needs a person."""
    parts: list[str] = []
    details: list[str] = []
    statuses: list[RunStatus] = []
    exit_code = 0
    reports: list[str] = []
    for user, target, done, report in ((o.user, o.target, o.done, o.report) for o in outcomes):
        record = records.get(user)
        where = f"drill of {user} ({target})"
        if done.exit_code != 0 or record is None or not record.succeeded:
            reason = done.last_error_line() or (f"status {record.status}" if record
                                                else "no drill was recorded")
            parts.append(f"{where} failed: {reason}")
            statuses.append(RunStatus.FAILED)
            exit_code = exit_code or done.exit_code or int(ExitCode.FAILED)
        elif not record.within_target:
            minutes = (record.rotation_seconds or 0) / 60
            parts.append(f"{where} took {minutes:.1f} min, over its "
                         f"{record.target_seconds / 60:g}-minute target")
            statuses.append(RunStatus.ALERT)
        else:
            parts.append(f"{where} rotated in {(record.rotation_seconds or 0) / 60:.1f} min")
            statuses.append(RunStatus.OK)
        if record is not None:
            details.append(f"{user}: drill {record.drill_id}, status {record.status}; "
                           f"details: irready drill show {record.drill_id}")
        if report.is_file():
            reports.append(str(report))
    worst = max(statuses, key=[RunStatus.OK, RunStatus.ALERT, RunStatus.FAILED].index,
                default=RunStatus.OK)
    return JobResult(worst, exit_code, "; ".join(parts) or "no drill users", tuple(details),
                     ", ".join(reports))


def report_result(done: Completed, report: Path) -> JobResult:
    if done.exit_code != 0:
        return failed(done, "the compliance report")
    if not report.is_file():
        return JobResult(RunStatus.FAILED, done.exit_code,
                         f"the compliance report said it succeeded but {report} is missing")
    return JobResult(RunStatus.OK, 0, f"wrote {report}", report=str(report))


def prune_reports(folder: Path, prefix: str, keep: int) -> list[Path]:
    """Delete the scheduler's own reports of one kind beyond the newest `keep` runs. The
    files of one run share its stamp (a PDF and the CSV beside it, one drill report per
    user) and go together; files the scheduler did not name stay."""
    if keep <= 0 or not folder.is_dir():
        return []
    by_stamp: dict[str, list[Path]] = {}
    for path in folder.glob(f"{prefix}-*"):
        stamp = path.name[len(prefix) + 1:][:16]
        rest = path.name[len(prefix) + 17:]
        if _STAMP.match(stamp) and rest[:1] in (".", "-") and path.is_file():
            by_stamp.setdefault(stamp, []).append(path)
    removed = []
    for stamp in sorted(by_stamp, reverse=True)[keep:]:
        for path in by_stamp[stamp]:
            with suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


# -- the executor: one job, under its lock, recorded and notified ----------------------


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
        if slot.astimezone(self.tz).date() < epoch.astimezone(self.tz).date():
            return None  # before the schedule existed: nothing was missed
        if (kind is JobKind.DRILL and not self.plan.catch_up_drill
                and now - slot >= timedelta(days=1)):
            return None  # a missed window waits for the next one
        if self._completed(kind, slot):
            return None
        return slot

    def _completed(self, kind: JobKind, slot: datetime) -> bool:
        users = [user for user, _ in self.plan.drill_targets]
        return self.log.completed_since(kind, slot, users)

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
            request = self.plan.request(kind, now, self._drill_targets(kind, slot))
            run_id = self.log.start(kind, slot, trigger, now)
            logger.info("%s: started (%s)", kind, trigger)
            try:
                result = self.runner(request)
            except Exception as exc:  # noqa: BLE001 - a failing job never stops the service
                result = JobResult(RunStatus.FAILED, None,
                                   f"the {kind} job could not run: {type(exc).__name__}: {exc}")
            result = result.redacted()
            self.log.finish(run_id, result, self.clock())
            prefix = {JobKind.AUDIT: "audit", JobKind.DRILL: "drill",
                      JobKind.REPORT: "compliance"}[kind]
            prune_reports(self.plan.output_dir, prefix, self.plan.keep_reports)
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


# -- the service ----------------------------------------------------------------------


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
            self._guarded(lambda: self.executor.catch_up(lambda: self.stopping))
            scheduler = self._build()
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


# -- status ---------------------------------------------------------------------------


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
            last = replace(last, status=RunStatus.INTERRUPTED,
                           summary="interrupted: the process running it stopped")
        jobs.append(JobStatus(kind, plan.describe(kind), enabled, last, next_run, overdue))
    service = FileLock(plan.lock_path("scheduler"), "").holder()
    return ScheduleStatus(tuple(jobs), service, running, executor.log.epoch(), plan.timezone,
                          plan.output_dir, executor.notifier.channels)


def open_executor(config: Config, store: HistoryStore) -> Executor:
    """The executor for the CLI: checks that reports can be written first."""
    executor = Executor(config, store)
    ensure_writable(executor.plan.output_dir)
    return executor


def job_exit_code(result_status: RunStatus, exit_code: int | None) -> int:
    """`irready schedule job`'s exit: the job's own code, and never 0 when a person is
    needed (cron mails and alerts on it)."""
    if result_status is RunStatus.OK:
        return 0
    if exit_code and exit_code > 0:
        return exit_code
    return int(ExitCode.FAILED)
