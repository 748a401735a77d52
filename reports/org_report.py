"""The organization audit's outputs: the JSON document (schema `irready.org-audit/1`,
reports/schemas/org-audit.schema.json) and the terminal roll-up (accounts by score, the
worst findings across the organization, the accounts that block the four-hour answer).
Both read the same figures from `auditor.org`; neither computes one of its own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from auditor.clock import iso
from auditor.org import AccountAudit, AccountState, OrgAudit, four_hours

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "irready.org-audit/1"
WORST = 10


def account_dict(item: AccountAudit) -> dict[str, Any]:
    run = item.run
    answer = four_hours(run) if run is not None else None
    return {
        "account_id": item.account_id,
        "name": item.account.name,
        "state": item.state.value,
        "via": item.via,
        "run_id": run.run_id if run is not None else None,
        "score": run.score if run is not None else None,
        "score_covers": ({"evaluated": run.coverage.evaluated,
                          "selected": run.coverage.selected} if run is not None else None),
        "summary": run.counts() if run is not None else None,
        "failed": len(run.failed()) if run is not None else None,
        "four_hours": ({"within": answer.within, "reason": answer.reason}
                       if answer is not None else None),
        "reason": item.reason or None,
    }


def org_dict(org: OrgAudit, version: str = "") -> dict[str, Any]:
    from auditor import __version__

    audited = org.audited
    return {
        "schema": SCHEMA,
        "tool": {"name": "irready", "version": version or __version__},
        "org_run_id": org.org_run_id,
        "management_account": org.management_account,
        "caller_arn": org.caller_arn,
        "started_at": iso(org.started_at),
        "finished_at": iso(org.finished_at),
        "scope": {"role": org.scope.role, "ou": org.scope.ou,
                  "accounts": list(org.scope.accounts), "exclude": list(org.scope.exclude)},
        # every account chosen was audited: a figure over fewer accounts says so
        "complete": not org.errors,
        "summary": {"accounts": len(org.accounts), "audited": len(audited),
                    "errors": len(org.errors), "skipped": len(org.skipped),
                    "blocking_four_hours": len(blocking(org))},
        "accounts": [account_dict(item) for item in org.by_score() + org.skipped],
        "worst_findings": [
            {"account_id": f.account_id, "check_id": f.check_id, "severity": f.severity.label,
             "region": f.region, "resource": f.resource, "message": f.message}
            for f in org.worst_findings(WORST)],
        "notes": list(org.notes),
    }


def blocking(org: OrgAudit) -> list[AccountAudit]:
    """The audited accounts that could not answer "every key rotated within 4 hours"."""
    return [a for a in org.audited if a.run is not None and four_hours(a.run).blocks]


def render_org_json(org: OrgAudit) -> bytes:
    return (json.dumps(org_dict(org), indent=2, sort_keys=True) + "\n").encode()


def print_org(console: Console, org: OrgAudit) -> None:
    from rich.table import Table

    from auditor.durations import format_duration

    took = format_duration((org.finished_at - org.started_at).total_seconds())
    console.print(f"[bold]Organization audit[/] from {org.management_account} "
                  f"({org.scope.description}, role {org.scope.role}): "
                  f"{len(org.audited)} of {len(org.accounts)} accounts audited in {took}")
    table = Table(title="Accounts by score (worst first)")
    for column in ("account", "name", "score", "failed", "errors", "4-hour answer", "run"):
        table.add_column(column)
    for item in org.by_score():
        run = item.run
        if run is None or item.state is not AccountState.AUDITED:
            table.add_row(item.account_id, item.account.name, "-", "-", "-", "-",
                          f"[red]ERROR[/] {item.reason}")
            continue
        answer = four_hours(run)
        mark = "yes" if answer.within else "[red]no[/]" if answer.within is False else "unknown"
        score = f"{run.score:.1f}" + ("*" if run.coverage.partial else "")
        table.add_row(item.account_id, item.account.name, score, str(len(run.failed())),
                      str(run.counts()["ERROR"]), f"{mark} ({answer.reason})",
                      str(run.run_id) if run.run_id is not None else "-")
    console.print(table)
    if any(a.run is not None and a.run.coverage.partial for a in org.audited):
        console.print("* the score covers only the checks that could be evaluated")
    worst = org.worst_findings(WORST)
    if worst:
        console.print("[bold]Worst findings across the organization[/]")
        for finding in worst:
            console.print(f"  {finding.severity.label.upper():8} {finding.account_id} "
                          f"{finding.check_id}: {finding.message}")
    blockers = blocking(org)
    if blockers:
        console.print(f"[bold]Accounts that block the 4-hour answer[/] ({len(blockers)}): "
                      + ", ".join(a.account_id for a in blockers))
    for item in org.skipped:
        console.print(f"skipped {item.account_id} ({item.account.name}): {item.reason}")
    for item in org.errors:
        console.print(f"[red]not audited[/] {item.account_id} ({item.account.name}): "
                      f"{item.reason}")
    for item in org.audited:
        if item.reason:  # audited, but its run could not be stored
            console.print(f"[red]not stored[/] {item.account_id}: {item.reason}")
    for note in org.notes:
        console.print(f"note: {note}")


def render_org(org: OrgAudit, terminal: bool) -> bytes:
    """The organization run as a file: its JSON document, or the roll-up as plain text."""
    if not terminal:
        return render_org_json(org)
    import io

    from rich.console import Console

    buffer = io.StringIO()
    print_org(Console(file=buffer, width=160, no_color=True, highlight=False), org)
    return buffer.getvalue().encode()
