"""Findings grouped one row per check, the shape every human-facing report shares
(HTML, PDF, Markdown, JUnit): a check's overall status, how many resources it
affects, and the few worst of them. Large accounts produce thousands of findings for
one check; a report prints the counts and a handful of examples, and the full list
goes to CSV or JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditor.models import Finding, Severity, Status, check_statuses
from reports.json_report import sort_findings

STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WAIVED: 2, Status.PASS: 3,
                Status.NOT_APPLICABLE: 4}
STATUS_LABEL = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.ERROR: "ERROR",
                Status.NOT_APPLICABLE: "N/A", Status.WAIVED: "WAIVED"}


@dataclass(frozen=True)
class CheckGroup:
    check_id: str
    title: str
    status: Status  # collapsed: FAIL wins, then ERROR, then PASS
    severity: Severity  # the worst among its findings
    remediation: str
    references: tuple[str, ...]
    findings: tuple[Finding, ...]  # all of them, worst first
    shown: tuple[Finding, ...]  # the ones a summary prints

    @property
    def status_label(self) -> str:
        return STATUS_LABEL[self.status]

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status is Status.FAIL)

    @property
    def hidden(self) -> int:
        return len(self.findings) - len(self.shown)

    @property
    def cis(self) -> tuple[str, ...]:
        return tuple(r for r in self.references if r.startswith("CIS"))

    @property
    def security_hub(self) -> tuple[str, ...]:
        return tuple(r for r in self.references if not r.startswith("CIS"))

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status is status)


def group_by_check(findings: Iterable[Finding], shown_per_check: int | None = None
                   ) -> list[CheckGroup]:
    """Worst check first (status, then severity, then id); inside a check, its worst
    findings first. `shown_per_check=None` shows every finding."""
    ordered = sort_findings(list(findings))
    by_check: dict[str, list[Finding]] = {}
    for finding in ordered:
        by_check.setdefault(finding.check_id, []).append(finding)
    statuses = check_statuses(ordered)
    groups = []
    for check_id, members in by_check.items():
        status, severity = statuses[check_id]
        first = members[0]
        shown = members if shown_per_check is None else members[:shown_per_check]
        groups.append(CheckGroup(
            check_id=check_id, title=first.title, status=status, severity=severity,
            remediation=first.remediation, references=first.references,
            findings=tuple(members), shown=tuple(shown),
        ))
    groups.sort(key=lambda g: (STATUS_ORDER[g.status], -g.severity, g.check_id))
    return groups


def status_counts(groups: Sequence[CheckGroup]) -> dict[str, int]:
    """Checks (not findings) per status: what a summary line says."""
    counts = {status.value: 0 for status in Status}
    for group in groups:
        counts[group.status.value] += 1
    return counts
