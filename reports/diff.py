"""What changed since the previous audit of the same account: new failures and fixes,
matched by the finding's stable key (check id, region, resource)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.models import AuditRun, Finding, Status


@dataclass(frozen=True)
class RunDiff:
    previous_run_id: int | None
    previous_score: float | None
    new_failures: tuple[Finding, ...]
    fixed: tuple[Finding, ...]  # failing last time; evaluated now, and passing or gone


def compare(previous: AuditRun | None, current: AuditRun) -> RunDiff:
    """A failure is fixed only where this run looked again: a check left out of this run
    (--check, --skip) or one whose read is now denied (ERROR) says nothing about it."""
    if previous is None:
        return RunDiff(None, None, (), ())
    before = {f.key: f for f in previous.findings if f.status is Status.FAIL}
    now = {f.key: f for f in current.findings if f.status is Status.FAIL}
    unknown = {f.key for f in current.findings if f.status is Status.ERROR}
    evaluated_checks = {f.check_id for f in current.findings if f.status is not Status.ERROR}
    seen = {f.key for f in current.findings}

    def looked_again(finding: Finding) -> bool:
        if finding.key in unknown or finding.check_id not in evaluated_checks:
            return False
        # gone from a region this run did not audit (--regions) is not gone
        return (finding.key in seen or finding.region == "global" or not current.regions
                or finding.region in current.regions)

    return RunDiff(
        previous_run_id=previous.run_id,
        previous_score=previous.score,
        new_failures=tuple(f for key, f in now.items() if key not in before),
        fixed=tuple(f for key, f in before.items() if key not in now and looked_again(f)),
    )


def score_change(score: float, previous: float | None) -> str:
    """"+5", "-1", "+0": the difference of the two scores as reports print them (whole
    points), so that 79 next to a previous 74 reads +5, never the +6 of 79.4 - 73.6."""
    return f"{int(f'{score:.0f}') - int(f'{previous or 0.0:.0f}'):+d}"
