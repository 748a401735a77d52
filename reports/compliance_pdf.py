"""The compliance report as a file: the model (reports/compliance.py) rendered through
the shared HTML templates, printed to PDF by weasyprint or written as HTML, with every
finding of the last audit as CSV beside it when the PDF had to leave some out. Its
organization edition (reports/compliance_org.py) is written here too, from one
organization run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.clock import iso
from auditor.errors import UsageError
from auditor.store import HistoryStore
from reports.compliance import build_compliance
from reports.compliance_model import ComplianceReport
from reports.compliance_period import Period
from reports.formats import COMPLIANCE_SUFFIXES, ComplianceFormat

if TYPE_CHECKING:
    from auditor.org import OrgAudit
    from reports.compliance_org import OrgComplianceReport

RESPONSE_WINDOW = "4 hours"  # "could we rotate every key within 4 hours?"
TREND_TABLE_ROWS = 40




def render_compliance_html(report: ComplianceReport) -> str:
    from reports.html import render_html

    who = report.account_id + (f" ({report.alias})" if report.alias else "")
    return render_html(
        "compliance.html.j2",
        tool_version=report.version,
        created=iso(report.generated_at),
        doc_title=f"Leaked-key readiness: {report.period.label}",
        header_right=f"account {who}",
        footer_left=_footer(report.version, report.generated_at, bool(report.notice)),
        r=report,
        who=who,
        window=RESPONSE_WINDOW,
        trend_rows=list(reversed(report.runs))[:TREND_TABLE_ROWS],
    )


def _footer(version: str, generated_at: datetime, simulated: bool) -> str:
    """Every page's footer, in both editions: which irready made it, when, and whether
    from the demo's simulated account."""
    return (f"irready {version}, generated {generated_at:%Y-%m-%d %H:%M} UTC"
            + (" (simulation)" if simulated else ""))


def findings_csv_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-findings.csv")


def check_compliance_output(output: Path) -> None:
    """The report is a PDF or an HTML page, told by the name (before any work)."""
    if output.suffix.lower() not in COMPLIANCE_SUFFIXES:
        raise UsageError(f"--output {output}: the name must end in .pdf or .html")


def compliance_format(output: Path, fmt: ComplianceFormat | None) -> ComplianceFormat:
    """--format when given, else the one the name's suffix says (before any work)."""
    if fmt is not None:
        return fmt
    check_compliance_output(output)
    return COMPLIANCE_SUFFIXES[output.suffix.lower()]


def _check_folder(output: Path) -> None:
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: folder {output.parent} does not exist")


def _write_document(output: Path, html: str, fmt: ComplianceFormat) -> None:
    from reports.formats import write_output

    if fmt is ComplianceFormat.PDF:
        from reports.pdf import html_to_pdf

        write_output(output, html_to_pdf(html))
    else:
        write_output(output, html.encode())


def write_compliance_report(store: HistoryStore, output: Path, *, period: Period,
                            generated_at: datetime, account_id: str | None = None,
                            alias: str | None = None, notice: str | None = None,
                            fmt: ComplianceFormat | None = None) -> list[Path]:
    """Write the PDF (or HTML, by `fmt` or the suffix of `output`) and, when the report
    had to leave findings out, every finding of the last audit as CSV beside it. Returns
    the files written."""
    from reports.csv_report import render_csv
    from reports.formats import write_output

    chosen = compliance_format(output, fmt)
    _check_folder(output)
    csv_path = findings_csv_path(output)
    report = build_compliance(store, period=period, generated_at=generated_at,
                              account_id=account_id, alias=alias, notice=notice,
                              csv_name=csv_path.name)
    html = render_compliance_html(report)
    written = []
    if report.truncated and report.latest is not None:
        write_output(csv_path, render_csv(report.latest).encode())
        written.append(csv_path)
    _write_document(output, html, chosen)
    written.insert(0, output)
    return written


def render_org_compliance_html(report: OrgComplianceReport) -> str:
    from reports.compliance_org import SEVERITIES
    from reports.html import render_html

    org = report.org
    return render_html(
        "compliance_org.html.j2",
        tool_version=report.version,
        created=iso(report.generated_at),
        doc_title=("Leaked-key readiness: organization"
                   + (f" run {org.org_run_id}" if org.org_run_id is not None else "")),
        header_right=f"organization of {org.management_account}",
        footer_left=_footer(report.version, report.generated_at, bool(report.notice)),
        r=report,
        window=RESPONSE_WINDOW,
        severities=SEVERITIES,
    )


def write_org_compliance_report(org: OrgAudit, output: Path, *, generated_at: datetime,
                                notice: str | None = None,
                                fmt: ComplianceFormat | None = None) -> list[Path]:
    """The organization edition of one organization run, as PDF or HTML. Every finding
    stays in each account's stored run, so no CSV is written beside it."""
    from reports.compliance_org import build_org_compliance

    chosen = compliance_format(output, fmt)
    _check_folder(output)
    report = build_org_compliance(org, generated_at=generated_at, notice=notice)
    _write_document(output, render_org_compliance_html(report), chosen)
    return [output]
