"""What every command group of the CLI shares: the common options (config, AWS profile,
region, endpoint, history store) and how they become a Config, a HistoryStore, an
AwsContext and a console. One definition, so `irready audit`, `drill`, `report` and
`schedule` spell and document their options alike. Light to import: typer only."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.config import Config
    from auditor.registry import Registry
    from auditor.runner import Progress
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

# The largest integer SQLite (and so the history store) holds: the bound of every int
# option, so that a huge number is a usage error at parse time instead of an overflow
# deep in the store (a test walks every command to keep it so).
INT_MAX = 2**63 - 1


def checked_path(value: Path | None) -> Path | None:
    """The callback of every path option: a name the system cannot even look up (longer
    than it allows) is a usage error here, before any command touches it."""
    from auditor.fileio import name_problem

    if value is not None:
        problem = name_problem(value)
        if problem:
            raise typer.BadParameter(problem)
    return value


ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (TOML).",
                                                dir_okay=False, callback=checked_path)]
ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile.", envvar="AWS_PROFILE")]
RegionOpt = Annotated[str | None, typer.Option(help="Home region for API calls.")]
EndpointOpt = Annotated[str | None, typer.Option(
    "--endpoint-url", help="AWS-compatible endpoint (also AWS_ENDPOINT_URL).")]
HistoryOpt = Annotated[Path | None, typer.Option(
    "--history", help="History store (SQLite); default from config.", dir_okay=False,
    callback=checked_path)]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", dir_okay=False, callback=checked_path,
    help="Write here (default: standard output); the format comes from --format, else "
         "from the name's extension.")]


def stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def load(config_path: Path | None, history_path: Path | None = None) -> Config:
    """The config from --config (or the usual places), with --history applied."""
    from dataclasses import replace

    from auditor.config import load_config

    config = load_config(config_path)
    if history_path is not None:  # relative to where the command runs, not to the config
        config = replace(config, history_path=str(history_path.expanduser().absolute()))
    return config


def open_store(config: Config) -> HistoryStore:
    """The history store; only irready's default location has its folder created (a
    store named by --history or [history] path must be in a folder that exists)."""
    from auditor.store import HistoryStore

    return HistoryStore(config.history_file, create_folder=not config.history_path)


def aws_context(profile: str | None, region: str | None, endpoint_url: str | None
                ) -> AwsContext:
    from auditor.config import region_problem
    from auditor.errors import UsageError
    from auditor.session import AwsContext

    if region is not None and region_problem(region):
        # a typo is a usage error (2), not an account that cannot be reached (3)
        raise UsageError(f"--region: {region_problem(region)}")
    if endpoint_url is not None:
        endpoint_problem("--endpoint-url", endpoint_url)
    elif os.environ.get("AWS_ENDPOINT_URL"):
        endpoint_problem("AWS_ENDPOINT_URL", os.environ["AWS_ENDPOINT_URL"])
    ctx = AwsContext(profile=profile, region=region, endpoint_url=endpoint_url)
    if region is None and region_problem(ctx.region):
        # the same typo from the environment or the profile is the same usage error
        source = ("AWS_DEFAULT_REGION" if os.environ.get("AWS_DEFAULT_REGION") == ctx.region
                  else "the AWS profile's region")
        raise UsageError(f"{source}: {region_problem(ctx.region)}")
    return ctx


def endpoint_problem(source: str, url: str) -> None:
    """An endpoint that is not an http(s) URL is a usage error (2), found before any call,
    not an account that cannot be identified (3)."""
    from urllib.parse import urlsplit

    from auditor.errors import UsageError

    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{source}: {url!r} is not an http(s) URL "
                         "(like https://localhost:4566)")


def check_ids_in_config(config: Config, registry: Registry, *, waivers: bool = False) -> None:
    """The check ids the config names exist: an unknown one is a config error naming its
    key. Waivers (only with `waivers`: `config check`) compare ids exactly, so an area
    or a typo there would never match; the audit itself still runs with such a waiver."""
    from auditor.errors import ConfigError, UsageError
    from auditor.registry import unknown_check_message

    where = f"{config.source}: " if config.source else ""
    for key, ids in (("audit.checks", config.audit.checks), ("audit.skip", config.audit.skip)):
        for check_id in ids:
            try:
                registry.select((check_id,))
            except UsageError as exc:
                raise ConfigError(f"{where}{key}: {exc.message}") from None
    from auditor.audit import select_checks

    select_checks(registry, config)  # audit.checks and audit.skip leave something to run
    if not waivers:
        return
    known = [item.id for item in registry]
    for i, waiver in enumerate(config.waivers):
        if waiver.check not in registry:
            message = unknown_check_message(waiver.check, known).replace(
                "; ", " (a waiver names one check id exactly); ", 1)
            raise ConfigError(f"{where}waivers[{i}].check: {message}")


@contextmanager
def progress_reporter(steps: int, what: str = "auditing") -> Iterator[Progress | None]:
    """A rich progress bar on a terminal; silent under cron or in a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as Bar

    with Bar(transient=True, console=stderr()) as bar:
        task = bar.add_task(what, total=steps)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=name)

        yield step
