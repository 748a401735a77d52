"""One audit of one account, start to finish: identify the caller, select checks, read
facts, run checks, store the run (and, for a complete run, its account snapshot),
compare with the previous run. The CLI, the demo and
the scheduler all call `perform_audit`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auditor.clock import utcnow
from auditor.diff import RunDiff, compare
from auditor.errors import ConfigError, ExitCode, StoreError, UsageError
from auditor.facts import Facts
from auditor.models import AuditRun, Severity, Status
from auditor.runner import Progress, run_audit
from auditor.snapshot import build_snapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from auditor.awsfacts.cloudtrail import Trail
    from auditor.config import Config
    from auditor.registry import Check, Registry
    from auditor.session import AwsContext
    from auditor.store import HistoryStore


@dataclass(frozen=True)
class AuditResult:
    run: AuditRun
    diff: RunDiff | None  # None when no history store was given: nothing to compare with


def perform_audit(
    ctx: AwsContext,
    config: Config,
    registry: Registry,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    history: HistoryStore | None = None,
    save: bool = True,
    debug: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
    org_trails: tuple[Trail, ...] = (),
) -> AuditResult:
    """`org_trails`: in an organization audit, the management account's logging
    organization trails, which log this account too."""
    checks = select_checks(registry, config, only=only, skip=skip)
    # --check foo.* naming every check of the catalogue is still a full audit
    complete = {c.id for c in checks} == {c.id for c in registry}
    identity = ctx.identity()
    check_regions(ctx, config)
    config = config.for_account(identity.account_id)  # its own inventory and waivers
    facts = Facts(ctx, config, history=history, account_id=identity.account_id,
                  org_trails=org_trails)
    run = run_audit(facts, checks, config, caller_arn=identity.arn, debug=debug,
                    progress=progress, clock=clock or utcnow, complete=complete)
    if history is None:
        return AuditResult(run=run, diff=None)
    try:
        previous = history.latest_run(identity.account_id)
        if save:
            run = replace(run, run_id=history.save_run(run))
    except StoreError as exc:
        what = "its run was not stored" if save else "it was not compared with stored runs"
        raise RunNotStored(f"the audit ran but {what}: {exc.message}",
                           AuditResult(run=run, diff=None)) from None
    diff = compare(previous, run)
    if save and run.complete and run.run_id is not None:
        # a partial run read part of the account: its snapshot would look complete
        try:
            history.save_snapshot(run.run_id, build_snapshot(facts, run.started_at))
        except StoreError as exc:
            raise RunNotStored(f"the audit was stored as run {run.run_id} but not what it "
                               f"learned about the account: {exc.message}",
                               AuditResult(run=run, diff=diff)) from None
    return AuditResult(run=run, diff=diff)


class RunNotStored(StoreError):
    """The audit ran but the history store failed it at the end: `result` still holds
    the run, so that its report is shown all the same."""

    def __init__(self, message: str, result: AuditResult) -> None:
        super().__init__(message)
        self.result = result


def check_regions(ctx: AwsContext, config: Config, where: str = "") -> None:
    """The audit's regions (audit.regions, or --regions when `where` says so) are all
    AWS regions: a typo is a usage error before anything is read or stored."""
    from auditor.awsfacts.account import refuse_unknown_regions

    if not where:
        where = f"{config.source}: audit.regions" if config.source else "audit.regions"
    refuse_unknown_regions(ctx, config.audit.regions, where)


def select_checks(registry: Registry, config: Config, *, only: Sequence[str] = (),
                  skip: Sequence[str] = ()) -> list[Check]:
    """The checks an audit runs: `only` (else audit.checks) less `skip` and audit.skip.
    A selection that leaves nothing is refused before anything is read or stored: an
    empty run would score 0 and read as a collapse of readiness."""
    checks = registry.select(only or config.audit.checks, (*skip, *config.audit.skip))
    if checks:
        return checks
    chosen = [f"--check {', '.join(only)}" if only else
              f"audit.checks = {list(config.audit.checks)}" if config.audit.checks else ""]
    chosen += [f"--skip {', '.join(skip)}" if skip else "",
               f"audit.skip = {list(config.audit.skip)}" if config.audit.skip else ""]
    message = f"no check left to run: {'; '.join(part for part in chosen if part)}"
    if not only and not skip:
        where = f"{config.source}: " if config.source else ""
        raise ConfigError(f"{where}{message}")
    raise UsageError(message)


def audit_exit_code(run: AuditRun, fail_on: Severity = Severity.LOW) -> ExitCode:
    """1 if a check failed at or above `fail_on`; else 4 if a check could not be
    evaluated; else 0. The single source of truth for the audit's exit status."""
    if run.failed(fail_on):
        return ExitCode.FAILED
    if any(f.status is Status.ERROR for f in run.findings):
        return ExitCode.INCOMPLETE
    return ExitCode.OK
