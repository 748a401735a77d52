"""The organization edition of the compliance report: one stored organization run
(`irready audit --org`) as management reads it. A cover, one page of accounts (each
account's score, failures by severity and run, or why it could not be audited), the
accounts that block the four-hour answer, the worst findings across the organization,
then the usual controls for the organization as a whole: per check how many accounts
fail, pass or could not evaluate it, with its references and remediation.

The figures are those of the organization run's JSON (reports/org_report.py) and of
`auditor.org`: the score, the four-hour answer per account and the blocking accounts are
read there, never computed again here. An account that could not be audited has no score
and is never counted as passing; the organization score says how many accounts it
covers. The per-check controls reuse the single-account report's building blocks
(reports/compliance.py); reports/compliance_pdf.py renders the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auditor import __version__
from auditor.models import AuditRun, Finding, Severity, Status, check_statuses, collapsed_status
from auditor.org import (
    AccountAudit,
    AccountState,
    FourHours,
    OrgAudit,
    OrgScore,
    four_hours,
    org_score,
)
from reports.compliance import biggest_risks, control_of, not_run_control
from reports.compliance_model import Control, ControlStatus, KnownCheck, Risk, catalogue
from reports.org_report import WORST, blocking
from reports.plain_words import risk_sentence
from reports.summary import STATUS_LABEL, STATUS_ORDER, group_by_check

SHOWN_PER_CHECK = 5
# the severities a failure count is split by, worst first, as the accounts table prints them
SEVERITIES = tuple(sorted(Severity, reverse=True))


@dataclass(frozen=True)
class AccountRow:
    """One line of the accounts page. Only an AUDITED account has a score and counts;
    the others carry the reason instead."""

    account_id: str
    name: str
    state: AccountState
    run_id: int | None
    score: float | None
    score_partial: bool  # the account's score leaves out controls it could not evaluate
    failures: tuple[int, ...]  # FAIL findings per severity of SEVERITIES
    failed: int
    not_evaluated: int  # ERROR findings
    four_hours: FourHours | None
    reason: str  # why not audited or skipped; for an audited account, a problem storing it

    @property
    def audited(self) -> bool:
        return self.state is AccountState.AUDITED and self.score is not None


@dataclass(frozen=True)
class OrgControl:
    """A check across the organization: `control` is the check as the organization as a
    whole stands (FAIL when any account fails it; affected resources summed; the worst
    examples over the accounts), and the accounts in each state beside it."""

    control: Control
    failing: tuple[str, ...]  # account ids
    errors: tuple[str, ...]  # accounts where it could not be evaluated
    passing: int
    waived: int
    not_applicable: int
    not_run: int  # audited accounts whose audit did not select it


@dataclass(frozen=True)
class OrgRotation:
    """"Could we rotate every key within four hours?" for every account at once: yes only
    when every account that should be audited was, and each says yes."""

    verdict: str  # "yes", "no", "unknown"
    headline: str
    explanation: str
    blocking: tuple[AccountRow, ...]  # audited accounts that cannot say yes
    not_audited: tuple[AccountRow, ...]  # accounts with no run to answer from


@dataclass(frozen=True)
class OrgComplianceReport:
    org: OrgAudit
    generated_at: datetime
    version: str
    notice: str | None
    score: OrgScore
    accounts: tuple[AccountRow, ...]  # worst score first, then not audited, then skipped
    rotation: OrgRotation
    risks: tuple[Risk, ...]
    worst: tuple[Finding, ...]
    controls: tuple[OrgControl, ...]  # worst first; checks no account ran last
    check_counts: dict[str, int] = field(default_factory=dict)  # controls per status

    @property
    def audited(self) -> tuple[AccountRow, ...]:
        return tuple(row for row in self.accounts if row.audited)

    @property
    def not_audited(self) -> tuple[AccountRow, ...]:
        return tuple(row for row in self.accounts if row.state is AccountState.ERROR)

    @property
    def skipped(self) -> tuple[AccountRow, ...]:
        return tuple(row for row in self.accounts if row.state is AccountState.SKIPPED)

    @property
    def truncated(self) -> bool:
        return any(item.control.hidden > 0 for item in self.controls)


def account_row(item: AccountAudit) -> AccountRow:
    run = item.run
    if run is None or item.state is not AccountState.AUDITED:
        return AccountRow(item.account_id, item.account.name, item.state, None, None, False,
                          (), 0, 0, None, item.reason)
    failed = run.failed()
    return AccountRow(
        account_id=item.account_id, name=item.account.name, state=item.state,
        run_id=run.run_id, score=run.score, score_partial=run.coverage.partial,
        failures=tuple(sum(1 for f in failed if f.severity is severity)
                       for severity in SEVERITIES),
        failed=len(failed), not_evaluated=run.counts()[Status.ERROR.value],
        four_hours=four_hours(run), reason=item.reason)


def org_rotation(org: OrgAudit, rows: Sequence[AccountRow]) -> OrgRotation:
    """The four-hour answer of each account (auditor.org.four_hours), added up: an account
    that could not be audited makes the answer unknown, never yes."""
    by_id = {row.account_id: row for row in rows}
    blockers = tuple(by_id[a.account_id] for a in blocking(org))
    missing = tuple(row for row in rows if row.state is AccountState.ERROR)
    audited = [row for row in rows if row.audited]
    beyond = [row for row in blockers if row.four_hours and row.four_hours.within is False]
    unknown = len(blockers) - len(beyond)
    parts = []
    if beyond:
        parts.append(f"{len(beyond)} of the {len(audited)} audited accounts would take longer "
                     "than four hours")
    if unknown:
        parts.append(f"{unknown} audited account(s) cannot say (no drill measured a rotation, "
                     "or the active keys were not counted)")
    if missing:
        parts.append(f"{len(missing)} account(s) could not be audited, so their keys are not "
                     "counted")
    if not audited:
        return OrgRotation("unknown", "We cannot say.", "No account could be audited.",
                           blockers, missing)
    if beyond:
        verdict, headline = "no", "No."
    elif parts:
        verdict, headline = "unknown", "We cannot say yet."
    else:
        return OrgRotation("yes", "Yes.", f"Each of the {len(audited)} audited accounts can "
                           "rotate every key within four hours, by its own measure.", (), ())
    return OrgRotation(verdict, headline, "; ".join(parts) + ".", blockers, missing)


def _org_control(check_id: str, per_account: Sequence[tuple[str, Control]],
                 known: KnownCheck | None, not_run: int, shown: int) -> OrgControl:
    """The accounts' controls of one check (worst account first) as one."""
    first = per_account[0][1]
    status = collapsed_status(Status(c.status.value) for _, c in per_account)
    affected = sum(c.affected for _, c in per_account)
    examples = tuple(f for _, c in per_account for f in c.examples)[:shown]
    title = known.title if known else first.title
    control = Control(
        check_id=check_id, title=title, status=ControlStatus(status.value),
        status_label=STATUS_LABEL[status], severity=max(c.severity for _, c in per_account),
        cis=first.cis, security_hub=first.security_hub, remediation=first.remediation,
        failing_since=None, affected=affected,
        resources=sum(c.resources for _, c in per_account), examples=examples,
        facts=first.facts, risk=risk_sentence(check_id, title, affected))

    def having(wanted: ControlStatus) -> tuple[str, ...]:
        return tuple(account for account, c in per_account if c.status is wanted)

    return OrgControl(
        control=control, failing=having(ControlStatus.FAIL), errors=having(ControlStatus.ERROR),
        passing=len(having(ControlStatus.PASS)), waived=len(having(ControlStatus.WAIVED)),
        not_applicable=len(having(ControlStatus.NOT_APPLICABLE)), not_run=not_run)


def org_controls(runs: Sequence[AuditRun], shown: int = SHOWN_PER_CHECK
                 ) -> tuple[OrgControl, ...]:
    """Every check of the catalogue (and any other a run holds) across the audited
    accounts' runs, given worst account first: worst status first, then severity, then
    the accounts failing it; the checks no account ran last."""
    known = catalogue()
    per_check: dict[str, list[tuple[str, Control]]] = {}
    for run in runs:
        for group in group_by_check(run.findings):
            per_check.setdefault(group.check_id, []).append(
                (run.account_id, control_of(group, None, known.get(group.check_id), shown)))
    ran = [_org_control(check_id, controls, known.get(check_id),
                        sum(1 for run in runs if check_id not in check_statuses(run.findings)),
                        shown)
           for check_id, controls in per_check.items()]
    ran.sort(key=lambda c: (STATUS_ORDER[Status(c.control.status.value)],
                            -c.control.severity, -len(c.failing), c.control.check_id))
    never = [OrgControl(not_run_control(check_id, check), (), (), 0, 0, 0, len(runs))
             for check_id, check in sorted(known.items()) if check_id not in per_check]
    return tuple(ran + never)


def build_org_compliance(org: OrgAudit, *, generated_at: datetime, notice: str | None = None,
                         shown_per_check: int = SHOWN_PER_CHECK) -> OrgComplianceReport:
    """The organization edition's model, from the organization run alone."""
    rows = tuple(account_row(item) for item in org.by_score() + org.skipped)
    runs = [a.run for a in org.by_score() if a.run is not None
            and a.state is AccountState.AUDITED]
    controls = org_controls(runs, shown_per_check)
    check_counts = {status.value: 0 for status in ControlStatus}
    for item in controls:
        check_counts[item.control.status] += 1
    return OrgComplianceReport(
        org=org, generated_at=generated_at.astimezone(UTC), version=__version__,
        notice=notice, score=org_score(org), accounts=rows, rotation=org_rotation(org, rows),
        risks=biggest_risks([item.control for item in controls]),
        worst=tuple(org.worst_findings(WORST)), controls=controls,
        check_counts=check_counts)
