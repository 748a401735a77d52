"""The terminal view of an audit: one row per failing check, grouped by severity, with
its affected resources and the remediation once; then the score and what changed since
the last run. Plain text when not a terminal. Every AWS-sourced string is escaped, so a
resource name with brackets cannot inject console markup."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from auditor.diff import RunDiff
from auditor.models import AuditRun, Finding, Severity, Status
from reports.json_report import sort_findings

STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.ERROR: "yellow",
    Status.NOT_APPLICABLE: "dim",
    Status.WAIVED: "cyan",
}
SHOWN_PER_CHECK = 5


def _group(findings: list[Finding], verbose: bool) -> dict[Severity, dict[tuple[str, Status],
                                                                          list[Finding]]]:
    groups: dict[Severity, dict[tuple[str, Status], list[Finding]]] = defaultdict(dict)
    for finding in findings:
        if verbose or finding.status in (Status.FAIL, Status.ERROR, Status.WAIVED):
            groups[finding.severity].setdefault((finding.check_id, finding.status), []).append(
                finding)
    return groups


def _line(finding: Finding, grouped: bool) -> str:
    """A finding's message; in a group, prefixed with its resource unless the message
    already names it: three identical messages about three regions say nothing."""
    if not grouped or finding.resource in ("", "account"):
        return finding.message
    tail = finding.resource.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if tail and tail.lower() in finding.message.lower():
        return finding.message
    return f"{finding.resource}: {finding.message}"


def _describe(group: list[Finding]) -> str:
    lines = [escape(_line(f, len(group) > 1)) for f in group[:SHOWN_PER_CHECK]]
    if len(group) > SHOWN_PER_CHECK:
        lines.append(f"[dim]... and {len(group) - SHOWN_PER_CHECK} more (see --format json)[/]")
    first = group[0]
    if first.status is Status.FAIL:
        lines.append(f"[dim]fix:[/] {escape(first.remediation)}")
    elif first.status is Status.WAIVED and first.waived_by:
        lines.append(f"[dim]waived:[/] {escape(first.waived_by.text)}")
    return "\n".join(lines)


def print_audit(console: Console, run: AuditRun, diff: RunDiff | None = None,
                verbose: bool = False) -> None:
    groups = _group(sort_findings(run.findings), verbose)
    for severity in sorted(groups, reverse=True):
        console.rule(f"[bold]{severity.name}[/]", align="left")
        for (check_id, status), group in groups[severity].items():
            count = f" ({len(group)} resources)" if len(group) > 1 else ""
            label = "N/A" if status is Status.NOT_APPLICABLE else status.value
            console.print(f"[{STYLE[status]}]{label:<7}[/][bold]{check_id}[/]: "
                          f"{escape(group[0].title)}{count}")
            body = _describe(group)
            if len(group) == 1 and group[0].resource not in ("account", ""):
                body = f"[dim]{escape(group[0].resource)}[/]\n{body}"
            console.print(Padding(body, (0, 0, 1, 7)))
    counts = run.counts()
    summary = ", ".join(f"{counts[s.value]} {s.value}" for s in Status if counts[s.value])
    covers = run.coverage.note
    console.print(f"Account [bold]{escape(run.account_id)}[/]: readiness score "
                  f"[bold]{run.score:.0f}/100[/]{f' ({covers})' if covers else ''} ({summary})")
    if diff is not None and diff.previous_run_id is not None:
        console.print(f"Since run {diff.previous_run_id}: {diff.score_text}, "
                      f"{len(diff.new_failures)} new failure(s), {len(diff.fixed)} fixed")
        for f in diff.new_failures[:20]:
            console.print(f"  [red]new[/]   {f.check_id}  {escape(f.resource)}")
        for f in diff.fixed[:20]:
            console.print(f"  [green]fixed[/] {f.check_id}  {escape(f.resource)}")
    elif diff is not None:
        console.print("First audit of this account: nothing to compare with yet.")
