"""The audit as Markdown, sized for a ticket or a pull-request comment: the score, one
table row per check, and the failing checks with a few resources and the fix. Every
AWS-sourced string is escaped, so a pipe cannot break the table and `<script>` stays
text in renderers that allow HTML."""

from __future__ import annotations

from auditor.diff import RunDiff
from auditor.models import AuditRun, Status
from reports.summary import group_by_check, status_counts

SHOWN_PER_CHECK = 10


def md(text: str) -> str:
    """Text for a table cell or a list item."""
    escaped = (text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;")
               .replace(">", "&gt;").replace("|", "\\|").replace("`", "\\`")
               .replace("*", "\\*").replace("[", "\\["))
    return " ".join(escaped.split())


def code(text: str) -> str:
    """Inline code; a fence one backtick longer than any run inside it."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    body = " ".join(text.replace("|", "\\|").split())
    return f"{fence} {body} {fence}"


def render_markdown(run: AuditRun, diff: RunDiff | None = None) -> str:
    groups = group_by_check(run.findings, SHOWN_PER_CHECK)
    checks = status_counts(groups)
    run_label = f"run {run.run_id}" if run.run_id is not None else "unsaved run"
    covers = f" ({md(run.coverage.note)})" if run.coverage.partial else ""
    lines = [
        f"# irready audit of account {md(run.account_id)}",
        "",
        f"{run_label.capitalize()}, {run.started_at:%Y-%m-%d %H:%M} UTC, irready "
        f"{md(run.version)}: readiness score **{run.score:.0f}/100**{covers}; checks: "
        f"{checks['FAIL']} failing, {checks['ERROR']} error, {checks['PASS']} passing, "
        f"{checks['WAIVED']} waived, {checks['NOT_APPLICABLE']} not applicable.",
        "",
    ]
    if diff is not None and diff.previous_run_id is not None:
        lines += [f"Since run {diff.previous_run_id}: {diff.score_text}, "
                  f"{len(diff.new_failures)} new failure(s), {len(diff.fixed)} fixed.", ""]
    lines += ["| Status | Severity | Check | Failing | Title |", "|---|---|---|---:|---|"]
    for group in groups:
        lines.append(f"| {group.status_label} | {group.severity.label} | "
                     f"{md(group.check_id)} | {len(group.failing)} | {md(group.title)} |")
    failing = [g for g in groups if g.status in (Status.FAIL, Status.ERROR)]
    if failing:
        lines += ["", "## To fix"]
    for group in failing:
        lines += ["", f"### {group.status_label} {md(group.check_id)} ({group.severity.label})",
                  ""]
        lines += [f"- {md(f.resource)}: {md(f.message)}" for f in group.shown
                  if f.status is group.status]
        if group.hidden:
            lines.append(f"- ... and {group.hidden} more (`irready report audit --format csv`)")
        if group.status is Status.FAIL:
            lines += ["", f"Fix: {code(group.remediation)}"]
    return "\n".join(lines) + "\n"
