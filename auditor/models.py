"""The values that flow through an audit: statuses, severities, what a check yields
(an Outcome), what the runner makes of it (a Finding) and a whole AuditRun. All are
frozen so that a report can never change what a check saw."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Protocol, runtime_checkable


class Status(StrEnum):
    """PASS and FAIL come from checks; ERROR, NOT_APPLICABLE and WAIVED also from the
    runner (a failed read, a check that does not apply, a matching waiver)."""

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    WAIVED = "WAIVED"


class Severity(IntEnum):
    """Ordered so that `max()` and `>=` mean "worse"."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


# A check is worth more the worse its failure would be: one critical gap outweighs
# several low ones in the readiness score.
SEVERITY_WEIGHT: Mapping[Severity, int] = {
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 4,
    Severity.CRITICAL: 8,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check yields about one resource; the runner adds the rest."""

    status: Status
    resource: str
    message: str
    region: str = "global"
    evidence: Mapping[str, str] = field(default_factory=dict)
    severity: Severity | None = None  # overrides the check's severity (e.g. per contact type)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact's data came from and when, told on every finding of a check that read
    it: `evidence` entries, and a `note` appended to the message when the data may be
    older than the audit (such as a credential report generated hours before)."""

    evidence: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


@runtime_checkable
class Dated(Protocol):
    """A fact's value that knows when its data was produced (the credential report)."""

    def provenance(self, now: datetime) -> Provenance: ...


@dataclass(frozen=True, slots=True)
class WaiverState:
    """The waiver that matched a finding: why it was accepted, the last day it applies,
    and whether it still did (`applies=False`: it had expired, and the finding kept its
    status). Typed, so a report reads the date instead of parsing it out of a sentence."""

    reason: str
    expires: date
    applies: bool = True

    @property
    def text(self) -> str:
        """How every output shows it: "reason (until 2026-06-30)"."""
        return f"{self.reason} (until {self.expires.isoformat()})"


def expired_waiver_note(expires: date) -> str:
    """What the runner appends to the message of a finding whose waiver has expired: the
    finding keeps its status (the waiver no longer applies), and says why it is back."""
    return f" (waiver expired on {expires.isoformat()})"


@dataclass(frozen=True, slots=True)
class Finding:
    check_id: str
    title: str
    status: Status
    severity: Severity
    account_id: str
    region: str
    resource: str
    message: str
    remediation: str
    references: tuple[str, ...] = ()
    evidence: Mapping[str, str] = field(default_factory=dict)
    waiver: WaiverState | None = None  # the waiver that matched, if any

    @property
    def waived_by(self) -> WaiverState | None:
        """The waiver that made this finding WAIVED (an expired one made nothing)."""
        return self.waiver if self.waiver is not None and self.waiver.applies else None

    @property
    def key(self) -> str:
        """Stable across runs, so history can say "new since last week"."""
        raw = f"{self.check_id}|{self.region}|{self.resource}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class AuditRun:
    account_id: str
    started_at: datetime
    finished_at: datetime
    findings: tuple[Finding, ...]
    regions: tuple[str, ...] = ()
    version: str = ""
    caller_arn: str = ""
    run_id: int | None = None
    # The check ids selected, and whether they were the whole catalogue: the score of
    # a hand-picked subset is not comparable with a full audit's, so the trend and the
    # scheduler's weekly slot use complete runs only.
    checks: tuple[str, ...] = ()
    complete: bool = True

    @property
    def score(self) -> float:
        return readiness_score(self.findings)

    @property
    def coverage(self) -> ScoreCoverage:
        return score_coverage(self.findings, self.checks)

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for finding in self.findings:
            counts[finding.status.value] += 1
        return counts

    def failed(self, at_least: Severity = Severity.LOW) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL and f.severity >= at_least]


# which status a check shows when its findings disagree: FAIL wins, then ERROR, then PASS
STATUS_PRECEDENCE: Mapping[Status, int] = {
    Status.FAIL: 5,
    Status.ERROR: 4,
    Status.PASS: 3,
    Status.WAIVED: 2,
    Status.NOT_APPLICABLE: 1,
}


def collapsed_status(statuses: Iterable[Status]) -> Status:
    """The one status of a check whose findings have these statuses."""
    return max(statuses, key=STATUS_PRECEDENCE.__getitem__)


def check_statuses(findings: Iterable[Finding]) -> dict[str, tuple[Status, Severity]]:
    """Collapse findings to one status per check (`collapsed_status`) and its worst
    severity."""
    result: dict[str, tuple[Status, Severity]] = {}
    for finding in findings:
        current = result.get(finding.check_id)
        if current is None:
            result[finding.check_id] = (finding.status, finding.severity)
            continue
        status = collapsed_status((current[0], finding.status))
        result[finding.check_id] = (status, max(current[1], finding.severity))
    return result


def readiness_score(findings: Iterable[Finding], only: Iterable[str] | None = None) -> float:
    """Percent of evaluated checks that pass, weighted by severity.

    A check counts once however many resources it saw (500 users without MFA are one
    gap, not 500); ERROR, NOT_APPLICABLE and fully WAIVED checks are left out, since
    nothing about readiness was learned from them. `only` limits the score to those
    check ids (the ones two runs both evaluated, to compare their scores)."""
    earned = possible = 0
    kept = None if only is None else set(only)
    for check_id, (status, severity) in check_statuses(findings).items():
        if kept is not None and check_id not in kept:
            continue
        if status not in (Status.PASS, Status.FAIL):
            continue
        weight = SEVERITY_WEIGHT[severity]
        possible += weight
        if status is Status.PASS:
            earned += weight
    if possible == 0:
        return 0.0
    return round(100.0 * earned / possible, 1)


def evaluated_checks(findings: Iterable[Finding]) -> frozenset[str]:
    """The checks that reached a verdict: every check but those whose findings collapse to
    ERROR (a check with one unreadable region is not evaluated as a whole)."""
    return frozenset(check_id for check_id, (status, _severity)
                     in check_statuses(findings).items() if status is not Status.ERROR)


@dataclass(frozen=True, slots=True)
class ScoreCoverage:
    """How many of the selected controls (checks) a score covers. A check that could not be
    evaluated leaves the score, so a score of 62 over 12 of 20 controls is not better
    than 43 over all 20: every output that shows a score says so with `note`."""

    evaluated: int
    selected: int

    @property
    def partial(self) -> bool:
        return self.evaluated < self.selected

    @property
    def note(self) -> str:
        """"" when every selected control was evaluated, else what the score leaves out."""
        if not self.partial:
            return ""
        missing = self.selected - self.evaluated
        return (f"covers {self.evaluated} of {self.selected} controls: {missing} could not "
                "be evaluated")


def score_coverage(findings: Iterable[Finding], selected: Iterable[str] = ()) -> ScoreCoverage:
    """`selected`: the run's check ids (empty for a run that did not record them: then the
    checks its findings name)."""
    statuses: dict[str, set[Status]] = {}
    for finding in findings:
        statuses.setdefault(finding.check_id, set()).add(finding.status)
    return coverage_of(statuses, selected)


def coverage_of(statuses: Mapping[str, Iterable[Status]], selected: Iterable[str] = ()
                ) -> ScoreCoverage:
    """The coverage of a run whose checks' findings had these statuses: a check is
    evaluated unless its status collapses to ERROR (the rule of `evaluated_checks`)."""
    chosen = set(selected) or set(statuses)
    evaluated = {check_id for check_id, seen in statuses.items()
                 if collapsed_status(seen) is not Status.ERROR}
    return ScoreCoverage(evaluated=len(evaluated & chosen), selected=len(chosen))
