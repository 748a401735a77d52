"""`irready config init|check`: write the commented example config, and validate one
as the audit would read it, plus what only a person needs told before the day (unknown
target types, check ids a waiver can never match, expired waivers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli_common import check_ids_in_config, checked_path
from auditor.errors import UsageError

if TYPE_CHECKING:
    from auditor.config import Config

app = typer.Typer(help="Write or validate the TOML config.", no_args_is_help=True)


@app.command("init")
def config_init(
    path: Annotated[Path, typer.Argument(dir_okay=False, callback=checked_path,
                                         metavar="PATH")] = Path("irready.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example config."""
    from importlib.resources import files

    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    from reports.formats import write_output

    write_output(path, files("auditor").joinpath("example-config.toml").read_bytes())
    typer.echo(f"wrote {path}")


@app.command("check")
def config_check(path: Annotated[Path | None, typer.Argument(
        dir_okay=False, callback=checked_path, metavar="PATH")] = None) -> None:
    """Validate a config file; prints where it was found and exits 2 if it is wrong."""
    from auditor.awsfacts.account import not_a_region
    from auditor.config import find_config, load_config
    from auditor.errors import ConfigError
    from auditor.registry import discover
    from auditor.session import partition_regions

    found = find_config(path)
    config = load_config(path)
    check_ids_in_config(config, discover(), waivers=True)
    # offline: botocore's partition data decides (the audit also asks DescribeRegions)
    for name in config.audit.regions:
        if name not in partition_regions():
            prefix = f"{config.source}: " if config.source else ""
            raise ConfigError(f"{prefix}audit.regions: "
                              f"{not_a_region(name, partition_regions())}")
    rotation_targets_known(config)
    for warning in expired_waivers(config):
        typer.echo(f"irready: warning: {warning}", err=True)
    where = found or "built-in defaults (no config file found)"
    typer.echo(f"config OK: {where}; {len(config.waivers)} waiver(s), "
               f"{len(config.inventory)} inventory entry(ies)")


def rotation_targets_known(config: Config) -> None:
    """Each inventory rotation_target names a target type the drill knows (the built-in
    ones and those installed packages add), so a typo shows before the first drill."""
    from auditor.errors import ConfigError
    from drills.targets import TARGET_FORMS, target_types

    where = f"{config.source}: " if config.source else ""
    known = target_types()
    for i, entry in enumerate(config.inventory):
        spec = entry.rotation_target
        if not spec.strip():
            continue  # no target yet: iam.key_inventory reports it
        kind, separator, value = spec.partition(":")
        key = f"{where}inventory[{i}].rotation_target"
        if not separator or not kind.strip() or not value.strip():
            raise ConfigError(f"{key}: {spec!r} is not TYPE:VALUE, one of {TARGET_FORMS}")
        if kind.strip() not in known:
            raise ConfigError(f"{key}: unknown target type {kind!r} in {spec!r} "
                              f"(known: {', '.join(sorted(known))})")


def expired_waivers(config: Config) -> list[str]:
    """A waiver past its expiry no longer applies: worth a warning, not an error (the
    audit says so on the finding too)."""
    from auditor.clock import utcnow

    today = utcnow().date()
    where = f"{config.source}: " if config.source else ""
    return [f"{where}waivers[{i}] ({waiver.check}, {waiver.resource}) expired on "
            f"{waiver.expires.isoformat()}: it no longer applies"
            for i, waiver in enumerate(config.waivers) if waiver.expires < today]
