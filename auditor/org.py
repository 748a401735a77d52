"""The organization audit: every account of an AWS Organization (or of one OU) audited
in one run. The management account (or a delegated administrator) lists the accounts;
the account irready runs in is audited with its own credentials, every other one
through a role assumed in it. Each account runs the ordinary single-account audit
(`perform_audit`) with its own session, fact cache and stored run; one account that
cannot be audited (role missing, denied, throttled out) is that account's ERROR, never
the run's. Suspended accounts are skipped with a note."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from auditor.clock import utcnow
from auditor.errors import AwsUnavailable, ExitCode, IrreadyError, UsageError
from auditor.models import AuditRun, Finding, Severity, Status

if TYPE_CHECKING:
    from auditor.awsfacts.cloudtrail import Trail
    from auditor.config import Config
    from auditor.diff import RunDiff
    from auditor.registry import Registry
    from auditor.session import AwsContext, Identity
    from auditor.store import HistoryStore

DEFAULT_ROLE = "irready-audit"
DEFAULT_PARALLEL = 8  # accounts at once; each account's audit reads with its own workers
MAX_PARALLEL = 64
SESSION_NAME = "irready-audit"
ACCOUNT_ID = re.compile(r"^\d{12}$")
PARENT_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$")
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
INTERRUPTED = "not audited: the run was interrupted (Ctrl-C)"


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


def _org_error(exc: Exception, call: str) -> IrreadyError:
    from auditor.session import error_code, is_access_denied

    code = error_code(exc)
    if code == "AWSOrganizationsNotInUseException":
        return AwsUnavailable("this account is not in an AWS Organization: audit it "
                              "without --org")
    if code == "ParentNotFoundException":
        return UsageError(f"--ou: {code}: no such OU in this organization")
    if is_access_denied(exc):
        return AwsUnavailable(f"{call} was denied ({code}): run --org from the management "
                              "account or a delegated administrator, with the permissions of "
                              "`irready policy audit --org`")
    if isinstance(exc, NotImplementedError):
        return AwsUnavailable(f"{call}: the endpoint does not support this call")
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", "") or str(exc)
    return AwsUnavailable(f"{call} failed ({code}): {message}".rstrip(": "))


def list_accounts(ctx: AwsContext, ou: str | None = None) -> list[OrgAccount]:
    """Every account of the organization, or of `ou` and the OUs nested under it."""
    client = ctx.client("organizations")
    call = "organizations:ListAccounts"
    try:
        if ou is None:
            pages = client.get_paginator("list_accounts").paginate()
            return [_account(item) for page in pages for item in page["Accounts"]]
        found: list[OrgAccount] = []
        parents = [ou]
        while parents:
            parent = parents.pop()
            call = "organizations:ListAccountsForParent"
            for page in client.get_paginator("list_accounts_for_parent").paginate(
                    ParentId=parent):
                found.extend(_account(item) for item in page["Accounts"])
            call = "organizations:ListOrganizationalUnitsForParent"
            for page in client.get_paginator("list_organizational_units_for_parent").paginate(
                    ParentId=parent):
                parents.extend(unit["Id"] for unit in page["OrganizationalUnits"])
        return found
    except Exception as exc:  # noqa: BLE001 - one line that says what to do
        raise _org_error(exc, call) from None


def _account(item: dict[str, Any]) -> OrgAccount:
    return OrgAccount(account_id=item["Id"], name=item.get("Name", ""),
                      status=item.get("Status", "ACTIVE"))


def select_accounts(found: Sequence[OrgAccount], scope: OrgScope) -> list[OrgAccount]:
    """The accounts the scope names, in the organization's order; a named id that is not
    an account of the organization (or of the OU) is a usage error: a typo in --exclude
    would otherwise audit the account meant to be left out."""
    known = {account.account_id for account in found}
    where = f"OU {scope.ou}" if scope.ou else "the organization"
    for option, ids in (("--accounts", scope.accounts), ("--exclude", scope.exclude)):
        for account_id in ids:
            if account_id not in known:
                raise UsageError(f"{option}: {account_id} is not an account of {where}")
    chosen = [a for a in found if (not scope.accounts or a.account_id in scope.accounts)
              and a.account_id not in scope.exclude]
    unique = {a.account_id: a for a in chosen}
    return sorted(unique.values(), key=lambda a: a.account_id)


def discover_accounts(ctx: AwsContext, scope: OrgScope) -> list[OrgAccount]:
    """The accounts the run covers, as the organization lists them now."""
    found = list_accounts(ctx, scope.ou)
    if not found:
        where = f"OU {scope.ou}" if scope.ou else "the organization"
        raise AwsUnavailable(f"{where} lists no account: is this account in an AWS "
                             "Organization (its management account or a delegated "
                             "administrator)?")
    chosen = select_accounts(found, scope)
    if not chosen:
        raise UsageError("--exclude leaves no account to audit")
    return chosen


def role_arn(identity: Identity, account_id: str, role: str) -> str:
    partition = identity.arn.split(":")[1] if identity.arn.startswith("arn:") else "aws"
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def assume(ctx: AwsContext, arn: str, external_id: str | None) -> AwsContext:
    """A context in the member account: the role's temporary credentials, kept only in
    memory, on the caller's session (region, endpoint, retries and loaded models)."""
    from auditor.session import Credentials

    params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": SESSION_NAME}
    if external_id is not None:
        params["ExternalId"] = external_id
    issued = ctx.client("sts").assume_role(**params)["Credentials"]
    return ctx.assumed(Credentials(access_key_id=issued["AccessKeyId"],
                                   secret_access_key=issued["SecretAccessKey"],
                                   session_token=issued["SessionToken"]))


def assume_problem(exc: Exception, arn: str) -> str:
    from auditor.session import error_code, is_access_denied

    code = error_code(exc)
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", "") or str(exc)
    if is_access_denied(exc):
        said = f" ({message})" if message else ""
        return (f"could not assume {arn} ({code}{said}): the role is missing, does not trust "
                "this account, or sts:AssumeRole is not granted; `irready policy audit "
                "--cloudformation` creates it")
    return f"could not assume {arn} ({code}): {message}".rstrip(": ")


OpenStore = Callable[[], "HistoryStore | None"]
AfterAudit = Callable[["AwsContext", AccountAudit], AccountAudit]


def organization_trails(ctx: AwsContext, config: Config, account_id: str
                        ) -> tuple[tuple[Trail, ...], tuple[str, ...]]:
    """The logging organization trails of the account irready runs in (the management
    account), read there once: each member's cloudtrail checks count them, and their
    bucket is checked only there. A read that fails leaves members to their own trails
    and says so in a note."""
    from dataclasses import replace

    from auditor.awsfacts.cloudtrail import TRAILS
    from auditor.facts import FactError, Facts

    try:
        trails = Facts(ctx, config, account_id=account_id).get(TRAILS)
    except FactError as exc:
        return (), (f"the organization trails of {account_id} could not be read "
                    f"({exc.describe()}): each account is judged by its own trails",)
    return tuple(replace(t, checked_in=account_id) for t in trails
                 if t.organization and t.logging), ()


def audit_organization(
    ctx: AwsContext,
    config: Config,
    registry: Registry,
    scope: OrgScope,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    open_store: OpenStore = lambda: None,
    save: bool = True,
    clock: Callable[[], datetime] = utcnow,
    after_audit: AfterAudit | None = None,
    debug: bool = False,
    accounts: Sequence[OrgAccount] | None = None,
    progress: Callable[[str], None] | None = None,
) -> OrgAudit:
    """List the accounts, then audit each (own credentials or the role) `scope.parallel`
    at a time. `open_store` gives each account's audit its own connection to the history
    store (SQLite serialises the writers); `after_audit` runs after each audited account
    with that account's context (the Security Hub import, from the account itself);
    `progress` hears of each account as it ends. Ctrl-C raises OrgInterrupted with the
    accounts audited so far, the others marked not audited."""
    check_scope(scope)
    started = clock()
    identity = ctx.identity()
    chosen = list(accounts) if accounts is not None else discover_accounts(ctx, scope)
    check_regions_once(ctx, config)
    first = open_store()  # a new store is created and migrated once, not by every thread
    if first is not None:
        first.close()
    org_trails, notes = organization_trails(ctx, config, identity.account_id)

    def one(account: OrgAccount) -> AccountAudit:
        result, member = _audit_account(ctx, identity, account, config, registry, scope,
                                        only, skip, open_store, save, clock, org_trails,
                                        debug)
        if after_audit is not None and member is not None:
            result = after_audit(member, result)
        return result

    pool = ThreadPoolExecutor(scope.parallel, thread_name_prefix="account")
    futures = {pool.submit(one, account): index for index, account in enumerate(chosen)}
    ended: dict[int, AccountAudit] = {}
    interrupted = False
    try:
        for future in as_completed(futures):
            ended[futures[future]] = item = future.result()
            if progress is not None:
                progress(f"{item.account_id} {item.state.value.lower()}")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # after Ctrl-C the accounts not started never start; those running end (each
        # stores its own run)
        pool.shutdown(wait=True, cancel_futures=True)
    if interrupted:
        ended.update(_ended_meanwhile(futures, ended))
    results = tuple(ended.get(index) or AccountAudit(account, AccountState.ERROR,
                                                     reason=INTERRUPTED)
                    for index, account in enumerate(chosen))
    if interrupted:
        left = sum(result.reason == INTERRUPTED for result in results)
        notes = (*notes, f"interrupted (Ctrl-C): {left} of {len(results)} accounts were not "
                 "audited")
    org = OrgAudit(management_account=identity.account_id, caller_arn=identity.arn,
                   started_at=started, finished_at=max(clock(), started), scope=scope,
                   accounts=results, notes=notes)
    if interrupted:
        raise OrgInterrupted(org)
    return org


class OrgInterrupted(KeyboardInterrupt):
    """Ctrl-C during an organization audit, with what it had audited: the caller stores
    and shows that (uncaught, it is an ordinary Ctrl-C)."""

    def __init__(self, org: OrgAudit) -> None:
        super().__init__("interrupted")
        self.org = org


def _ended_meanwhile(futures: dict[Future[AccountAudit], int], ended: dict[int, AccountAudit]
                     ) -> dict[int, AccountAudit]:
    """The accounts whose audit ended while the pool shut down after Ctrl-C."""
    found: dict[int, AccountAudit] = {}
    for future, index in futures.items():
        if index in ended or not future.done() or future.cancelled():
            continue
        if future.exception() is None:
            found[index] = future.result()
    return found


def check_regions_once(ctx: AwsContext, config: Config) -> None:
    """A region typo is a usage error before any account is audited, not one per account."""
    from auditor.audit import check_regions

    check_regions(ctx, config)


def _audit_account(
    ctx: AwsContext, identity: Identity, account: OrgAccount, config: Config,
    registry: Registry, scope: OrgScope, only: Sequence[str], skip: Sequence[str],
    open_store: OpenStore, save: bool, clock: Callable[[], datetime],
    org_trails: tuple[Trail, ...], debug: bool,
) -> tuple[AccountAudit, AwsContext | None]:
    from auditor.audit import RunNotStored, perform_audit

    if account.status != "ACTIVE":
        return AccountAudit(account, AccountState.SKIPPED,
                            reason=f"{account.status.lower()}: not audited"), None
    if account.account_id == identity.account_id:
        member, via = ctx, "own credentials"
    else:
        via = role_arn(identity, account.account_id, scope.role)
        try:
            member = assume(ctx, via, scope.external_id)
        except Exception as exc:  # noqa: BLE001 - the account's ERROR, not the run's
            return AccountAudit(account, AccountState.ERROR, reason=assume_problem(exc, via),
                                via=via), None
    store = None
    try:
        store = open_store()
        result = perform_audit(member, config, registry, only=only, skip=skip, history=store,
                               save=save, clock=clock, org_trails=org_trails,
                               debug=debug)
        return AccountAudit(account, AccountState.AUDITED, run=result.run, diff=result.diff,
                            via=via), member
    except RunNotStored as exc:
        return AccountAudit(account, AccountState.AUDITED, run=exc.result.run,
                            diff=exc.result.diff, reason=exc.message, via=via), member
    except IrreadyError as exc:
        return AccountAudit(account, AccountState.ERROR, reason=exc.message, via=via), None
    except Exception as exc:  # noqa: BLE001 - throttled out, endpoint gone: this account's
        return AccountAudit(account, AccountState.ERROR,
                            reason=f"{type(exc).__name__}: {exc}", via=via), None
    finally:
        if store is not None:
            store.close()


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
