"""The plan: the [schedule] settings, parsed and checked against the rest of the config
(a drill needs users with a rotation target, a detection drill canaries), and the
command lines of each run. Every
run names its reports with its start stamp, so a run's files can be found and pruned
together."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.cadence import Cadence, load_timezone, parse_cadence
from auditor.errors import ConfigError
from auditor.scheduler.jobs import STAMP_FORMAT, JobRequest
from auditor.scheduler.vocabulary import JobKind

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.models import Severity


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
    playbook: Path | None = None  # where the audit job regenerates the playbook; None: not
    canaries: tuple[str, ...] = ()  # [drill] canaries: one detection drill each


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
            playbook=(config.resolve(config.playbook.path) if config.playbook.path
                      else output / "playbook.md").absolute()
            if config.playbook.required or config.playbook.path else None,
            canaries=tuple(config.drill.canaries),
        )

    @property
    def tz(self) -> tzinfo:
        return load_timezone(self.timezone)

    def enabled(self, kind: JobKind) -> bool:
        drills = kind in (JobKind.DRILL, JobKind.DETECT)  # nobody to drill: nothing to run
        return self.cadences[kind].enabled and (not drills or bool(self.users(kind)))

    def users(self, kind: JobKind) -> tuple[str, ...]:
        """Whom a run of `kind` drills: the [drill] users, or the canaries."""
        if kind is JobKind.DRILL:
            return tuple(user for user, _ in self.drill_targets)
        return self.canaries if kind is JobKind.DETECT else ()

    def describe(self, kind: JobKind) -> str:
        cadence = self.cadences[kind]
        if kind is JobKind.DRILL and cadence.enabled and not self.drill_targets:
            return "off: no [drill] users in the config"
        if kind is JobKind.DETECT and cadence.enabled and not self.canaries:
            return f"skipped: no [drill] canaries in the config ({cadence.describe()})"
        text = cadence.describe()
        if kind is JobKind.REPORT and self.report_after_drill and self.enabled(JobKind.DRILL):
            text = "after each drill" + ("" if text == "off" else f"; {text}")
        return text

    def lock_path(self, name: str) -> Path:
        return self.history_file.with_name(f"{self.history_file.name}.{name}.lock")

    def config_args(self) -> tuple[str, ...]:
        return ("--config", self.config_file) if self.config_file else ()

    def request(self, kind: JobKind, now: datetime,
                drill_targets: Sequence[tuple[str, str]] | None = None,
                accounts: Sequence[str] = (), canaries: Sequence[str] | None = None
                ) -> JobRequest:
        """The commands of one run; `drill_targets` narrows a drill to some users and
        `canaries` a detection drill, and a compliance report is written per account of
        `accounts` (the report covers one account, and refuses to guess when the history
        holds several)."""
        stamp, prefix = self._free_stamp(kind, now), REPORT_PREFIX[kind]
        targets = tuple(self.drill_targets if drill_targets is None else drill_targets)
        watched = tuple(self.canaries if canaries is None else canaries)
        if kind is JobKind.AUDIT:
            report = self.output_dir / f"{prefix}-{stamp}.json"
            commands: tuple[tuple[str, ...], ...] = (
                ("audit", "--format", "json", "--output", str(report), *self.config_args()),
                *self._playbook_commands())
        elif kind is JobKind.DRILL:
            report = None  # one JSON report per drilled user, named in its command
            # --make-room: each drill leaves the old key inactive beside the new one (IAM
            # allows two), so without it every drill after the first would stop at
            # preflight, fail daily, and need a person to delete a key by hand. Only an
            # inactive key is ever deleted; a second active key still stops the drill.
            commands = tuple(("drill", "rotate", "--user", user, "--target", target,
                              "--make-room", "--format", "json", "--output",
                              str(self.output_dir / f"{prefix}-{stamp}-{_file_safe(user)}.json"),
                              *self.config_args()) for user, target in targets)
        elif kind is JobKind.DETECT:
            report = None  # one JSON report per canary, named in its command
            commands = tuple(("drill", "detect", "--user", user, "--format", "json",
                              "--output",
                              str(self.output_dir / f"{prefix}-{stamp}-{_file_safe(user)}.json"),
                              *self.config_args()) for user in watched)
        elif accounts:
            reports = [self.output_dir / f"{prefix}-{stamp}-{account}.pdf"
                       for account in accounts]
            report = reports[0]
            commands = tuple(("report", "compliance", "--account", account, "--output",
                              str(path), *self.config_args())
                             for account, path in zip(accounts, reports, strict=True))
        else:  # nothing audited yet: the report says so
            report = self.output_dir / f"{prefix}-{stamp}.pdf"
            commands = (("report", "compliance", "--output", str(report),
                         *self.config_args()),)
        return JobRequest(job=kind, commands=commands, report=report, started_at=now,
                          drill_targets=targets if kind is JobKind.DRILL else (),
                          canaries=watched if kind is JobKind.DETECT else ())


    def _playbook_commands(self) -> tuple[tuple[str, ...], ...]:
        """After the audit: compare last week's playbook with the account (--verify,
        when there is one), then write this week's in its place."""
        if self.playbook is None:
            return ()
        verify = (("playbook", "--no-audit", "--verify", str(self.playbook), "--format",
                   "json", *self.config_args()),) if self.playbook.is_file() else ()
        return (*verify, ("playbook", "--no-audit", "--output", str(self.playbook),
                          *self.config_args()))

    def _free_stamp(self, kind: JobKind, now: datetime) -> str:
        """The time stamp of this run's report files: `now` to the second, or the next
        second no earlier run of the job used, so that two runs within one second (a
        catch-up, then a run by hand) never write over each other's report."""
        prefix = REPORT_PREFIX[kind]
        moment = now.astimezone(UTC)
        while any(self.output_dir.glob(f"{prefix}-{moment.strftime(STAMP_FORMAT)}*")):
            moment += timedelta(seconds=1)
        return moment.strftime(STAMP_FORMAT)


# `irready report compliance`'s default period: the scheduled report's accounts are those
# audited or drilled in it (an hour less, so that none is missing from the report's own)
REPORT_PERIOD = timedelta(days=90) - timedelta(hours=1)
REPORT_PREFIX = {JobKind.AUDIT: "audit", JobKind.DRILL: "drill", JobKind.DETECT: "detect",
                 JobKind.REPORT: "compliance"}


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+=,-]", "_", name)


def ensure_writable(folder: Path, named_by: str = "") -> None:
    """Refuse to start when reports could not be written (ConfigError, exit 2). A folder
    the config names (`named_by`: its key) must exist; only irready's default reports
    folder is created."""
    import tempfile

    key = named_by or "schedule.output_dir"
    if named_by and not folder.is_dir():
        raise ConfigError(f"{key}: folder {folder} does not exist")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".irready-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{key}: cannot write to {folder}: {reason}") from None
