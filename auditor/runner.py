"""Runs the selected checks against one account and turns what they yield into
Findings. Nothing a check does can stop the run: a failed read becomes an ERROR that
names the missing permission, a crash becomes an ERROR that names the exception, and
every other check still runs. `debug=True` re-raises instead, for developing checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.clock import utcnow
from auditor.facts import FactError, Facts
from auditor.models import (
    AuditRun,
    Dated,
    Finding,
    Outcome,
    Provenance,
    Status,
    WaiverState,
    expired_waiver_note,
)

if TYPE_CHECKING:
    from auditor.config import Config, Waiver
    from auditor.registry import Check

Progress = Callable[[str], None]


def _finding(check: Check, outcome: Outcome, account_id: str) -> Finding:
    return Finding(
        check_id=check.id,
        title=check.title,
        status=outcome.status,
        severity=outcome.severity or check.severity,
        account_id=account_id,
        region=outcome.region,
        resource=outcome.resource,
        message=outcome.message,
        remediation=check.remediation,
        references=check.references,
        evidence=dict(outcome.evidence),
    )


def _error(check: Check, account_id: str, message: str) -> Finding:
    return _finding(check, Outcome(Status.ERROR, "account", message), account_id)


def run_check(check: Check, facts: Facts, config: Config, *, debug: bool = False
              ) -> list[Finding]:
    account = facts.account_id
    for needed in check.requires:
        error = facts.error_of(needed)
        if error is not None:
            if debug:
                raise error
            return [_error(check, account, error.describe())]
    try:
        outcomes = list(check.run(facts, config))
    except FactError as exc:
        if debug:
            raise
        return [_error(check, account, exc.describe())]
    except Exception as exc:
        if debug:
            raise
        return [_error(check, account, f"check crashed: {type(exc).__name__}: {exc}")]
    if not outcomes:
        return [_error(check, account, "check crashed: it returned no result")]
    origins = _provenance(check, facts)
    told = [_told(outcome, origins) for outcome in outcomes]
    return [_finding(check, outcome, account) for outcome in told]


def _provenance(check: Check, facts: Facts) -> list[Provenance]:
    """What the facts the check read say about where their data came from and when."""
    return [value.provenance(facts.now) for value in (facts.get(need) for need in check.requires)
            if isinstance(value, Dated)]


def _told(outcome: Outcome, origins: list[Provenance]) -> Outcome:
    """The outcome with its facts' provenance: their evidence added (a check's own keys
    win) and, for a verdict (PASS, FAIL), their notes appended, so a FAIL fixed an hour
    ago that an old credential report still shows says why."""
    if not origins or outcome.status is Status.ERROR:
        return outcome
    evidence = {key: value for origin in origins for key, value in origin.evidence.items()}
    notes = "".join(origin.note for origin in origins)
    message = outcome.message
    if notes and outcome.status in (Status.PASS, Status.FAIL):
        message += notes
    return replace(outcome, message=message, evidence={**evidence, **outcome.evidence})


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: date
                  ) -> list[Finding]:
    """A FAIL matched by a live waiver becomes WAIVED; an expired one says so. Only a
    FAIL: a waiver accepts a known gap, and an ERROR is an unknown (a denied read, a
    crashed check, a region that does not answer), so even `resource = "*"` leaves it an
    ERROR that keeps the audit's exit code 4 and stays out of the score."""
    result = []
    for finding in findings:
        if finding.status is Status.FAIL:
            for waiver in waivers:
                if not waiver.matches(finding.check_id, finding.resource):
                    continue
                if waiver.expires >= today:
                    finding = replace(finding, status=Status.WAIVED,
                                      waiver=WaiverState(waiver.reason, waiver.expires))
                else:
                    finding = replace(
                        finding, message=finding.message + expired_waiver_note(waiver.expires),
                        waiver=WaiverState(waiver.reason, waiver.expires, applies=False))
                break
        result.append(finding)
    return result


def run_audit(
    facts: Facts,
    checks: Sequence[Check],
    config: Config,
    *,
    caller_arn: str = "",
    debug: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = utcnow,
    complete: bool = True,
) -> AuditRun:
    """`clock` stamps the run and is the checks' "now" (`facts.now`); the demo's replay
    of past weeks passes a simulated one. `complete` says whether `checks` are the whole
    catalogue (the caller knows it)."""
    started = clock()
    facts.now = started
    notify = progress or (lambda _name: None)
    notify("reading AWS")
    workers = max(1, config.audit.max_workers)
    findings: list[Finding] = []
    # The declared facts are read side by side while the checks already run, also side
    # by side: a check blocks only on the facts it needs, so the reads it makes itself
    # (each trail's bucket) start as soon as the trails are known, not after every
    # region of every service. Findings keep the order of `checks`.
    fact_pool = ThreadPoolExecutor(workers, thread_name_prefix="fact")
    check_pool = ThreadPoolExecutor(workers, thread_name_prefix="check")
    try:
        facts.prefetch_in(fact_pool, (need for check in checks for need in check.requires))
        pending = [check_pool.submit(run_check, check, facts, config, debug=debug)
                   for check in checks]
        for check, outcome in zip(checks, pending, strict=True):
            findings.extend(outcome.result())
            notify(check.id)
    finally:
        # after Ctrl-C or a --debug re-raise, what has not started yet never starts
        for pool in (check_pool, fact_pool):
            pool.shutdown(wait=True, cancel_futures=True)
    findings = apply_waivers(findings, config.waivers, started.date())
    regions: tuple[str, ...] = ()
    from auditor.awsfacts.account import REGIONS

    if REGIONS.name in facts.fetched() and facts.error_of(REGIONS) is None:
        regions = facts.get(REGIONS)
    return AuditRun(
        account_id=facts.account_id,
        started_at=started,
        finished_at=max(clock(), started),
        findings=tuple(findings),
        regions=regions,
        version=__version__,
        caller_arn=caller_arn,
        checks=tuple(check.id for check in checks),
        complete=complete,
    )
