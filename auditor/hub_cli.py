"""What `irready audit --security-hub` does around the audit, for one account and for
each account of `irready audit --org`: the home region checked before the audit, the
findings imported after it, and the problems said in one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from auditor.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from auditor.diff import RunDiff
    from auditor.models import AuditRun
    from auditor.session import AwsContext


def check_home_region(ctx: AwsContext, where: str) -> None:
    """Every account-wide finding goes to the home region: a typo there is a usage error
    before the audit, not an import that fails after it."""
    from auditor.awsfacts.account import refuse_unknown_regions
    from auditor.config import region_problem

    if region_problem(ctx.region):
        raise UsageError(f"{where}: {region_problem(ctx.region)}")
    refuse_unknown_regions(ctx, (ctx.region,), where)


def deliver_to_security_hub(ctx: AwsContext, run: AuditRun, diff: RunDiff | None,
                            code: ExitCode) -> ExitCode:
    """Import the run's findings (and archive the fixed ones) into Security Hub. A region
    that refused them is one `irready: error:` line each; the audit's own exit code
    stands, except that a clean audit (0) exits 4: its findings were not delivered."""
    from auditor.asff import asff_findings
    from auditor.securityhub import import_findings

    report = import_findings(ctx, run.account_id, asff_findings(run, diff, ctx.region))
    if report.imported or report.complete:
        typer.echo(report.summary(), err=True)
    for line in report.problems():
        typer.echo(f"irready: error: {line}", err=True)
    if not report.complete and code is ExitCode.OK:
        return ExitCode.INCOMPLETE
    return code
