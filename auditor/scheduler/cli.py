"""`irready schedule ...`: the scheduler's commands. `run` is the foreground service;
`job` runs one job the way the service would (what cron lines and systemd timers call);
`status` says what ran and what runs next; `install` prints cron lines or systemd units.

Exit codes: 0 done (or not due), 2 bad config or an output folder that cannot be
written, 5 another scheduler or another run of the same job holds the lock; `job`
otherwise exits with the job's own code (the audit's 1/3/4, ...) and never 0 when a
person is needed."""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auditor.cli_common import ConfigOpt, checked_path, load, open_store
from auditor.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from auditor.scheduler.status import ScheduleStatus
    from auditor.scheduler.vocabulary import ScheduleRun

app = typer.Typer(help="Run the weekly audit and quarterly drill, or print cron/systemd units.",
                  no_args_is_help=True)

VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log every step.")]


class Job(StrEnum):
    AUDIT = "audit"
    DRILL = "drill"
    DETECT = "detect"
    REPORT = "report"


class StatusFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def setup_logging(level: int) -> None:
    """One line per event on stderr; journald adds its own timestamps."""
    log = logging.getLogger("irready.schedule")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    handler.setFormatter(logging.Formatter(f"{stamp}irready schedule: %(message)s",
                                           datefmt="%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


@app.command()
def run(config_path: ConfigOpt = None, verbose: VerboseOpt = False) -> None:
    """Run the scheduler in the foreground (systemd, a container, a terminal).

    On start it runs what was missed while it was down; SIGTERM or Ctrl-C stop it
    once the running job has ended."""
    from auditor.scheduler.executor import open_executor
    from auditor.scheduler.plan import Plan
    from auditor.scheduler.service import Service
    from auditor.scheduler.vocabulary import JobKind

    config = load(config_path)
    plan = Plan.from_config(config)  # refused before the store or a folder is created
    if not any(plan.enabled(kind) for kind in JobKind):
        raise ConfigError("schedule: every job is off, so there is nothing to run")
    setup_logging(logging.DEBUG if verbose else logging.INFO)
    with open_store(config) as store:
        Service(open_executor(config, store)).run()


@app.command("job")
def job(
    name: Annotated[Job, typer.Argument(
        metavar="JOB", help="The job to run: audit, drill, detect or report.")],
    if_due: Annotated[bool, typer.Option(
        "--if-due", help="Run only if its slot is due (what cron and timers call).")] = False,
    config_path: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run one job now, as the service would: under its lock, recorded, notified.

    Prints nothing when all is well (cron mails any output); exits with the job's code."""
    from auditor.scheduler.executor import job_exit_code, open_executor
    from auditor.scheduler.plan import Plan
    from auditor.scheduler.vocabulary import JobKind, Trigger

    config = load(config_path)
    kind = JobKind(name.value)
    plan = Plan.from_config(config)  # refused before the store or a folder is created
    if not plan.enabled(kind):
        if if_due:
            return
        if kind is JobKind.DETECT and plan.cadences[kind].enabled:  # no canary: a note
            typer.echo(f"irready schedule: {kind}: {plan.describe(kind)}", err=True)
            return
        raise UsageError(f"the {kind} job is {plan.describe(kind)}")
    setup_logging(logging.INFO if verbose else logging.ERROR)
    with open_store(config) as store:
        executor = open_executor(config, store)
        executor.log.ensure_epoch(executor.clock())
        if if_due:
            done = executor.run_if_due(kind, Trigger.CRON)
        else:
            done = executor.run(kind, trigger=Trigger.MANUAL)
    if done is None:  # not due, or done by another process meanwhile
        return
    if verbose or done.status.value != "OK":
        typer.echo(_run_line(done), err=True)
    raise typer.Exit(job_exit_code(done.status, done.exit_code))


def _run_line(run: ScheduleRun) -> str:
    """A job that could not do its work (FAILED, INTERRUPTED) is an error, in the one
    `irready: error:` line every command uses; a job that did its work prints its result
    (ALERT: a person is needed, or OK with --verbose) as a line of the scheduler's log."""
    from auditor.scheduler.vocabulary import RunStatus

    where = f"; report: {run.report}" if run.report else ""
    if run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        return f"irready: error: schedule job {run.job}: {run.summary}{where}"
    return f"irready schedule: {run.job}: {run.status}: {run.summary}{where}"


@app.command()
def status(
    config_path: ConfigOpt = None,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")]
    = StatusFormat.TABLE,
) -> None:
    """The next run of each job, and its last run and result."""
    import json

    from auditor.clock import utcnow
    from auditor.scheduler.executor import Executor
    from auditor.scheduler.status import schedule_status

    config = load(config_path)
    with open_store(config) as store:
        executor = Executor(config, store)
        state = schedule_status(executor, utcnow())
    if fmt is StatusFormat.JSON:
        typer.echo(json.dumps(_status_dict(state), indent=2, sort_keys=True))
        return
    _print_status(state, executor.tz)


def _when(moment: datetime | None, tz: tzinfo) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _print_status(state: ScheduleStatus, tz: tzinfo) -> None:
    """A block per job: summaries are long, and a table would fold them into columns."""
    service = (f"running ({state.service.describe()})" if state.service
               else "not running (cron or systemd timers may run the jobs)")
    since = state.epoch.date().isoformat() if state.epoch else "never started"
    notify = (", ".join(state.channels) if state.channels
              else "none configured ([notify]): a failed job reaches nobody")
    lines = [f"scheduler: {service}",
             f"time zone: {state.timezone}; reports: {state.output_dir}; "
             f"schedule in force since: {since}",
             f"notifications: {notify}"]
    for row in state.jobs:
        lines += ["", f"{row.job}: {row.schedule}"]
        last = row.last
        if last is not None:
            report = f" ({last.report})" if last.report else ""
            lines.append(f"  last run: {_when(last.started_at, tz)} ({last.trigger}): "
                         f"{last.status}: {last.summary}{report}")
        holder = state.running.get(row.job)
        if holder is not None:
            lines.append(f"  running now: {holder.describe()}")
        if not row.enabled:
            continue
        upcoming = _when(row.next_run, tz)
        if row.overdue_since is not None:
            when = (upcoming if state.service is not None
                    else f"{upcoming}, or at once when `irready schedule run` starts")
            upcoming = f"{when} (overdue: the slot of {_when(row.overdue_since, tz)} has no " \
                       "completed run)"
        lines.append(f"  next run: {upcoming}")
    typer.echo("\n".join(lines))


def _status_dict(state: ScheduleStatus) -> dict[str, Any]:
    from auditor.clock import iso

    def moment(value: datetime | None) -> str | None:
        return iso(value) if value else None

    return {
        "service": ({"pid": state.service.pid, "host": state.service.host,
                     "since": moment(state.service.since)} if state.service else None),
        "timezone": state.timezone,
        "output_dir": str(state.output_dir),
        "notify_channels": list(state.channels),
        "epoch": moment(state.epoch),
        "jobs": [{
            "job": row.job.value, "schedule": row.schedule, "enabled": row.enabled,
            "next_run": moment(row.next_run), "overdue_since": moment(row.overdue_since),
            "last": None if row.last is None else {
                "status": row.last.status.value, "started_at": moment(row.last.started_at),
                "finished_at": moment(row.last.finished_at), "summary": row.last.summary,
                "report": row.last.report, "trigger": row.last.trigger,
                "exit_code": row.last.exit_code},
        } for row in state.jobs],
    }


@app.command()
def install(
    cron: Annotated[bool, typer.Option("--cron", help="Print crontab lines.")] = False,
    systemd: Annotated[bool, typer.Option("--systemd", help="Print systemd units.")] = False,
    service: Annotated[bool, typer.Option(
        "--service", help="With --systemd: one long-running `schedule run` service instead "
        "of a timer per job.")] = False,
    write: Annotated[Path | None, typer.Option(
        "--write", help="Write the files into this existing folder instead of printing them.",
        file_okay=False, callback=checked_path)] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files that exist.")] = False,
    program: Annotated[str | None, typer.Option(
        help="The command that runs irready (default: this installation's, absolute).")]
    = None,
    config_path: ConfigOpt = None,
) -> None:
    """Print crontab lines or systemd units that call the same commands as the service.

    Nothing is installed: with --write the files go into the folder you name, and the
    command prints how to enable them."""
    import shlex

    from auditor.scheduler.plan import Plan
    from auditor.scheduler.units import (
        cron_table,
        default_program,
        systemd_service,
        systemd_timers,
    )

    if cron == systemd:
        raise UsageError("choose one of --cron or --systemd")
    if service and not systemd:
        raise UsageError("--service goes with --systemd")
    config = load(config_path)
    plan = Plan.from_config(config)
    argv = tuple(shlex.split(program)) if program else default_program()
    if not argv:
        raise UsageError("--program: empty command")
    if cron:
        files = {"irready.crontab": cron_table(plan, argv)}
    else:
        files = systemd_service(plan, argv) if service else systemd_timers(plan, argv)
    if write is None:
        if cron:
            typer.echo(files["irready.crontab"], nl=False)
            return
        for name, text in files.items():
            typer.echo(f"# file: {name}\n{text}")
        return
    if not write.is_dir():
        raise UsageError(f"--write: {write} is not an existing folder")
    targets = {write / name: text for name, text in files.items()}
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]} exists; pass --force to overwrite it")
    for path, text in targets.items():
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {path}")
    typer.echo(_next_steps(cron, service, write, list(files)))


def _next_steps(cron: bool, service: bool, folder: Path, names: list[str]) -> str:
    if cron:
        return (f"to add it to your crontab: (crontab -l; cat {folder / names[0]}) | crontab -")
    units = " ".join(str(folder / name) for name in names)
    enable = " ".join(name for name in names if name.endswith(".timer" if not service
                                                                 else ".service"))
    return (f"to enable (as your user): systemctl --user link {units} && "
            f"systemctl --user enable --now {enable}   "
            "(or copy them to /etc/systemd/system and use systemctl without --user)")
