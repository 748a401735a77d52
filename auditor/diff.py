"""What changed since the previous audit of the same account: new failures and fixes,
matched by the finding's stable key (check id, region, resource)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.models import AuditRun, Finding, Status, evaluated_checks, readiness_score


@dataclass(frozen=True)
class RunDiff:
    previous_run_id: int | None
    previous_score: float | None
    new_failures: tuple[Finding, ...]
    fixed: tuple[Finding, ...]  # failing last time; evaluated now, and passing or gone
    # The score's change over the controls BOTH runs evaluated, in whole points as the
    # reports print scores: a check that broke in this run (ERROR) leaves the comparison,
    # so the score cannot rise because something broke.
    score_change: int | None = None  # None: no control was evaluated by both runs
    compared_controls: int = 0  # how many controls both runs evaluated
    narrowed: bool = False  # some control evaluated by one run only was left out

    @property
    def score_text(self) -> str:
        """How every output says it: "score +5", or "score +5 over the 12 controls both
        runs evaluated" when the comparison had to leave controls out."""
        if self.score_change is None:
            return "score not comparable (no control was evaluated by both runs)"
        text = f"score {self.score_change:+d}"
        if self.narrowed:
            text += (f" over the {self.compared_controls} control"
                     f"{'' if self.compared_controls == 1 else 's'} both runs evaluated")
        return text


def compare(previous: AuditRun | None, current: AuditRun) -> RunDiff:
    """Both directions need a run that looked: a failure is fixed only where this run
    looked again, and new only where the previous run had looked. A check left out of a
    run (--check, --skip), a read denied (ERROR), or a region left out (--regions) says
    nothing about its resources; a quick `--check` run between two weekly audits must
    not make every other failure "fixed", then "new" again."""
    if previous is None:
        return RunDiff(None, None, (), ())
    before = {f.key: f for f in previous.findings if f.status is Status.FAIL}
    now = {f.key: f for f in current.findings if f.status is Status.FAIL}
    looked_before, looked_now = _Coverage(previous), _Coverage(current)
    evaluated_before = evaluated_checks(previous.findings) & _selected(previous)
    evaluated_now = evaluated_checks(current.findings) & _selected(current)
    common = evaluated_before & evaluated_now
    return RunDiff(
        previous_run_id=previous.run_id,
        previous_score=previous.score,
        new_failures=tuple(f for key, f in now.items()
                           if key not in before and looked_before.covers(f)),
        fixed=tuple(f for key, f in before.items()
                    if key not in now and looked_now.covers(f)),
        score_change=score_change(readiness_score(current.findings, common),
                                  readiness_score(previous.findings, common)) if common else None,
        compared_controls=len(common),
        narrowed=common != evaluated_before | evaluated_now,
    )


def _selected(run: AuditRun) -> set[str]:
    return set(run.checks) or {f.check_id for f in run.findings}


class _Coverage:
    """What one run evaluated: its checks that reached a verdict, the findings it could
    not evaluate, and its regions."""

    def __init__(self, run: AuditRun) -> None:
        self.keys = {f.key for f in run.findings}
        self.errors = {f.key for f in run.findings if f.status is Status.ERROR}
        self.checks = {f.check_id for f in run.findings if f.status is not Status.ERROR}
        self.regions = set(run.regions)

    def covers(self, finding: Finding) -> bool:
        """Whether this run evaluated what `finding` (from the other run) is about."""
        if finding.key in self.errors or finding.check_id not in self.checks:
            return False
        return (finding.key in self.keys or finding.region == "global" or not self.regions
                or finding.region in self.regions)


def score_change(score: float, previous: float | None) -> int:
    """5, -1, 0: the difference of the two scores as reports print them (whole points),
    so that 79 next to a previous 74 reads +5, never the +6 of 79.4 - 73.6."""
    return int(f"{score:.0f}") - int(f"{previous or 0.0:.0f}")
