"""The `irready` command line: a thin typer app. Each command loads config, calls one
core function, renders, and exits with a code from `auditor.errors.ExitCode`.

Heavy imports (boto3, moto, weasyprint) happen inside commands, so `irready --help`
starts fast."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from auditor.cli_common import (
    INT_MAX,
    ConfigOpt,
    EndpointOpt,
    HistoryOpt,
    ProfileOpt,
    RegionOpt,
    aws_context,
    checked_path,
    load,
    open_store,
    stderr,
    stdout,
)
from auditor.errors import ExitCode, Interrupted, IrreadyError, UsageError
from auditor.scheduler import cli as schedule_cli
from drills import cli as drill_cli
from incident import cli as incident_cli
from reports import cli as report_cli
from reports.formats import AuditFormat

if TYPE_CHECKING:
    from typer._click.core import Context  # the click that typer vendors

    from auditor.config import Config
    from auditor.registry import Registry
    from auditor.runner import Progress
    from auditor.store import HistoryStore


class IrreadyGroup(TyperGroup):
    """The root command group: every IrreadyError raised by any command (sub-apps
    included, since they run inside this group's invoke) becomes one line on stderr and
    the exit code it carries, never a traceback. So do the command line's own parse
    errors (a bad choice, an unknown option or command), which typer would print as a
    usage block: a cron mail or a log line shows one `irready: error:` line."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Context | None = None, **extra: Any) -> Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except ClickUsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx: Context) -> object:
        try:
            return super().invoke(ctx)
        except IrreadyError as exc:
            exc.show()
            raise typer.Exit(exc.exit_code) from None
        except ClickUsageError as exc:
            _usage_error(exc)
        except KeyboardInterrupt:
            # a command that stores or writes says itself what it kept (Interrupted)
            Interrupted("interrupted (Ctrl-C)").show()
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def _usage_error(exc: ClickUsageError) -> NoReturn:
    """One line for a parse error; no arguments at all still shows the help."""
    if isinstance(exc, NoArgsIsHelpError):
        raise exc
    where = exc.ctx.command_path if exc.ctx is not None else "irready"
    UsageError(f"{_plain(exc.format_message())} (see '{where} --help')").show()
    raise typer.Exit(int(ExitCode.USAGE)) from None


def _plain(message: str) -> str:
    """The parser's message as a sentence: typer words a bad choice as a validation
    library does ("Value error, 'x' is not one of ..."), and ends it with a period
    before our "(see ...)"."""
    message = message.replace("Value error, ", "").rstrip(".")
    return message.replace("Input should be a valid integer, unable to parse string as an "
                           "integer", "not an integer").replace("Input should be ", "must be ")


def _version(show: bool) -> None:
    if show:
        from auditor import __version__

        typer.echo(f"irready {__version__}")
        raise typer.Exit(0)


app = typer.Typer(
    name="irready",
    cls=IrreadyGroup,
    help="Keep an AWS account ready for the day an access key leaks: audit, drill, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: typer's rich help imports markdown and pygments, ~0.3 s at every start
    rich_markup_mode=None,
)
config_app = typer.Typer(help="Write or validate the TOML config.", no_args_is_help=True)
policy_app = typer.Typer(help="Print the least-privilege IAM policies irready needs.",
                         no_args_is_help=True)


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print irready's version and exit.")] = False,
) -> None:
    """Keep an AWS account ready for the day an access key leaks: audit, drill, report."""


app.add_typer(config_app, name="config")
app.add_typer(policy_app, name="policy")
app.add_typer(drill_cli.app, name="drill")
app.add_typer(report_cli.app, name="report")
app.add_typer(schedule_cli.app, name="schedule")

@app.command()
def audit(
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
    regions: Annotated[str | None, typer.Option(
        help="Comma-separated regions to audit (default: all enabled).")] = None,
    check: Annotated[list[str] | None, typer.Option(
        "--check", metavar="ID", help="Run only this check id or area (repeatable).")] = None,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", metavar="ID", help="Skip this check id or area (repeatable).")] = None,
    fmt: Annotated[AuditFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: from --output's extension, else "
        "terminal).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, callback=checked_path, metavar="PATH",
        help="Write the report here (.txt, .json, .html, .pdf, .csv, .md or .xml).")] = None,
    fail_on: Annotated[str | None, typer.Option(
        help="Exit 1 only for failures at or above: low, medium, high, critical.")] = None,
    deep: Annotated[bool, typer.Option(help="Also run an Athena test query.")] = False,
    no_history: Annotated[bool, typer.Option(
        "--no-history", help="Do not store this run (it is still compared with stored runs).")]
    = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show passing checks.")]
    = False,
    debug: Annotated[bool, typer.Option(help="Re-raise errors inside checks.")] = False,
) -> None:
    """Audit the account read-only; exit 1 on failures, 4 if some checks could not run."""
    from dataclasses import replace

    from auditor.audit import (
        RunNotStored,
        audit_exit_code,
        check_regions,
        perform_audit,
        select_checks,
    )
    from auditor.config import region_problem
    from auditor.models import Severity
    from auditor.registry import discover
    from reports.formats import (
        AUDIT_SUFFIXES,
        check_output,
        output_format,
        render_audit,
        write_output,
    )

    fmt = output_format(output, fmt, AuditFormat.TERMINAL, AUDIT_SUFFIXES)
    if output is not None:
        check_output(output)  # before the audit, not after it
    if output is None and fmt is AuditFormat.PDF and sys.stdout.isatty():
        raise UsageError("--format pdf is binary: pass --output FILE.pdf (or redirect stdout)")
    config = load(config_path, history_path)
    settings = config.audit
    if regions is not None:
        chosen = tuple(r.strip() for r in regions.split(",") if r.strip())
        if not chosen:
            # an empty list in a script's variable must not widen the audit to every region
            raise UsageError("--regions: no region named; leave --regions out to audit "
                             "every enabled region")
        for name in chosen:
            if region_problem(name):
                raise UsageError(f"--regions: {region_problem(name)}")
        settings = replace(settings, regions=chosen)
    if deep:
        settings = replace(settings, deep=True)
    config = replace(config, audit=settings)
    try:
        threshold = Severity.parse(fail_on) if fail_on else config.fail_on
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    registry = discover()
    check_ids_in_config(config, registry)
    only, skipped = check or (), skip or ()
    selected = select_checks(registry, config, only=only, skip=skipped)
    ctx = aws_context(profile, region, endpoint_url)
    check_regions(ctx, config, "--regions" if regions is not None else "")
    # --no-history still compares with the stored runs, but creates and writes nothing
    keep = not no_history
    store = open_store(config) if keep or config.history_file.exists() else None
    try:
        if keep and store is not None:
            store.check_writable()  # before the audit, not after it
        newest = _newest_run_id(store)
    except BaseException:
        if store is not None:
            store.close()
        raise
    not_stored: RunNotStored | None = None
    try:
        with progress_reporter(len(selected)) as progress:
            result = perform_audit(ctx, config, registry, only=only, skip=skipped,
                                   history=store, save=keep, debug=debug, progress=progress)
    except RunNotStored as exc:  # the report is still shown, then the error
        not_stored, result = exc, exc.result
    except KeyboardInterrupt:
        # the run is stored in one transaction once every check ended: cut off before
        # that, nothing is; just after it, the run is (without its account snapshot)
        stored = _newest_run_id(store) if keep else newest
        if stored != newest:
            raise Interrupted(f"interrupted: run {stored} was stored just before; its "
                              "report was not written") from None
        why = "--no-history" if not keep else "a run is stored only once it ends"
        raise Interrupted(f"interrupted: the audit stopped before it ended; nothing was "
                          f"stored ({why})") from None
    finally:
        if store is not None:
            store.close()
    try:
        if output is not None:
            write_output(output, render_audit(result.run, result.diff, fmt))
            typer.echo(f"wrote {output}", err=True)
        if fmt is AuditFormat.TERMINAL:
            from reports.terminal import print_audit  # rich: only for the terminal

            print_audit(stdout(), result.run, result.diff, verbose=verbose)
        elif output is None:
            sys.stdout.buffer.write(render_audit(result.run, result.diff, fmt))
    except KeyboardInterrupt:
        run_id = result.run.run_id
        kept = (f"run {run_id} was stored (`irready report audit --run {run_id}` shows it)"
                if run_id is not None else "nothing was stored (--no-history)")
        raise Interrupted(f"interrupted: the audit ended and {kept}, but its report was "
                          "not completely written") from None
    if not_stored is not None:
        sys.stdout.flush()
        raise not_stored
    raise typer.Exit(int(audit_exit_code(result.run, threshold)))


def _newest_run_id(store: HistoryStore | None) -> int | None:
    if store is None:
        return None
    newest = store.runs(limit=1)
    return newest[0].run_id if newest else None


def check_ids_in_config(config: Config, registry: Registry, *, waivers: bool = False) -> None:
    """The check ids the config names exist: an unknown one is a config error naming its
    key. Waivers (only with `waivers`: `config check`) compare ids exactly, so an area
    or a typo there would never match; the audit itself still runs with such a waiver."""
    from auditor.errors import ConfigError
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
def progress_reporter(total: int) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal; silent under cron or in a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as Bar

    with Bar(transient=True, console=stderr()) as bar:
        task = bar.add_task("auditing", total=total + 1)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=name)

        yield step


WIDE_TABLE_COLUMNS = 120  # `irready checks` below this width: a block per check


@app.command("checks")
def list_checks(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """List the check catalogue: id, severity, title, references."""
    import json

    from rich.table import Table

    from auditor.registry import discover

    registry = discover()
    if fmt == "json":
        rows = [{"id": c.id, "severity": c.severity.label, "title": c.title,
                 "references": list(c.references), "remediation": c.remediation,
                 "why": c.doc} for c in registry]
        typer.echo(json.dumps(rows, indent=2))
        return
    if fmt != "table":
        raise UsageError(f"--format: unknown value {fmt!r} (expected table or json)")
    console = stdout()
    if console.width < WIDE_TABLE_COLUMNS:
        # four columns beside a 32-character id leave a title a dozen characters, one
        # word per line: a narrow terminal gets a block per check instead
        import textwrap

        for c in registry:
            refs = f" ({', '.join(c.references)})" if c.references else ""
            console.print(f"{c.id}  [{c.severity.label}]", markup=False, soft_wrap=True)
            console.print(textwrap.fill(c.title + refs, width=max(console.width, 40),
                                        initial_indent="    ", subsequent_indent="    "),
                          markup=False, soft_wrap=True)
        return
    table = Table()
    # ids and severities are copied into configs and --check: never folded
    table.add_column("id", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("title", ratio=3)
    table.add_column("references", ratio=1)
    for c in registry:
        table.add_row(c.id, c.severity.label, c.title, ", ".join(c.references) or "-")
    console.print(table)


@app.command()
def history(
    config_path: ConfigOpt = None,
    history_path: HistoryOpt = None,
    account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs.", min=1, max=INT_MAX,
                                       metavar="N")] = 20,
) -> None:
    """List past audit runs from the history store, newest first."""
    from rich.table import Table

    from auditor.clock import iso

    config = load(config_path, history_path)
    with open_store(config) as store:
        runs = store.runs(account_id=account, limit=limit)
    if not runs:
        typer.echo(f"no audit runs in {config.history_file}")
        return
    table = Table()
    for column in ("run", "account", "started (UTC)", "score", "FAIL", "ERROR", "PASS"):
        table.add_column(column)
    for run in runs:
        # a --check/--skip run's score covers only its checks: marked beside the score
        # (a column more would not fit 80 columns), since reports and the weekly slot
        # leave such runs out
        score = f"{run.score:.0f}" + ("" if run.complete else "*")
        if run.coverage is not None and run.coverage.partial:
            # a check that could not be evaluated leaves the score: say how much it covers
            score += f" ({run.coverage.evaluated}/{run.coverage.selected})"
        table.add_row(str(run.run_id), run.account_id, iso(run.started_at), score,
                      str(run.counts.get("FAIL", 0)), str(run.counts.get("ERROR", 0)),
                      str(run.counts.get("PASS", 0)))
    stdout().print(table)
    if any(run.coverage is not None and run.coverage.partial for run in runs):
        typer.echo("(E/S): the score covers E of the S controls the run selected; the\n"
                   "  others could not be evaluated (ERROR) and are left out of it")
    if not all(run.complete for run in runs):
        typer.echo("* partial run (--check, --skip, audit.checks or audit.skip): its score\n"
                   "  covers only the checks it ran; the compliance report and the\n"
                   "  scheduler's weekly audit leave it out")


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option(help="Where the demo writes its reports.",
                                             file_okay=False, callback=checked_path)]
    = Path("irready-demo"),
) -> None:
    """Run irready on an embedded, simulated AWS account: no account or credentials needed."""
    from demo.run import run_demo

    raise typer.Exit(int(run_demo(output_dir, stdout())))


# after the commands above, so that `irready --help` lists it after audit, checks, history
app.command("playbook")(incident_cli.playbook)


@config_app.command("init")
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


@config_app.command("check")
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


@policy_app.command("audit")
def policy_audit() -> None:
    """The IAM policy the audit needs (read-only)."""
    from importlib.resources import files

    typer.echo(files("auditor").joinpath("policies/audit.json").read_text(), nl=False)


@policy_app.command("playbook")
def policy_playbook() -> None:
    """The IAM policy `irready playbook` needs: the audit's (read-only), since it
    audits first when the newest audit is older than 7 days."""
    from importlib.resources import files

    typer.echo(files("auditor").joinpath("policies/audit.json").read_text(), nl=False)


@policy_app.command("drill")
def policy_drill(
    config_path: ConfigOpt = None,
    user: Annotated[list[str] | None, typer.Option(
        "--user", metavar="USER", help="A drill user besides [drill] users (repeatable).")]
    = None,
    target: Annotated[list[str] | None, typer.Option(
        "--target", metavar="TARGET",
        help="A rotation target besides the inventory's (repeatable).")] = None,
) -> None:
    """The IAM policy the drill needs, scoped to the drill users and their targets."""
    from drills.policy import render_policy

    typer.echo(render_policy(load(config_path), user or (), target or ()), nl=False)


def main(argv: list[str] | None = None) -> None:
    app(args=argv, prog_name="irready")


__all__ = ["ExitCode", "app", "main"]
