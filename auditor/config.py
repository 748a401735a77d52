"""The TOML config: thresholds, regions, Athena, the key inventory, waivers, and the
settings of drills, reports and the scheduler.

Every section is a frozen dataclass and the parser is driven by their type hints, so
adding a setting is adding a field. Unknown keys and wrong types are errors that name
the key: a typo in a security tool's config must not silently fall back to a default.
The [notify] section's type lives in `auditor.notify` and the cadences are checked by
`auditor.cadence`; neither imports this module, so the arrows run one way."""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import shlex
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from auditor.cadence import validate_schedule
from auditor.errors import ConfigError
from auditor.models import Severity
from auditor.notify import NotifySettings

CONFIG_NAME = "irready.toml"


def xdg_dir(kind: str) -> Path:
    """`kind` is "config" or "data"; honours XDG_CONFIG_HOME / XDG_DATA_HOME."""
    env = {"config": "XDG_CONFIG_HOME", "data": "XDG_DATA_HOME"}[kind]
    default = {"config": ".config", "data": ".local/share"}[kind]
    base = os.environ.get(env) or str(Path.home() / default)
    return Path(base) / "irready"


@dataclass(frozen=True)
class AuditSettings:
    regions: tuple[str, ...] = ()  # empty: every region enabled for the account
    key_max_age_days: int = 90
    unused_key_days: int = 45
    log_retention_days: int = 365
    # the longest gap between two on-time quarterly drills (the first Monday of the
    # quarter: July 1st to October 7th) is 98 days; 100 lets a drill run a day late
    drill_interval_days: int = 100
    rotation_target_minutes: int = 15
    # drill.detect_recent: a detection drill within this many days saw every call within
    # detect_target_minutes (the interval defaults to the rotation drill's)
    detect_interval_days: int = 100
    detect_target_minutes: int = 15
    checks: tuple[str, ...] = ()  # empty: all
    skip: tuple[str, ...] = ()
    fail_on: str = "low"
    max_workers: int = 8
    credential_report_timeout_seconds: int = 60
    deep: bool = False  # run an Athena test query (not read-only: it starts a query)


@dataclass(frozen=True)
class AthenaSettings:
    database: str = ""  # empty: look in every Glue database
    table: str = ""
    workgroup: str = "primary"
    output_location: str = ""  # s3://... for --deep test queries


@dataclass(frozen=True)
class InventoryEntry:
    user: str
    owner: str
    rotation_target: str
    application: str = ""
    account: str = "*"  # fnmatch pattern over the account id (an organization audit)


@dataclass(frozen=True)
class Waiver:
    check: str
    reason: str
    expires: date
    resource: str = "*"  # fnmatch pattern over the finding's resource
    account: str = "*"  # fnmatch pattern over the account id (an organization audit)

    def matches(self, check_id: str, resource: str) -> bool:
        return self.check == check_id and fnmatch.fnmatchcase(resource, self.resource)


@dataclass(frozen=True)
class DrillSettings:
    users: tuple[str, ...] = ()  # users that may be drilled besides those tagged irready:drill=true
    # canary users `irready drill detect` may use, besides those tagged irready:canary=true
    canaries: tuple[str, ...] = ()
    propagation_timeout_seconds: int = 60
    secret_id_field: str = "AccessKeyId"
    secret_key_field: str = "SecretAccessKey"
    # used by scheduled drills (`irready drill rotate` takes them as options too)
    restart_command: str = ""
    health_command: str = ""
    health_url: str = ""
    health_timeout_seconds: int = 60
    command_timeout_seconds: int = 120

    def __post_init__(self) -> None:
        # refused as the drill's options are (drills.engine.preflight.check_options), so a
        # scheduled drill is refused when the config is read, not after a key was made
        for name in ("propagation_timeout_seconds", "health_timeout_seconds",
                     "command_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"drill.{name}: must be a positive number of seconds")
        for name in ("restart_command", "health_command"):
            try:
                shlex.split(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"drill.{name}: cannot be parsed: {exc}") from None
        if self.health_url and not re.fullmatch(r"https?://[^/\s]+\S*", self.health_url):
            raise ConfigError(f"drill.health_url: {self.health_url!r} is not an http(s) URL")


@dataclass(frozen=True)
class ReportSettings:
    dir: str = ""  # empty: <data dir>/reports


@dataclass(frozen=True)
class ScheduleSettings:
    """When `irready schedule` runs each job. A cadence is `daily HH:MM`, `<weekday> HH:MM`,
    `monthly [<weekday>] HH:MM`, `quarterly [<weekday>] HH:MM` (the first such day of
    January, April, July and October; the 1st without a weekday) or `off`."""

    audit: str = "monday 06:00"
    drill: str = "quarterly monday 07:00"
    detect: str = "quarterly monday 07:30"  # the detection drill, after the rotation drill
    report: str = "monthly 08:00"  # the compliance PDF
    report_after_drill: bool = True  # also write the compliance PDF after each drill
    timezone: str = "UTC"  # an IANA name such as Europe/Paris
    output_dir: str = ""  # empty: the reports folder
    keep_reports: int = 12  # per kind of report; 0 keeps them all
    catch_up_drill: bool = True  # false: a missed quarter's drill waits for the next window
    job_timeout_minutes: int = 120

    def __post_init__(self) -> None:
        validate_schedule({"audit": self.audit, "drill": self.drill, "detect": self.detect,
                           "report": self.report}, self.timezone)
        if self.keep_reports < 0:
            raise ConfigError("schedule.keep_reports: must be 0 (keep all) or more")
        if self.job_timeout_minutes <= 0:
            raise ConfigError("schedule.job_timeout_minutes: must be a positive number")


@dataclass(frozen=True)
class PlaybookSettings:
    """`irready playbook`: where the scheduler writes it, the team's own words kept
    verbatim, and the people AWS does not know about."""

    path: str = ""  # empty: <reports folder>/playbook.md
    notes: str = ""  # a Markdown file included verbatim (escalation contacts, vendors)
    required: bool = True  # false: the team keeps its playbook elsewhere
    max_age_days: int = 14  # playbook.current: generated within this many days
    incident_lead: str = ""
    support_plan: str = ""  # the AWS support plan (Basic, Developer, Business, Enterprise)
    vendors: tuple[str, ...] = ()  # vendors holding keys of this account

    def __post_init__(self) -> None:
        if self.max_age_days <= 0:
            raise ConfigError("playbook.max_age_days: must be a positive number of days")


@dataclass(frozen=True)
class Config:
    audit: AuditSettings = field(default_factory=AuditSettings)
    athena: AthenaSettings = field(default_factory=AthenaSettings)
    inventory: tuple[InventoryEntry, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    drill: DrillSettings = field(default_factory=DrillSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    playbook: PlaybookSettings = field(default_factory=PlaybookSettings)
    history_path: str = ""  # empty: <data dir>/history.sqlite3
    source: str = ""  # the file this config came from, "" for built-in defaults

    def resolve(self, setting: str) -> Path:
        """A path from the config file: a relative one is relative to that file, so cron
        (run from $HOME) and a person in the project folder use the same store."""
        path = Path(setting).expanduser()
        if not path.is_absolute() and self.source and Path(self.source).is_file():
            return Path(self.source).resolve().parent / path
        return path

    @property
    def history_file(self) -> Path:
        return self.resolve(self.history_path) if self.history_path else (
            xdg_dir("data") / "history.sqlite3"
        )

    @property
    def reports_dir(self) -> Path:
        return self.resolve(self.reports.dir) if self.reports.dir else (
            xdg_dir("data") / "reports"
        )

    @property
    def fail_on(self) -> Severity:
        return Severity.parse(self.audit.fail_on)

    def for_account(self, account_id: str) -> Config:
        """The config as one account sees it: the inventory entries and waivers whose
        `account` pattern matches its id (every entry without one)."""
        inventory = tuple(e for e in self.inventory
                          if fnmatch.fnmatchcase(account_id, e.account))
        waivers = tuple(w for w in self.waivers if fnmatch.fnmatchcase(account_id, w.account))
        if inventory == self.inventory and waivers == self.waivers:
            return self
        return dataclasses.replace(self, inventory=inventory, waivers=waivers)

    def inventory_for(self, user: str) -> InventoryEntry | None:
        return next((entry for entry in self.inventory if entry.user == user), None)


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table")
        return _build(hint, value, where)
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_convert(item, item_hint, f"{where}[{i}]") for i, item in enumerate(value))
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(value, options[0], where)
    expected = {int: "an integer", str: "a string", bool: "true or false", date: "a date"}
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: expected {expected[int]}, got {value!r}")
    if hint is date:
        if isinstance(value, datetime):
            # TOML has date-times too; a datetime never compares with today's date
            raise ConfigError(f"{where}: expected a date (YYYY-MM-DD), got a date and time "
                              f"({value})")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a date (YYYY-MM-DD), got {value!r}")
    if hint in (str, bool) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {expected[hint]}, got {value!r}")
    return value


# Config fields that are not keys of the file: [history] path is flattened into
# history_path, and source records where the config came from.
NOT_IN_FILE = frozenset({"history_path", "source"})
MISSING_HINTS = {
    ("Waiver", "expires"): "a waiver needs an expiry date (expires = YYYY-MM-DD)",
    ("Waiver", "reason"): "a waiver needs a reason",
}


def _build(cls: type[Any], table: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    known = set(fields)
    if cls is Config:
        known = (known - NOT_IN_FILE) | {"history"}
    unknown = sorted(set(table) - known)
    if unknown:
        listing = ", ".join(sorted(known))
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known keys: {listing})")
    kwargs: dict[str, Any] = {}
    for name, spec in fields.items():
        key_path = f"{where}.{name}" if where else name
        if name in table:
            kwargs[name] = _convert(table[name], hints[name], key_path)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            hint = MISSING_HINTS.get((cls.__name__, name))
            raise ConfigError(f"{where}: {hint}" if hint
                              else f"{where}: missing required key {name!r}")
    try:
        return cls(**kwargs)
    except ValueError as exc:  # a section's own validation (__post_init__)
        raise ConfigError(f"{where}: {exc}") from None


def _validate(config: Config) -> None:
    try:
        Severity.parse(config.audit.fail_on)
    except ValueError as exc:
        raise ConfigError(f"audit.fail_on: {exc}") from None
    for name in (
        "key_max_age_days",
        "unused_key_days",
        "log_retention_days",
        "drill_interval_days",
        "rotation_target_minutes",
        "detect_interval_days",
        "detect_target_minutes",
        "max_workers",
        "credential_report_timeout_seconds",
    ):
        if getattr(config.audit, name) <= 0:
            raise ConfigError(f"audit.{name}: must be a positive number")
    for region in config.audit.regions:
        problem = region_problem(region)
        if problem:
            raise ConfigError(f"audit.regions: {problem}")
    for i, waiver in enumerate(config.waivers):
        if not waiver.reason.strip():
            raise ConfigError(f"waivers[{i}]: a waiver needs a reason")
    targets: dict[str, tuple[int, str]] = {}  # by account pattern and user
    for i, entry in enumerate(config.inventory):
        first = targets.setdefault(f"{entry.account}|{entry.user}", (i, entry.rotation_target))
        if first[1] != entry.rotation_target:
            # which one would a drill rotate? the first would win without a word
            raise ConfigError(f"inventory[{i}]: user {entry.user!r} is listed twice with "
                              f"different rotation targets ({first[1]!r} in "
                              f"inventory[{first[0]}], {entry.rotation_target!r} here)")


REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def region_problem(region: str) -> str:
    """Why `region` is not a region name, or "" when it looks like one (us-east-1)."""
    if REGION_NAME.match(region):
        return ""
    return f"{region!r} is not a region name like us-east-1"


def _toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """tomllib says "(at line 3, column 7)" or "(at end of document)": always name a line."""
    message = str(exc)
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if where:
        reason = message[: where.start()]
        return f"invalid TOML at line {where[1]}, column {where[2]}: {reason}"
    reason = re.sub(r"\s*\(at end of document\)$", "", message)
    last_line = max(1, len(text.splitlines()))
    return f"invalid TOML at line {last_line} (end of file): {reason}"


def parse_config(text: str, source: str = "") -> Config:
    label = source or "config"
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: {_toml_error(exc, text)}") from None
    try:
        config: Config = _build(Config, table, "")
    except ConfigError as exc:
        raise ConfigError(f"{label}: {str(exc).lstrip(': ').lstrip('.')}") from None
    # [history] path in the file is Config.history_path
    history = table.get("history", {})
    if not isinstance(history, Mapping) or set(history) - {"path"}:
        raise ConfigError(f"{label}: [history] takes only 'path'")
    path = history.get("path", "")
    if not isinstance(path, str):
        raise ConfigError(f"{label}: history.path: expected a string, got {path!r}")
    config = dataclasses.replace(config, history_path=path, source=source)
    try:
        _validate(config)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return config


def find_config(explicit: Path | None) -> Path | None:
    if explicit is not None:
        try:
            found = explicit.is_file()
        except OSError as exc:  # a name too long to look up, say
            raise ConfigError(f"cannot read config {str(explicit)[:80]}: "
                              f"{exc.strerror or exc}") from None
        if not found:
            raise ConfigError(f"config file not found: {explicit}")
        return explicit
    for candidate in (Path.cwd() / CONFIG_NAME, xdg_dir("config") / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: Path | None = None) -> Config:
    path = find_config(explicit)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    return parse_config(text, str(path))
