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
    fixed: tuple[Finding, ...]  # failing last time, passing or gone now


def compare(previous: AuditRun | None, current: AuditRun) -> RunDiff:
    if previous is None:
        return RunDiff(None, None, (), ())
    before = {f.key: f for f in previous.findings if f.status is Status.FAIL}
    now = {f.key: f for f in current.findings if f.status is Status.FAIL}
    return RunDiff(
        previous_run_id=previous.run_id,
        previous_score=previous.score,
        new_failures=tuple(f for key, f in now.items() if key not in before),
        fixed=tuple(f for key, f in before.items() if key not in now),
    )


def score_change(score: float, previous: float | None) -> str:
    """"+5", "-1", "+0": the difference of the two scores as reports print them (whole
    points), so that 79 next to a previous 74 reads +5, never the +6 of 79.4 - 73.6."""
    return f"{int(f'{score:.0f}') - int(f'{previous or 0.0:.0f}'):+d}"
