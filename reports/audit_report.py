"""The HTML and PDF report of one audit run: the score, what changed since the last
run, one row per check, and each check's findings with its remediation. The PDF
prints at most `PDF_SHOWN_PER_CHECK` findings per check (weasyprint costs ~5 ms a
row), naming the CSV/JSON formats for the full list; the HTML shows them all."""

from __future__ import annotations

from auditor.clock import iso
from auditor.diff import RunDiff
from auditor.models import AuditRun
from reports.summary import group_by_check, status_counts

PDF_SHOWN_PER_CHECK = 25


def render_audit_html(run: AuditRun, diff: RunDiff | None,
                      shown_per_check: int | None = None) -> str:
    """Deterministic: only the run's own times are printed, never the clock's."""
    from reports.html import render_html

    groups = group_by_check(run.findings, shown_per_check)
    run_label = f"run {run.run_id}" if run.run_id is not None else "unsaved run"
    return render_html(
        "audit.html.j2",
        tool_version=run.version,
        created=iso(run.finished_at),
        doc_title=f"irready audit of {run.account_id}, {run_label}",
        header_right=run.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        footer_left=f"irready {run.version}",
        run=run,
        run_label=run_label,
        diff=diff if diff is not None and diff.previous_run_id is not None else None,
        groups=groups,
        check_counts=status_counts(groups),
        finding_counts=run.counts(),
        truncated=any(group.hidden for group in groups),
    )


def render_audit_pdf(run: AuditRun, diff: RunDiff | None) -> bytes:
    from reports.pdf import html_to_pdf

    return html_to_pdf(render_audit_html(run, diff, PDF_SHOWN_PER_CHECK))
