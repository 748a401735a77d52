"""`irready investigate KEY`: what the key did, what it minted and what it left behind,
from the trail's log files. Every value is checked before anything is read; the result
is stored in the history store (`irready report investigation` renders it again).

Exit codes: 0 nothing suspicious in a complete search; 1 suspicious activity or
follow-ups; 2 usage; 3 no source could be read; 4 nothing suspicious found, but the
search was incomplete."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli_common import (
    ConfigOpt,
    EndpointOpt,
    HistoryOpt,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    aws_context,
    load,
    open_store,
    stderr,
    stdout,
)
from auditor.errors import ExitCode

if TYPE_CHECKING:
    from auditor.snapshot import AccountSnapshot
    from incident.investigate.model import Investigation
    from incident.investigate.record_source import Progress


class InvestigationFormat(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"
    PDF = "pdf"


SUFFIXES = {".txt": InvestigationFormat.TERMINAL, ".json": InvestigationFormat.JSON,
            ".md": InvestigationFormat.MARKDOWN, ".markdown": InvestigationFormat.MARKDOWN,
            ".csv": InvestigationFormat.CSV, ".html": InvestigationFormat.HTML,
            ".htm": InvestigationFormat.HTML, ".pdf": InvestigationFormat.PDF}
MAX_WORKERS = 256
MAX_GB = 1_000_000.0


def investigate(
    key: Annotated[str, typer.Argument(metavar="KEY_ID", show_default=False,
                                       help="The access key id (AKIA... or ASIA...).")],
    since: Annotated[str | None, typer.Option(
        metavar="SPAN", help="The window: this long before now, as in 30d or 12h "
        "(default 30d).")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", metavar="TIME", help="Window start (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="TIME", help="Window end (ISO 8601; default now).")] = None,
    baseline: Annotated[str, typer.Option(
        metavar="SPAN", help="How long before --from the key's usual IPs and user agents "
        "are learned.")] = "14d",
    source: Annotated[list[str] | None, typer.Option(
        metavar="SOURCE", help="auto (the default), s3 (the audited trails' buckets), "
        "s3://BUCKET[/PREFIX], local:DIR (no AWS access needed), lookup (event history, "
        "90 days) or athena (the audited table); repeatable.")] = None,
    fmt: Annotated[InvestigationFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: from --output's extension, else "
        "terminal).")] = None,
    output: OutputOpt = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=MAX_WORKERS, metavar="N",
        help="Processes that decompress logs (default: one per core).")] = None,
    max_scan_gb: Annotated[float, typer.Option(
        min=0.001, max=MAX_GB, metavar="GB",
        help="Athena: refuse a query that would scan more than this.")] = 50,
    max_download_gb: Annotated[float, typer.Option(
        min=0, max=MAX_GB, metavar="GB",
        help="auto: above this much log, let Athena scan instead (when a table "
        "exists).")] = 20,
    notify: Annotated[bool, typer.Option(
        "--notify", help="Send suspicious findings to the [notify] channels.")] = False,
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
) -> None:
    """What a leaked key did, and what it left behind: its calls, the credentials it
    minted and theirs, the follow-ups; exit 1 when anything is suspicious, 4 when the
    search could not look everywhere."""
    from auditor.clock import utcnow
    from incident.investigate.keyids import checked_key_id
    from incident.investigate.plan import GB, Limits, check_specs
    from incident.investigate.run import Request, run_investigation
    from incident.investigate.source_spec import parse_sources
    from incident.investigate.stored import store_investigation
    from incident.investigate.window import make_window
    from reports.formats import check_output, output_format

    key_id = checked_key_id(key)
    now = utcnow()
    window = make_window(now, since=since, start=start, end=end, baseline=baseline)
    specs = parse_sources(source)
    check_specs(specs, window, now)
    chosen = output_format(output, fmt, InvestigationFormat.TERMINAL, SUFFIXES)
    if output is not None:
        check_output(output)
    refuse_pdf_on_terminal(chosen, output)
    config = load(config_path, history_path)
    if notify and not (config.notify.webhook_url or config.notify.sns_topic_arn
                       or config.notify.email_to):
        from auditor.errors import UsageError

        where = config.source or "the config"
        raise UsageError(f"--notify: {where} sets no [notify] channel (webhook_url, "
                         "sns_topic_arn or email_to)")
    needs_aws = any(spec.needs_aws for spec in specs)
    context = (lambda: aws_context(profile, region, endpoint_url)) if needs_aws else None
    with open_store(config) as store:
        store.check_writable()

        def snapshot_of(account: str) -> AccountSnapshot | None:
            latest = store.latest_snapshot(account)
            return None if latest is None else latest[1]

        with _progress() as progress:
            limits = Limits(int(max_scan_gb * GB), int(max_download_gb * GB), workers)
            result = run_investigation(
                Request(key_id, window, specs, limits), context=context,
                snapshot_of=snapshot_of, clock=utcnow, progress=progress)
        store_investigation(store, result)
    emit(result, chosen, output)
    if notify:
        from incident.investigate.notify import notify_investigation

        for failure in notify_investigation(config.notify, result,
                                            str(output) if output else None,
                                            session_factory=context):
            typer.echo(f"irready: warning: --notify: {failure}", err=True)
    raise typer.Exit(int(exit_code(result)))


def exit_code(result: Investigation) -> ExitCode:
    if result.suspicious or result.follow_ups:
        return ExitCode.FAILED
    return ExitCode.OK if result.complete else ExitCode.INCOMPLETE


def render(result: Investigation, fmt: InvestigationFormat) -> bytes:
    from auditor import __version__

    if fmt is InvestigationFormat.JSON:
        from incident.investigate.jsonform import render_json

        return render_json(result, tool_version=__version__).encode()
    if fmt is InvestigationFormat.MARKDOWN:
        from reports.investigation_markdown import render_markdown

        return render_markdown(result).encode()
    if fmt is InvestigationFormat.CSV:
        from reports.investigation_csv import render_csv

        return render_csv(result).encode()
    if fmt is InvestigationFormat.HTML:
        from reports.investigation_report import render_investigation_html

        html: str = render_investigation_html(result)
        return html.encode()
    if fmt is InvestigationFormat.PDF:
        from reports.investigation_report import render_investigation_pdf

        pdf: bytes = render_investigation_pdf(result)
        return pdf
    import io

    from rich.console import Console

    from reports.investigation_terminal import print_investigation

    console = Console(record=True, width=100, file=io.StringIO(), color_system=None)
    print_investigation(console, result)
    return console.export_text().encode()


def refuse_pdf_on_terminal(fmt: InvestigationFormat, output: Path | None) -> None:
    """Before anything is read: a PDF is not for a terminal."""
    if fmt is InvestigationFormat.PDF and output is None and sys.stdout.isatty():
        from auditor.errors import UsageError

        raise UsageError("--format pdf is binary: pass --output FILE.pdf (or redirect stdout)")


def emit(result: Investigation, fmt: InvestigationFormat, output: Path | None) -> None:
    if output is None and fmt is InvestigationFormat.TERMINAL:
        from reports.investigation_terminal import print_investigation

        print_investigation(stdout(), result)
        return
    content = render(result, fmt)
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    from reports.formats import write_output

    write_output(output, content)
    typer.echo(f"wrote {output}", err=True)


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A bar per pass on a terminal; silent under cron or in a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.markup import escape
    from rich.progress import Progress as Bar

    with Bar(transient=True, console=stderr()) as bar:
        tasks: dict[str, object] = {}

        def step(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(f"reading {escape(what)}", total=total)
            bar.update(tasks[what], completed=done, total=total)  # type: ignore[arg-type]

        yield step
