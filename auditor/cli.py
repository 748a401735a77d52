"""The `irready` command line: a thin typer app. Each command loads config, calls one
core function, renders, and exits with a code from `auditor.errors.ExitCode`.

Heavy imports (boto3, moto, weasyprint) happen inside commands, so `irready --help`
starts fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from auditor import audit_cli, config_cli, policy_cli
from auditor.cli_common import (
    INT_MAX,
    ConfigOpt,
    HistoryOpt,
    checked_path,
    load,
    open_store,
    stdout,
)
from auditor.errors import ExitCode, Interrupted, IrreadyError, UsageError
from auditor.scheduler import cli as schedule_cli
from drills import cli as drill_cli
from incident import cli as incident_cli
from incident import contain_cli, investigate_cli
from reports import cli as report_cli

if TYPE_CHECKING:
    from typer._click.core import Context  # the click that typer vendors

    from auditor.store import InvestigationRecord, OrgRunSummary, RunSummary



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


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print irready's version and exit.")] = False,
) -> None:
    """Keep an AWS account ready for the day an access key leaks: audit, drill, report."""


app.add_typer(config_cli.app, name="config")
app.add_typer(policy_cli.app, name="policy")
app.add_typer(drill_cli.app, name="drill")
app.add_typer(contain_cli.app, name="contain")
app.add_typer(report_cli.app, name="report")
app.add_typer(schedule_cli.app, name="schedule")
app.command()(audit_cli.audit)  # first in `irready --help`

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
    org: Annotated[bool, typer.Option(
        "--org", help="List the organization runs (`irready audit --org`).")] = False,
) -> None:
    """List past audit runs and investigations from the history store, newest first."""
    config = load(config_path, history_path)
    if org:
        if account:
            raise UsageError("--account lists one account's runs; --org the organization "
                             "runs: pass one of them")
        with open_store(config) as store:
            org_runs = store.org_runs(limit=limit)
        if not org_runs:
            typer.echo(f"no organization runs in {config.history_file}")
            return
        _print_org_runs(org_runs)
        return
    with open_store(config) as store:
        runs = store.runs(account_id=account, limit=limit)
        investigations = store.investigations(account_id=account, limit=limit)
    if not runs and not investigations:
        typer.echo(f"no audit runs in {config.history_file}")
        return
    if runs:
        _print_runs(runs)
    else:
        typer.echo(f"no audit runs in {config.history_file}")
    if investigations:
        _print_investigations(investigations)


def _print_runs(runs: list[RunSummary]) -> None:
    from rich.table import Table

    from auditor.clock import iso

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


def _print_org_runs(found: list[OrgRunSummary]) -> None:
    from rich.table import Table

    from auditor.clock import iso

    table = Table(title="organization runs")
    for column in ("org run", "from account", "started (UTC)", "accounts", "audited",
                   "ERROR", "skipped"):
        table.add_column(column)
    for item in found:
        table.add_row(str(item.org_run_id), item.management_account, iso(item.started_at),
                      str(item.accounts), str(item.audited), str(item.errors),
                      str(item.skipped))
    stdout().print(table)
    typer.echo("each account's run: irready history --account ID; the roll-up: irready "
               "report audit --org --run ORG-RUN")


def _print_investigations(found: list[InvestigationRecord]) -> None:
    from rich.table import Table

    table = Table(title="investigations")
    for column in ("investigation", "key", "account", "started (UTC)", "suspicious",
                   "follow-ups"):
        table.add_column(column, no_wrap=column in ("investigation", "key"))
    for item in found:
        table.add_row(item.investigation_id, item.key_id, item.account_id,
                      f"{item.started_at:%Y-%m-%d %H:%M}",
                      f"{item.suspicious}" + ("" if item.complete else "*"),
                      str(item.follow_ups))
    stdout().print(table)
    if not all(item.complete for item in found):
        typer.echo("* incomplete search: part of the logs could not be read (see the\n"
                   "  investigation: irready report investigation --investigation ID)")


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option(help="Where the demo writes its reports.",
                                             file_okay=False, callback=checked_path)]
    = Path("irready-demo"),
) -> None:
    """Run irready on an embedded, simulated AWS account: no account or credentials needed."""
    from demo.run import run_demo

    raise typer.Exit(int(run_demo(output_dir, stdout())))


# after the commands above, so that `irready --help` lists them after audit, checks, history
app.command("playbook")(incident_cli.playbook)
app.command("investigate")(investigate_cli.investigate)


def main(argv: list[str] | None = None) -> None:
    app(args=argv, prog_name="irready")


__all__ = ["ExitCode", "app", "main"]
