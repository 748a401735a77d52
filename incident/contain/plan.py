"""The containment's read-only preflight and its plan: whose key it is (this account, an
IAM user; a root key is a P1 and refused), the investigation that says what the key minted
(the stored one when under an hour old, else a new one), the room a new key needs (a
second key the attacker made is deactivated first), and the target the new key goes to.
Everything that can refuse a containment is checked here, before anything changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from auditor.errors import IrreadyError, NotFound, UsageError
from drills.engine.aws import AWS_ERRORS, describe_error
from incident.contain.model import (
    LONGEST_SESSION_HOURS,
    P1_ROOT,
    QUARANTINE_POLICIES,
    REVOKE_POLICY,
    ActionName,
    ContainOptions,
    ContainPlan,
    PlannedAction,
)
from incident.investigate.keyids import checked_key_id, is_session_key

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore
    from incident.investigate.model import Investigation

ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
FRESH = timedelta(hours=1)  # a stored investigation younger than this is used as it is
Clock = Callable[[], datetime]


def check_options(options: ContainOptions) -> None:
    """Bad input, refused before any call to AWS."""
    key_id = checked_key_id(options.key_id)
    if is_session_key(key_id):
        raise UsageError(f"{key_id} is a session key: it cannot be deactivated and expires "
                         "on its own; contain the long-term key that minted it (`irready "
                         "investigate` names it)")
    for other in options.deactivate_first:
        if checked_key_id(other) == key_id:
            raise UsageError(f"--deactivate-first {other}: that is the exposed key itself; "
                             "name the user's other key")
    for role in options.revoke_roles:
        name = role_name(role)
        if not ROLE_NAME.fullmatch(name):
            raise UsageError(f"--revoke-roles {role!r} is not a role name or role ARN")
        if name.startswith("AWSReservedSSO_"):
            raise UsageError(
                f"--revoke-roles {name}: an IAM Identity Center role, which IAM does not let "
                "irready change; revoke its sessions in IAM Identity Center (in the "
                "organization's management account: remove the user's assignment or "
                "disable the user there)")
    if options.contain_follow_ups and not options.investigate:
        raise UsageError("--contain-follow-ups acts on what the investigation found: it "
                         "cannot go with --no-investigate")
    if options.block_now and options.target:
        raise UsageError("--block-now and --target: choose one (--block-now deactivates "
                         "without rotating, so there is no target to publish to)")


def drill_config(config: Config, user: str) -> Config:
    """The drill engine refuses users not listed for drills (a guard against drilling a
    production user by mistake); a containment names its user from the key itself."""
    return replace(config, drill=replace(config.drill, users=(*config.drill.users, user)))


def make_plan(ctx: AwsContext, config: Config, store: HistoryStore, options: ContainOptions,
              *, clock: Clock) -> ContainPlan:
    check_options(options)
    from incident.investigate.model import OwnerType
    from incident.investigate.owner import look_up_owner

    key_id = options.key_id
    identity = ctx.identity()
    lookup = look_up_owner(ctx, key_id, identity.account_id)
    owner = lookup.owner
    if owner is not None and owner.type is OwnerType.ROOT:
        raise UsageError(f"{key_id} is {P1_ROOT}")
    if owner is None or not owner.user:
        why = "; ".join(lookup.notes) or "IAM did not answer"
        raise NotFound(f"IAM names no user for {key_id} ({why}). If it is {P1_ROOT}")
    user = owner.user
    iam = ctx.client("iam")
    try:
        listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    except AWS_ERRORS as exc:
        raise UsageError(f"iam:ListAccessKeys on {user} failed ({describe_error(exc)}): "
                         "containment needs the policy `irready policy contain` prints") from None
    keys = {str(k["AccessKeyId"]): str(k["Status"]) for k in listed}
    if keys.get(key_id) != "Active":
        raise UsageError(f"{key_id} of {user} is already inactive: nothing to contain "
                         "(`irready investigate` says what it did)")
    notes: list[str] = []
    investigation = find_investigation(ctx, store, options, clock=clock, notes=notes)
    backdoors = minted_keys(investigation, user)
    actions: list[PlannedAction] = []
    unknown: list[str] = []
    first: list[str] = []
    for other, status in keys.items():
        if other == key_id:
            continue
        named = other in options.deactivate_first
        if other in backdoors or named:
            first.append(other)
            why = "named by --deactivate-first" if named else \
                "created with the exposed key (the investigation)"
            then = "; the rotation then deletes it to make room (IAM allows two keys)" \
                if not options.block_now else ""
            actions.append(PlannedAction(
                ActionName.DEACTIVATE_BACKDOOR, f"deactivate {other} ({why}){then}",
                f"iam:UpdateAccessKey {other} Inactive"
                + ("; iam:DeleteAccessKey (drill preflight)" if not options.block_now else ""),
                "none: a key the attacker made is not brought back", other))
        elif options.block_now:
            notes.append(f"{user}'s other key {other} ({status}) is left as it is")
        else:
            unknown.append(f"{other} ({status.lower()})")
    for wanted in options.deactivate_first:
        if wanted not in keys:
            raise UsageError(f"--deactivate-first {wanted}: not a key of {user} "
                             f"(its keys: {', '.join(sorted(keys))})")
    if unknown:
        raise UsageError(
            f"{user} has two keys of unknown origin: {key_id} (exposed) and "
            f"{', '.join(unknown)}; the new key needs room: if {unknown[0].split()[0]} is "
            f"not the application's, pass --deactivate-first {unknown[0].split()[0]}, else "
            "pass --block-now")
    target = ""
    if not options.block_now:
        target = options.target or _inventory_target(config, user)
        _check_target(ctx, config, target, key_id, user)
        actions.append(PlannedAction(
            ActionName.ROTATE,
            f"rotate before block through the drill engine: create a key for {user}, "
            f"publish it to {target}, verify it works, then deactivate {key_id} and verify "
            "AWS refuses it (never deleted: the investigation needs it)",
            "iam:CreateAccessKey; the target's write; sts:GetCallerIdentity; "
            f"iam:UpdateAccessKey {key_id} Inactive",
            "before the exposed key is deactivated: the drill's rollback (the target gets "
            f"{key_id} back, the new key is deleted); after: `contain undo` reactivates "
            f"{key_id}", key_id))
    else:
        application = _application(config, user)
        notes.append(f"--block-now: whatever uses {key_id} stops working now"
                     + (f" ({application})" if application else "")
                     + "; create and ship a new key as soon as the owner is found")
        actions.append(PlannedAction(
            ActionName.BLOCK, f"deactivate {key_id} without rotating (never deleted)",
            f"iam:UpdateAccessKey {key_id} Inactive",
            f"`contain undo` reactivates {key_id}", key_id))
    verify = PlannedAction(
        ActionName.VERIFY_BLOCKED, f"verify {key_id} is inactive, retried while IAM "
        "propagates (with the target's secret, the rotation proves AWS refuses it)",
        "iam:ListAccessKeys", "none: it changes nothing", key_id)
    actions.append(verify)
    if options.revoke_sessions:
        actions.append(PlannedAction(
            ActionName.REVOKE_SESSIONS,
            f"deny on {user} to every credential issued before the moment it runs (the "
            "GetSessionToken and GetFederationToken sessions the key minted, valid up to "
            f"{LONGEST_SESSION_HOURS} h); long-term keys, the new one included, are not "
            "affected",
            f"iam:PutUserPolicy {user} {REVOKE_POLICY} (aws:TokenIssueTime DateLessThan now)",
            f"`contain undo`, or `contain release` after {LONGEST_SESSION_HOURS} h "
            "(iam:DeleteUserPolicy)", user))
    for role in options.revoke_roles:
        name = _checked_role(iam, role, identity.account_id)
        actions.append(PlannedAction(
            ActionName.REVOKE_ROLE,
            f"deny on role {name} to every session issued before the moment it runs (every "
            "earlier session of the role, not only the attacker's)",
            f"iam:PutRolePolicy {name} {REVOKE_POLICY} (aws:TokenIssueTime DateLessThan now)",
            f"`contain undo`, or `contain release` after {LONGEST_SESSION_HOURS} h "
            "(iam:DeleteRolePolicy)", name))
    if options.quarantine:
        actions.append(_quarantine_action(iam, identity.arn, user, notes))
    if options.contain_follow_ups:
        actions.extend(_follow_up_actions(investigation, {key_id, *first}, notes))
    chosen = {role_name(r) for r in options.revoke_roles}
    notes.extend(f"the key's sessions assumed role {assumed}: --revoke-roles {assumed} cuts "
                 "off its sessions (every earlier one of the role)"
                 for assumed in assumed_roles(investigation) if assumed not in chosen)
    return ContainPlan(
        account_id=identity.account_id, caller_arn=identity.arn, key_id=key_id, user=user,
        user_arn=owner.arn, target=target,
        investigation_id=investigation.investigation_id if investigation else "",
        actions=tuple(actions), notes=tuple(notes), backdoor_keys=tuple(first))


def _inventory_target(config: Config, user: str) -> str:
    entry = config.inventory_for(user)
    if entry is None or not entry.rotation_target:
        raise UsageError(
            f"no rotation target for {user}: add an [[inventory]] entry with user = "
            f"\"{user}\" and rotation_target = \"TYPE:VALUE\" to the config, or pass "
            "--target TYPE:VALUE; --block-now deactivates the key without rotating (what "
            "uses it breaks)")
    return entry.rotation_target


def _application(config: Config, user: str) -> str:
    entry = config.inventory_for(user)
    return entry.application if entry is not None else ""


def _check_target(ctx: AwsContext, config: Config, spec: str, key_id: str, user: str) -> None:
    """The target must hold the exposed key: rotating another key leaves the leak open."""
    from auditor.redact import Redactor
    from drills.errors import TargetError
    from drills.targets import TargetEnv, parse_target

    redactor = Redactor()
    target = parse_target(spec, TargetEnv(ctx, config.drill.secret_id_field,
                                          config.drill.secret_key_field,
                                          float(config.drill.command_timeout_seconds),
                                          redactor))
    try:
        held = target.read()
    except TargetError:
        raise
    except AWS_ERRORS as exc:
        raise UsageError(f"reading {spec} failed ({describe_error(exc)})") from None
    redactor.add(held.secret)
    if held.key_id != key_id:
        raise UsageError(f"{spec} holds {held.key_id}, not the exposed key {key_id}: the "
                         f"application does not use {key_id}; pass --block-now to deactivate "
                         "it without rotating, or name the target that holds it")


def find_investigation(ctx: AwsContext, store: HistoryStore, options: ContainOptions, *,
                       clock: Clock, notes: list[str]) -> Investigation | None:
    """The stored investigation of the key when under an hour old, else a new one (kept
    in the store). One that cannot run is said, not fatal: containment comes first."""
    if not options.investigate:
        notes.append("--no-investigate: keys the attacker made are not known; only keys "
                     "named by --deactivate-first are deactivated")
        return None
    from incident.investigate.jsonform import from_document

    now = clock()
    document = store.latest_investigation(options.key_id, now - FRESH)
    if document is not None:
        found: Investigation = from_document(json.loads(document))
        notes.append(f"used investigation {found.investigation_id} (under an hour old)")
        return found
    from incident.investigate.run import Request, run_investigation
    from incident.investigate.source_spec import parse_sources
    from incident.investigate.stored import store_investigation
    from incident.investigate.window import make_window

    try:
        result = run_investigation(
            Request(options.key_id, make_window(now, since=None, start=None, end=None,
                                                baseline="14d"), parse_sources(None)),
            context=lambda: ctx, snapshot_of=lambda account: _snapshot(store, account),
            clock=clock)
    except IrreadyError as exc:
        notes.append(f"no investigation could run ({exc.message}): keys the attacker made "
                     "are not known")
        return None
    store_investigation(store, result)
    notes.append(f"ran investigation {result.investigation_id}")
    return result


def _snapshot(store: HistoryStore, account: str) -> Any:
    latest = store.latest_snapshot(account)
    return None if latest is None else latest[1]


def minted_keys(investigation: Investigation | None, user: str) -> frozenset[str]:
    """Long-term keys the exposed key (or what it minted) created for this user."""
    if investigation is None:
        return frozenset()
    from incident.investigate.model import CredentialKind

    return frozenset(c.access_key_id for c in investigation.credentials
                     if c.kind is CredentialKind.CREATED
                     and c.principal_arn.rsplit("/", 1)[-1] == user)


def role_name(role: str) -> str:
    """The role's name in a name or an ARN (arn:aws:iam::ACCOUNT:role/PATH/NAME)."""
    return role.rsplit("/", 1)[-1] if role.startswith("arn:") else role


def _checked_role(iam: Any, role: str, account_id: str) -> str:
    """A role the deny may go on: of this account, existing, not service-linked."""
    name = role_name(role)
    if role.startswith("arn:"):
        parts = role.split(":")
        owner = parts[4] if len(parts) > 5 else ""
        if owner != account_id:
            raise UsageError(
                f"--revoke-roles {role}: a role of account {owner or '?'}, not {account_id}; "
                f"run `irready contain plan` there, or `aws iam put-role-policy --role-name "
                f"{name} --policy-name {REVOKE_POLICY} --policy-document file://deny.json` "
                "with that account's credentials")
    try:
        found = iam.get_role(RoleName=name)["Role"]
    except AWS_ERRORS as exc:
        from drills.engine.aws import error_code

        if error_code(exc) == "NoSuchEntity":
            raise NotFound(f"--revoke-roles {name}: no such role in account "
                           f"{account_id}") from None
        raise UsageError(f"iam:GetRole {name} failed ({describe_error(exc)})") from None
    if str(found.get("Path", "")).startswith("/aws-service-role/"):
        raise UsageError(
            f"--revoke-roles {name}: a service-linked role, which IAM does not let anyone "
            "change; its sessions belong to the AWS service that owns it (see `aws iam "
            f"get-role --role-name {name}`)")
    return name


def assumed_roles(investigation: Investigation | None) -> tuple[str, ...]:
    """Roles the key's sessions assumed, by name (from the investigation)."""
    if investigation is None:
        return ()
    names = [c.principal_arn.split("/")[1] for c in investigation.credentials
             if ":assumed-role/" in c.principal_arn]
    return tuple(dict.fromkeys(names))


def _quarantine_action(iam: Any, caller_arn: str, user: str, notes: list[str]
                       ) -> PlannedAction:
    """The newest quarantine policy the partition has (V4, else V3, else V2)."""
    partition = caller_arn.split(":")[1] if caller_arn.startswith("arn:") else "aws"
    for name in QUARANTINE_POLICIES:
        arn = f"arn:{partition}:iam::aws:policy/{name}"
        try:
            iam.get_policy(PolicyArn=arn)
        except AWS_ERRORS as exc:
            from drills.engine.aws import error_code

            if error_code(exc) == "NoSuchEntity":
                continue
            raise UsageError(f"iam:GetPolicy {name} failed ({describe_error(exc)})") from None
        notes.append(f"{name} denies what attackers use most (IAM changes, new compute, "
                     "most writes) but not everything: an application that only sends mail "
                     "through SES keeps sending, and reads it does not list still work")
        return PlannedAction(
            ActionName.QUARANTINE, f"attach {name} to {user} (AWS's compromised-key "
            "quarantine; irready records that it attached it)",
            f"iam:AttachUserPolicy {user} {arn}",
            "`contain undo` detaches it, only if irready attached it", arn)
    raise UsageError(f"--quarantine: the partition {partition} has none of "
                     f"{', '.join(QUARANTINE_POLICIES)}")


def _follow_up_actions(investigation: Investigation | None, handled: set[str],
                       notes: list[str]) -> list[PlannedAction]:
    """Backdoor keys to deactivate and login profiles to delete, from the investigation's
    follow-ups; users and roles are never deleted (that is for after the forensics)."""
    if investigation is None:
        notes.append("--contain-follow-ups: no investigation, so no follow-up is known")
        return []
    actions: list[PlannedAction] = []
    for follow_up in investigation.follow_ups:
        if follow_up.kind == "access_key" and follow_up.resource not in handled:
            handled.add(follow_up.resource)
            actions.append(PlannedAction(
                ActionName.DEACTIVATE_FOLLOW_UP_KEY,
                f"deactivate {follow_up.resource} (the attacker created it)",
                f"iam:UpdateAccessKey {follow_up.resource} Inactive",
                "none: a key the attacker made is not brought back", follow_up.resource))
        elif follow_up.kind == "login_profile" and follow_up.resource not in handled:
            handled.add(follow_up.resource)
            actions.append(PlannedAction(
                ActionName.DELETE_LOGIN_PROFILE,
                f"delete {follow_up.resource}'s console password (the attacker set it)",
                f"iam:DeleteLoginProfile {follow_up.resource}",
                "none: a password the attacker set is not restored", follow_up.resource))
    left = sorted({f.kind for f in investigation.follow_ups}
                  - {"access_key", "login_profile", "session"})
    if left:
        notes.append("follow-ups left for after the forensics (users and roles are never "
                     f"deleted by irready): {', '.join(left)}; `irready investigate` lists "
                     "each with its command")
    return actions
