"""`irready playbook`: the command line of the incident kit. It reads what is stored,
runs one read-only audit first when the newest snapshot is older than 7 days (exactly
as `irready audit` does), builds the playbook and renders it, or compares a committed
one with a fresh rendering (--verify)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from auditor.cli_common import (
    ConfigOpt,
    EndpointOpt,
    HistoryOpt,
    ProfileOpt,
    RegionOpt,
    aws_context,
    checked_path,
    load,
    open_store,
)
from auditor.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.store import HistoryStore
    from incident.playbook.build import Sources
    from incident.playbook.model import Playbook
    from incident.playbook.verify import SectionChange


class PlaybookFormat(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"
    JSON = "json"


SUFFIXES = {".md": PlaybookFormat.MARKDOWN, ".markdown": PlaybookFormat.MARKDOWN,
            ".html": PlaybookFormat.HTML, ".pdf": PlaybookFormat.PDF,
            ".json": PlaybookFormat.JSON}


def playbook(
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, callback=checked_path, metavar="PATH",
        help="Write the playbook here (.md, .html, .pdf or .json).")] = None,
    fmt: Annotated[PlaybookFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: from --output's extension, else "
        "markdown); with --verify: markdown (text) or json.")] = None,
    verify: Annotated[Path | None, typer.Option(
        "--verify", dir_okay=False, callback=checked_path, metavar="FILE",
        help="Compare FILE's facts with a fresh rendering: exit 1 when they differ.")]
    = None,
    no_audit: Annotated[bool, typer.Option(
        "--no-audit", help="Use what is stored even if older than 7 days.")] = False,
    account: Annotated[str | None, typer.Option(
        metavar="ID", help="The account (default: the newest one audited).")] = None,
) -> None:
    """Write this account's incident playbook from the latest audit; exit 1 with
    --verify when the facts changed."""
    from reports.formats import check_output, output_format

    if verify is not None and output is not None:
        raise UsageError("--verify compares FILE with a fresh rendering and writes nothing: "
                         "leave --output out")
    chosen = output_format(output, fmt, PlaybookFormat.MARKDOWN, SUFFIXES)
    if verify is not None and chosen not in (PlaybookFormat.MARKDOWN, PlaybookFormat.JSON):
        raise UsageError("--verify: --format must be markdown or json")
    if output is not None:
        check_output(output)
    if output is None and chosen is PlaybookFormat.PDF and sys.stdout.isatty():
        raise UsageError("--format pdf is binary: pass --output FILE.pdf (or redirect stdout)")
    committed = _read_verified(verify) if verify is not None else None
    config = load(config_path, history_path)
    from incident.playbook.build import build_playbook
    from incident.playbook.stored import is_fresh, read_notes, record_playbook
    from incident.playbook.verify import compare

    read_notes(config)  # a notes file that cannot be read is refused before any audit
    if no_audit and not config.history_file.exists():
        raise _nothing_stored(config, account)

    from auditor.clock import utcnow
    from incident.playbook.markdown import render_markdown

    with open_store(config) as store:
        if not no_audit and not is_fresh(store, account, utcnow()):
            account = _fresh_audit(store, config, profile, region, endpoint_url, account)
        sources = _sources(store, config, account)
        book = build_playbook(sources, utcnow().date())
        text = render_markdown(book)
        changes = None if committed is None else compare(committed, text)
        if not changes:  # written, or verified as current: playbook.current counts it
            record_playbook(store, sources, utcnow())
    if changes is not None and verify is not None:
        _report_changes(changes, verify, chosen)
    content = _render(book, text, chosen)
    if output is None:
        sys.stdout.buffer.write(content)
        return
    from reports.formats import write_output

    write_output(output, content)
    typer.echo(f"wrote {output}", err=True)


def _read_verified(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--verify: cannot read {path}: {reason}") from None


def _fresh_audit(store: HistoryStore, config: Config, profile: str | None,
                 region: str | None, endpoint_url: str | None, account: str | None) -> str:
    """One read-only, complete audit, stored like any other; the audited account."""
    from auditor.audit import check_regions, perform_audit
    from auditor.registry import discover

    ctx = aws_context(profile, region, endpoint_url)
    check_regions(ctx, config)
    store.check_writable()
    typer.echo("irready: the newest audit is older than 7 days (or missing): auditing "
               "first (read-only)", err=True)
    result = perform_audit(ctx, config, discover(), history=store)
    audited = result.run.account_id
    if account is not None and account != audited:
        raise UsageError(f"--account {account}: the credentials are of account {audited}")
    return audited


def _sources(store: HistoryStore, config: Config, account: str | None) -> Sources:
    from incident.playbook.stored import stored_sources

    sources = stored_sources(store, config, account)
    if sources is None:
        raise _nothing_stored(config, account)
    return sources


def _nothing_stored(config: Config, account: str | None) -> UsageError:
    which = f"account {account}" if account else "any account"
    return UsageError(f"no complete audit of {which} is stored in {config.history_file}: "
                      "run `irready audit` first")


def _report_changes(changes: tuple[SectionChange, ...], path: Path,
                    fmt: PlaybookFormat) -> NoReturn:
    import json

    from incident.playbook.verify import as_dict, summary

    if fmt is PlaybookFormat.JSON:
        typer.echo(json.dumps(as_dict(changes), indent=2))
    elif changes:
        typer.echo(f"{path}: the account's facts changed since it was written:")
        for line in summary(changes):
            typer.echo(line)
    else:
        typer.echo(f"{path}: the facts match the latest audit")
    raise typer.Exit(int(ExitCode.FAILED) if changes else int(ExitCode.OK))


def _render(book: Playbook, text: str, fmt: PlaybookFormat) -> bytes:
    if fmt is PlaybookFormat.MARKDOWN:
        return text.encode()
    if fmt is PlaybookFormat.JSON:
        from incident.playbook.jsonform import render_json

        return render_json(book).encode()
    from reports.playbook_html import playbook_html, playbook_pdf

    as_of = book.status.as_of.isoformat()
    if fmt is PlaybookFormat.HTML:
        return playbook_html(text, book.account_id, as_of).encode()
    return playbook_pdf(text, book.account_id, as_of)
