"""The organization audit, run: the management account (or a delegated administrator)
lists the accounts; the account irready runs in is audited with its own credentials,
every other one through a role assumed in it. Each account runs the ordinary
single-account audit (`perform_audit`) with its own session, fact cache and stored run;
one account that cannot be audited (role missing, denied, throttled out) is that
account's ERROR, never the run's. Suspended accounts are skipped with a note."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.clock import utcnow
from auditor.errors import AwsUnavailable, IrreadyError, UsageError
from auditor.org import (
    AccountAudit,
    AccountState,
    OrgAccount,
    OrgAudit,
    OrgScope,
    check_scope,
)

if TYPE_CHECKING:
    from auditor.awsfacts.cloudtrail import Trail
    from auditor.config import Config
    from auditor.registry import Registry
    from auditor.session import AwsContext, Identity
    from auditor.store import HistoryStore

SESSION_NAME = "irready-audit"
INTERRUPTED = "not audited: the run was interrupted (Ctrl-C)"


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
