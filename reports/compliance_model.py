"""What the compliance report holds, as the template reads it: the controls (one per
check of the catalogue, with what the last audit of the period found), the three
biggest risks, the answer to the four-hour question, the drills, the waivers and the
evidence. Frozen values; the builder (reports/compliance.py) fills them from the
history store and the check catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from markupsafe import Markup

from auditor.models import AuditRun, Finding, Severity, Status
from auditor.store import DetectDrillRecord, RunSummary
from reports.compliance_containments import ContainmentView
from reports.compliance_period import Period
from reports.drill_report import DrillView


@dataclass(frozen=True)
class FactUse:
    name: str
    permissions: tuple[str, ...]


class ControlStatus(StrEnum):
    """A control's state in the report: the status of its check in the last audit, or
    NOT_RUN where that audit did not run the check (a check new since, or a plugin)."""

    PASS = Status.PASS.value
    FAIL = Status.FAIL.value
    ERROR = Status.ERROR.value
    NOT_APPLICABLE = Status.NOT_APPLICABLE.value
    WAIVED = Status.WAIVED.value
    NOT_RUN = "NOT_RUN"


@dataclass(frozen=True)
class Control:
    check_id: str
    title: str
    status: ControlStatus
    status_label: str
    severity: Severity
    cis: tuple[str, ...]
    security_hub: tuple[str, ...]
    remediation: str
    failing_since: datetime | None
    affected: int  # resources failing (or in error)
    resources: int  # resources seen
    examples: tuple[Finding, ...]  # the worst few of the affected
    facts: tuple[FactUse, ...]
    risk: str  # what a failure means, in plain words

    @property
    def hidden(self) -> int:
        return self.affected - len(self.examples)


@dataclass(frozen=True)
class Risk:
    check_id: str
    title: str
    severity: Severity
    sentence: str
    affected: int
    failing_since: datetime | None


@dataclass(frozen=True)
class RotationAnswer:
    verdict: str  # "yes", "no", "unknown"
    headline: str
    explanation: str
    active_keys: int | None = None
    seconds_per_key: float | None = None
    total_seconds: float | None = None


@dataclass(frozen=True)
class WaiverRow:
    check_id: str
    reason: str
    expires: date
    state: str  # "active", "expires soon", "expired"
    resources: int
    example: str


@dataclass(frozen=True)
class EvidenceRow:
    check_id: str
    facts: tuple[FactUse, ...]
    read_from: datetime
    read_to: datetime
    recorded: tuple[tuple[str, str], ...]  # (resource, "key=value; ...")


@dataclass(frozen=True)
class ComplianceReport:
    account_id: str
    alias: str | None
    period: Period
    generated_at: datetime
    version: str
    notice: str | None
    runs: tuple[RunSummary, ...]  # oldest first
    latest: AuditRun | None
    trend_sentence: str
    trend_chart: Markup
    controls: tuple[Control, ...]
    risks: tuple[Risk, ...]
    rotation: RotationAnswer
    drills: tuple[DrillView, ...]  # oldest first
    drill_chart: Markup
    waivers: tuple[WaiverRow, ...]
    evidence: tuple[EvidenceRow, ...]
    csv_name: str | None  # the file beside the PDF with every finding, when needed
    check_counts: dict[str, int] = field(default_factory=dict)
    # audits of a hand-picked subset of checks in the period: their scores are not
    # comparable, so they are counted here and left out of everything else
    partial_runs: int = 0
    playbook: str = ""  # the executive summary's playbook line
    # "could we see what the attacker did?": the period's detection drills, oldest first
    detections: tuple[DetectDrillRecord, ...] = ()
    detection_answer: str = ""
    # "when a key did leak": the period's containments (`irready contain run`), oldest first
    containments: tuple[ContainmentView, ...] = ()
    containment_answer: str = ""

    @property
    def score(self) -> float | None:
        return self.latest.score if self.latest else None

    @property
    def truncated(self) -> bool:
        return any(control.hidden > 0 for control in self.controls)


@dataclass(frozen=True)
class KnownCheck:
    """What the installed check catalogue says about a check id."""

    title: str
    severity: Severity
    references: tuple[str, ...]
    remediation: str
    facts: tuple[FactUse, ...]


def catalogue() -> dict[str, KnownCheck]:
    from auditor.registry import discover

    return {
        check.id: KnownCheck(
            title=check.title, severity=check.severity, references=check.references,
            remediation=check.remediation,
            facts=tuple(FactUse(fact.name, tuple(fact.permissions))
                        for fact in check.requires))
        for check in discover()
    }
