"""The output formats of `irready audit --format`, `irready report audit` and `irready
report compliance`, and the one function that renders a run in any of them. A test
renders every member."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TypeVar, assert_never

from auditor.diff import RunDiff
from auditor.errors import UsageError
from auditor.fileio import check_folder
from auditor.fileio import write_output as write_file
from auditor.models import AuditRun


class AuditFormat(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    OCSF = "ocsf"
    ASFF = "asff"
    SARIF = "sarif"

    @property
    def binary(self) -> bool:
        """Not for a terminal: write it to a file (or a pipe)."""
        return self is AuditFormat.PDF


AUDIT_SUFFIXES: Mapping[str, AuditFormat] = {
    ".txt": AuditFormat.TERMINAL, ".json": AuditFormat.JSON, ".html": AuditFormat.HTML,
    ".htm": AuditFormat.HTML, ".pdf": AuditFormat.PDF, ".csv": AuditFormat.CSV,
    ".md": AuditFormat.MARKDOWN, ".markdown": AuditFormat.MARKDOWN, ".xml": AuditFormat.JUNIT,
    ".jsonl": AuditFormat.OCSF, ".sarif": AuditFormat.SARIF,
}


class ComplianceFormat(StrEnum):
    """What `irready report compliance --format` writes: one template tree serves both."""

    PDF = "pdf"
    HTML = "html"


COMPLIANCE_SUFFIXES: Mapping[str, ComplianceFormat] = {
    ".pdf": ComplianceFormat.PDF, ".html": ComplianceFormat.HTML, ".htm": ComplianceFormat.HTML}

F = TypeVar("F", bound=StrEnum)


def output_format(output: Path | None, chosen: F | None, default: F,
                  suffixes: Mapping[str, F], option: str = "--output") -> F:
    """The format of a report: --format when given, else the one the file's extension
    names, else `default` (no file, or a name without an extension such as /dev/stdout).
    An extension that names no format irready writes is a usage error: a PDF must never
    end up in a file named .docx."""
    if chosen is not None:
        return chosen
    if output is None or not output.suffix:
        return default
    try:
        return suffixes[output.suffix.lower()]
    except KeyError:
        names = ", ".join(sorted(suffixes))
        fix = "rename the file or pass --format" if option == "--output" else "rename the file"
        raise UsageError(f"{option} {output.name}: irready writes no {output.suffix} format "
                         f"(it writes {names}): {fix}") from None


def render_audit(run: AuditRun, diff: RunDiff | None, fmt: AuditFormat,
                 home_region: str | None = None) -> bytes:
    """The report as bytes (PDF is binary); TERMINAL renders as plain text. Every
    renderer is imported on use: weasyprint alone costs 0.6 s to import. `home_region`:
    where OCSF and ASFF put account-wide findings (the audit's own region; a stored run
    that did not record it falls back as `finding_resources.home_region` says)."""
    if fmt is AuditFormat.JSON:
        from reports.json_report import render_json

        return render_json(run, diff).encode()
    if fmt is AuditFormat.TERMINAL:
        import io

        from rich.console import Console

        buffer = io.StringIO()
        from reports.terminal import print_audit

        print_audit(Console(file=buffer, width=120, color_system=None), run, diff)
        return buffer.getvalue().encode()
    if fmt is AuditFormat.HTML:
        from reports.audit_report import render_audit_html

        return render_audit_html(run, diff).encode()
    if fmt is AuditFormat.PDF:
        from reports.audit_report import render_audit_pdf

        return render_audit_pdf(run, diff)
    if fmt is AuditFormat.CSV:
        from reports.csv_report import render_csv

        return render_csv(run).encode()
    if fmt is AuditFormat.MARKDOWN:
        from reports.markdown_report import render_markdown

        return render_markdown(run, diff).encode()
    if fmt is AuditFormat.JUNIT:
        from reports.junit_report import render_junit

        return render_junit(run).encode()
    if fmt is AuditFormat.OCSF:
        from auditor.finding_resources import home_region as home
        from reports.ocsf_report import render_ocsf

        return render_ocsf(run, home(run, home_region)).encode()
    if fmt is AuditFormat.ASFF:
        from auditor.finding_resources import home_region as home
        from reports.asff_report import render_asff

        return render_asff(run, diff, home(run, home_region)).encode()
    if fmt is AuditFormat.SARIF:
        from reports.sarif_report import render_sarif

        return render_sarif(run).encode()
    assert_never(fmt)


def check_output(path: Path) -> None:
    """Fail before a slow render, not after it: the folder must exist."""
    check_folder(path)


def write_output(path: Path, content: bytes) -> None:
    """Write atomically; a folder that does not exist is a usage error, not a traceback."""
    write_file(path, content)
