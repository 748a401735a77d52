"""The organization audit's vocabulary and figures: what a run was asked to cover (its
scope, checked before anything is read), what it found per account (audited, ERROR
with the reason, or skipped), its exit code, each account's four-hour answer and the
organization's score. How the accounts are listed and audited is auditor.org_run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from auditor.errors import ExitCode, UsageError
from auditor.models import AuditRun, Finding, Severity, Status

if TYPE_CHECKING:
    from auditor.diff import RunDiff

DEFAULT_ROLE = "irready-audit"
DEFAULT_PARALLEL = 8  # accounts at once; each account's audit reads with its own workers
MAX_PARALLEL = 64
ACCOUNT_ID = re.compile(r"^\d{12}$")
PARENT_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$")
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")


class AccountState(StrEnum):
    """AUDITED: the account's audit ran (its findings say how it went); ERROR: it could
    not be audited at all (the reason says why); SKIPPED: not audited on purpose
    (suspended)."""

    AUDITED = "AUDITED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True, slots=True)
class OrgAccount:
    account_id: str
    name: str
    status: str = "ACTIVE"  # as Organizations says: ACTIVE, SUSPENDED, PENDING_CLOSURE


@dataclass(frozen=True, slots=True)
class OrgScope:
    """What the run was asked to cover, checked before anything is audited."""

    role: str = DEFAULT_ROLE
    external_id: str | None = None
    ou: str | None = None
    accounts: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    parallel: int = DEFAULT_PARALLEL

    @property
    def description(self) -> str:
        if self.ou:
            return f"OU {self.ou}"
        if self.accounts:
            return f"{len(self.accounts)} named accounts"
        return "organization"


@dataclass(frozen=True, slots=True)
class AccountAudit:
    """One account's part of the organization run: its run, or why there is none."""

    account: OrgAccount
    state: AccountState
    run: AuditRun | None = None
    diff: RunDiff | None = None
    reason: str = ""  # why ERROR or SKIPPED; for AUDITED, a problem after the run (store)
    via: str = ""  # "own credentials" or the role's ARN

    @property
    def account_id(self) -> str:
        return self.account.account_id


@dataclass(frozen=True, slots=True)
class OrgAudit:
    management_account: str
    caller_arn: str
    started_at: datetime
    finished_at: datetime
    scope: OrgScope
    accounts: tuple[AccountAudit, ...]
    org_run_id: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def audited(self) -> list[AccountAudit]:
        return [a for a in self.accounts if a.state is AccountState.AUDITED and a.run]

    @property
    def errors(self) -> list[AccountAudit]:
        return [a for a in self.accounts if a.state is AccountState.ERROR]

    @property
    def skipped(self) -> list[AccountAudit]:
        return [a for a in self.accounts if a.state is AccountState.SKIPPED]

    def by_score(self) -> list[AccountAudit]:
        """Audited accounts, worst score first, then those that could not be audited."""
        audited = sorted(self.audited, key=lambda a: (a.run.score if a.run else 0.0,
                                                       a.account_id))
        return audited + self.errors

    def worst_findings(self, limit: int = 10) -> list[Finding]:
        """The failures across the organization, most severe first."""
        failed = [f for a in self.audited if a.run for f in a.run.findings
                  if f.status is Status.FAIL]
        failed.sort(key=lambda f: (-f.severity, f.check_id, f.account_id, f.resource))
        return failed[:limit]


def org_exit_code(org: OrgAudit, fail_on: Severity = Severity.LOW) -> ExitCode:
    """The worst over the accounts: 3 when no account could be audited, 1 when a check
    failed at or above `fail_on` somewhere, 4 when an account or a check could not be
    evaluated, else 0."""
    from auditor.audit import audit_exit_code

    if not org.audited:
        return ExitCode.UNAVAILABLE
    codes = [audit_exit_code(a.run, fail_on) for a in org.audited if a.run]
    if ExitCode.FAILED in codes:
        return ExitCode.FAILED
    if org.errors or ExitCode.INCOMPLETE in codes:
        return ExitCode.INCOMPLETE
    return ExitCode.OK


def parse_account_ids(option: str, text: str | None) -> tuple[str, ...]:
    """`--accounts 111122223333,444455556666`: twelve digits each, at least one."""
    if text is None:
        return ()
    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise UsageError(f"{option}: no account id named")
    for account_id in ids:
        if not ACCOUNT_ID.match(account_id):
            raise UsageError(f"{option}: {account_id!r} is not an AWS account id "
                             "(twelve digits)")
    return ids


def check_scope(scope: OrgScope) -> None:
    """Everything about the scope that can be wrong without asking AWS."""
    if scope.ou and scope.accounts:
        raise UsageError("--ou and --accounts both choose the accounts: pass one of them")
    if scope.ou is not None and not PARENT_ID.match(scope.ou):
        raise UsageError(f"--ou: {scope.ou!r} is not an OU id (like ou-ab12-cd34ef56) or a "
                         "root id (like r-ab12)")
    if not ROLE_NAME.match(scope.role):
        raise UsageError(f"--org-role: {scope.role!r} is not an IAM role name")
    if scope.external_id is not None and not EXTERNAL_ID.match(scope.external_id):
        raise UsageError("--external-id: 2 to 1224 characters of letters, digits and "
                         "+=,.@:/-_")
    if not 1 <= scope.parallel <= MAX_PARALLEL:
        raise UsageError(f"--parallel: {scope.parallel} is not between 1 and {MAX_PARALLEL}")
    both = sorted(set(scope.accounts) & set(scope.exclude))
    if both:
        raise UsageError(f"--exclude: {both[0]} is also in --accounts")


@dataclass(frozen=True, slots=True)
class FourHours:
    """Could this account rotate every key within four hours, by what its run recorded:
    the active keys iam.key_inventory counted times the rotation time of the drill that
    drill.recent read. `within` is None when the run did not record both."""

    within: bool | None
    reason: str

    @property
    def blocks(self) -> bool:
        return self.within is not True


def four_hours(run: AuditRun) -> FourHours:
    from auditor.durations import format_duration
    from auditor.estimate import INCIDENT_WINDOW_SECONDS, active_keys

    keys = active_keys(run)
    if keys == 0:
        return FourHours(True, "no active access key to rotate")
    minutes = next((f.evidence.get("rotation_minutes") for f in run.findings
                    if f.check_id == "drill.recent" and f.evidence.get("rotation_minutes")),
                   None)
    if keys is None:
        return FourHours(None, "the audit did not count the active keys")
    if minutes is None:
        return FourHours(None, f"{keys} active keys, and no drill measured a rotation")
    total = keys * float(minutes) * 60
    within = total <= INCIDENT_WINDOW_SECONDS
    return FourHours(within, f"{keys} keys x {float(minutes):.1f} min = {format_duration(total)}")


@dataclass(frozen=True, slots=True)
class OrgScore:
    """The organization's readiness score: the mean of the audited accounts' own scores.
    An account that could not be audited has no score and is left out of the mean, never
    counted as passing, so the score always says how many accounts it covers: a figure
    must not look better because an account broke."""

    score: float | None  # None when no account could be audited
    covered: int  # accounts audited, whose scores make the mean
    accounts: int  # every account the run chose, skipped ones included
    not_audited: int
    skipped: int
    partial: int  # audited accounts whose own score leaves out controls it could not evaluate
    lowest: AccountAudit | None

    @property
    def coverage(self) -> str:
        """"covers 3 of 6 accounts (2 could not be audited, 1 skipped)"."""
        left = [f"{count} {what}" for count, what in ((self.not_audited, "could not be audited"),
                                                      (self.skipped, "skipped")) if count]
        why = f" ({', '.join(left)})" if left else ""
        return f"covers {self.covered} of {self.accounts} accounts{why}"


def org_score(org: OrgAudit) -> OrgScore:
    """Every renderer of an organization run reads its score here."""
    audited = [a for a in org.audited if a.run is not None]
    scores = [a.run.score for a in audited if a.run is not None]
    lowest = min(audited, key=lambda a: (a.run.score if a.run else 0.0, a.account_id),
                 default=None)
    return OrgScore(
        score=round(sum(scores) / len(scores), 1) if scores else None,
        covered=len(audited), accounts=len(org.accounts), not_audited=len(org.errors),
        skipped=len(org.skipped),
        partial=sum(1 for a in audited if a.run is not None and a.run.coverage.partial),
        lowest=lowest)
