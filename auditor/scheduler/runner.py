"""Running a job's commands: each is `python -m auditor ...` in a subprocess of its own
session, so a crashing job cannot take the service down and the service behaves as cron
does. What the commands produced (the audit's JSON report, the drills in the history
store) is read by `auditor.scheduler.jobs`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from auditor.scheduler.jobs import (
    TIMED_OUT,
    Completed,
    DetectOutcome,
    DrillOutcome,
    JobRequest,
    JobResult,
    audit_result,
    detect_result,
    drill_result,
    playbook_result,
    report_result,
    reports_result,
)
from auditor.scheduler.vocabulary import JobKind, RunStatus

if TYPE_CHECKING:
    from auditor.scheduler.plan import Plan
    from auditor.store import DetectDrillRecord, DrillRecord

Launcher = Callable[[Sequence[str], float], Completed]
INTERRUPT_GRACE_SECONDS = 60.0  # for a drill to roll back after SIGINT
NOT_STARTED = 127
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
            result = audit_result(done, request.report, self.plan.fail_on)
            if len(request.commands) == 1 or result.status is RunStatus.FAILED:
                return result
            *verify, write = request.commands[1:]
            return playbook_result(
                result, [self.launch(command, self.plan.timeout_seconds) for command in verify],
                self.launch(write, self.plan.timeout_seconds), write[write.index("--output") + 1])
        if request.job is JobKind.REPORT:  # one command per account
            return reports_result([
                report_result(self.launch(command, self.plan.timeout_seconds),
                              Path(command[command.index("--output") + 1]))
                for command in request.commands])
        if request.job is JobKind.DETECT:  # one detection drill per canary
            watched = [DetectOutcome(canary, self.launch(command, self.plan.timeout_seconds),
                                     Path(command[command.index("--output") + 1]))
                       for canary, command in zip(request.canaries, request.commands,
                                                  strict=True)]
            return detect_result(watched, self._detect_drills_since(request.started_at))
        outcomes = [DrillOutcome(user, target, self.launch(command, self.plan.timeout_seconds),
                                 Path(command[command.index("--output") + 1]))
                    for (user, target), command in zip(request.drill_targets,
                                                       request.commands, strict=True)]
        return drill_result(outcomes, self._drills_since(request.started_at))

    def _drills_since(self, since: datetime) -> Mapping[str, DrillRecord]:
        from auditor.store import HistoryStore

        with HistoryStore(self.plan.history_file) as store:
            return _newest_per_user(store.drills(since=since - timedelta(seconds=1)))

    def _detect_drills_since(self, since: datetime) -> Mapping[str, DetectDrillRecord]:
        from auditor.store import HistoryStore

        with HistoryStore(self.plan.history_file) as store:
            return _newest_per_user(store.detect_drills(since=since - timedelta(seconds=1)))


class _Drilled(Protocol):
    @property
    def user(self) -> str: ...


Drilled = TypeVar("Drilled", bound=_Drilled)


def _newest_per_user(records: Sequence[Drilled]) -> dict[str, Drilled]:
    """The newest record of each user, from records listed newest first."""
    latest: dict[str, Drilled] = {}
    for record in reversed(records):
        latest[record.user] = record  # oldest first, so the newest wins
    return latest
