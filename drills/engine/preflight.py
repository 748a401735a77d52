"""The drill's preflight: every check that can refuse a drill, read-only, before anything
changes; the plan it yields (printed by --dry-run); and the end of the preflight step,
the only change it may make (--make-room deletes an inactive key)."""

from __future__ import annotations

import math
import re
import shlex
import shutil
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from auditor.errors import AwsUnavailable, NotFound, UsageError
from auditor.store import HistoryStore
from drills.engine.aws import AWS_ERRORS, aws_denied, describe_error, error_code
from drills.engine.state import StepFailure
from drills.errors import DrillBusy, TargetError
from drills.journal import lock_holder
from drills.model import (
    UNFINISHED,
    AccessKey,
    DrillOptions,
    DrillPlan,
    DrillStatus,
    KeyInfo,
    StepName,
    StepState,
)
from drills.verify import REJECTED_CODES, wait_accepted

if TYPE_CHECKING:
    from auditor.session import Identity
    from drills.engine.drill import Drill

DRILL_TAG = "irready:drill"
ROOT_NAMES = frozenset({"root", "<root_account>"})


# IAM's own rule for a user name: 1 to 64 of these ASCII characters
USER_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")


def normalize_user(name: str) -> str:
    """The IAM user name in `name` (a name or a user's ARN), or UsageError: a name IAM
    could never hold is refused before any call to AWS and before any lock file."""
    user = name.strip()
    if user.startswith("arn:"):
        if user.endswith(":root"):
            user = "root"
        elif ":user/" in user:
            user = user.rsplit("/", 1)[-1]
        else:
            raise UsageError(f"--user {name!r} is not an IAM user (expected a user name)")
    if not user:
        raise UsageError("--user: a user name is required")
    if user in ROOT_NAMES:
        raise UsageError("the root user cannot be drilled: root must have no access keys at "
                         "all (CIS 1.3); drill a test IAM user instead")
    if not USER_NAME.fullmatch(user):
        shown = user if len(user) <= 70 else f"{user[:64]}... ({len(user)} characters)"
        raise UsageError(f"--user {shown!r} is not an IAM user name (1 to 64 of A-Z a-z 0-9 "
                         "and _+=,.@-)")
    return user


# -- the options, proved before anything changes -----------------------------------------

def check_options(options: DrillOptions) -> None:
    """Prove what a drill will run and wait for, before anything changes (UsageError):
    the restart and health commands parse and their programs exist (nothing is run),
    the health URL is http(s), and every timeout is a finite positive number of
    seconds."""
    check_command("--restart-command", options.restart_command)
    check_command("--health-command", options.health_command)
    check_health_url(options.health_url)
    for option, value in (("--propagation-timeout", options.propagation_timeout),
                          ("--health-timeout", options.health_timeout),
                          ("command timeout", options.command_timeout)):
        check_seconds(option, value)


def check_command(option: str, command: str) -> None:
    """A command irready will run without a shell: it parses, and its program is found
    on PATH (or at the path it names) and is executable."""
    if not command:
        return
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"{option} {command!r} cannot be parsed: {exc}") from None
    if not argv:
        raise UsageError(f"{option}: the command is empty")
    program = argv[0]
    if shutil.which(program) is None:
        where = "is not an executable file" if "/" in program else "is not found on PATH"
        raise UsageError(f"{option} {command!r}: {program} {where}")


def check_health_url(url: str) -> None:
    if not url:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--health-url {url!r} is not an http(s) URL "
                         "(expected http://HOST[:PORT]/PATH)")


def check_seconds(option: str, value: float) -> float:
    """A timeout: finite and positive (nan, inf and 0 would spin or never wait)."""
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{option}: must be a finite positive number of seconds, "
                         f"got {value:g}")
    return value


def preflight(drill: Drill, identity: Identity | None = None, *, locked: bool = False
              ) -> DrillPlan:
    """Every check that can refuse a drill, before anything changes. `locked`: this
    process holds the user's drill lock already."""
    check_options(drill.options)
    user = normalize_user(drill.options.user)
    identity = identity or drill.ctx.identity()
    user_doc = lookup_user(drill, identity, user)
    check_no_unfinished(drill.store, identity.account_id, user, locked=locked)
    user_arn = str(user_doc["Arn"])
    tags = {t["Key"]: t["Value"] for t in user_doc.get("Tags", [])}
    if user not in drill.config.drill.users and tags.get(DRILL_TAG, "").lower() != "true":
        raise UsageError(f"{user} is not allowed to be drilled: list it in [drill] users "
                         f"in the config, or tag the user {DRILL_TAG}=true")
    try:
        listed = drill.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    except AWS_ERRORS as exc:
        raise aws_denied("iam:ListAccessKeys", exc) from None
    keys = tuple(KeyInfo(k["AccessKeyId"], k["Status"]) for k in listed)
    target = drill.target
    try:
        current = drill.remember(target.read())
    except TargetError:
        raise
    except AWS_ERRORS as exc:
        raise aws_denied(f"reading {target.spec}", exc) from None
    held = next((k for k in keys if k.key_id == current.key_id), None)
    if held is None:
        raise TargetError(f"{target.spec} holds key {current.key_id}, which is not "
                          f"a key of {user}")
    if held.status != "Active":
        raise TargetError(f"{target.spec} holds key {current.key_id}, which is an "
                          f"inactive key of {user}: the application has no working key")
    _check_works(drill, current, user_arn)
    make_room = None
    for other in (k for k in keys if k.key_id != held.key_id):
        if other.status == "Active":
            raise UsageError(
                f"{user} already has two active keys ({held.key_id}, {other.key_id}): "
                "IAM allows two, and irready never deletes an active key; deactivate "
                "the one the application does not use, then run the drill again")
        if not drill.options.make_room:
            raise UsageError(
                f"{user} already has two keys (inactive: {other.key_id}); pass "
                "--make-room to delete the inactive one, or delete it yourself")
        make_room = other.key_id
    drill.old = current
    return DrillPlan(
        account_id=identity.account_id, caller_arn=identity.arn, user=user,
        user_arn=user_arn, target=target.spec, old_key_id=current.key_id,
        keys=keys, make_room_key=make_room, options=drill.options,
        steps=_describe_steps(drill, user, current.key_id, make_room),
    )


def lookup_user(drill: Drill, identity: Identity, user: str) -> dict[str, Any]:
    """The user's IAM record (iam:GetUser). A drill looks its user up before it takes
    the user's lock, so a mistyped name never leaves a lock file behind."""
    if ":user/" in identity.arn and identity.arn.rsplit("/", 1)[-1] == user:
        raise UsageError(f"irready is running as {user} itself: deactivating its key "
                         "would cut the drill off; run it with other credentials")
    try:
        user_doc: dict[str, Any] = drill.iam.get_user(UserName=user)["User"]
    except AWS_ERRORS as exc:
        if error_code(exc) == "NoSuchEntity":
            raise NotFound(f"no IAM user {user!r} in account {identity.account_id}"
                           ) from None
        raise aws_denied("iam:GetUser", exc) from None
    return user_doc


def _check_works(drill: Drill, current: AccessKey, user_arn: str) -> None:
    """The target's key must authenticate now: a rollback puts it back, and step 8's
    "the old key is refused" proves nothing about a secret that never worked. One
    try (a key that has been active a while is past IAM's propagation); skipped
    when the target does not give its secret back."""
    if not current.secret:
        return
    tried = wait_accepted(drill.ctx, current, user_arn, 0.0, drill.sleep)
    if tried.ok:
        return
    spec = drill.target.spec
    if tried.last in REJECTED_CODES:
        raise TargetError(f"{spec} holds key {current.key_id}, whose secret "
                          f"does not authenticate ({tried.last}): the application has no "
                          "working key; fix the target first")
    raise AwsUnavailable(f"cannot try the key {current.key_id} that {spec} "
                         f"holds (sts:GetCallerIdentity: {tried.last})")


def check_no_unfinished(store: HistoryStore, account_id: str, user: str, *,
                        locked: bool) -> None:
    for record in store.drills(account_id=account_id, user=user):
        if record.status in UNFINISHED:
            holder = None if locked else lock_holder(store, account_id, user)
            if holder:
                raise DrillBusy(f"drill {record.drill_id} on {user} is running now "
                                f"({holder}); wait for it to end")
            raise DrillBusy(
                f"drill {record.drill_id} on {user} is unfinished ({record.status}): run "
                f"`irready drill resume {record.drill_id}` or `irready drill rollback "
                f"{record.drill_id}` first (with --no-restart if its restart command fails; "
                'README, "Drill: the way out", says which)')


def _describe_steps(drill: Drill, user: str, old_key_id: str, make_room: str | None
                    ) -> tuple[tuple[StepName, str], ...]:
    o = drill.options
    return (
        (StepName.PREFLIGHT, f"checks passed; delete inactive key {make_room} to make room"
         if make_room else "checks passed"),
        (StepName.CREATE_KEY, f"iam:CreateAccessKey for {user}"),
        (StepName.PUBLISH, drill.target.touches()),
        (StepName.RESTART, f"run {o.restart_command!r}" if o.restart_command
         else "skipped: no --restart-command"),
        (StepName.VERIFY_NEW, "sts:GetCallerIdentity with the new key, retried for up to "
         f"{o.propagation_timeout:g} s"),
        (StepName.HEALTH, "run the health command / GET the health URL, for up to "
         f"{o.health_timeout:g} s" if o.health_command or o.health_url
         else "skipped: no --health-command or --health-url"),
        (StepName.DEACTIVATE_OLD, f"iam:UpdateAccessKey {old_key_id} -> Inactive"),
        (StepName.VERIFY_OLD, f"sts:GetCallerIdentity with {old_key_id} must be refused"),
        (StepName.DELETE_OLD, f"iam:DeleteAccessKey {old_key_id}" if o.delete_old
         else f"skipped: {old_key_id} stays inactive for the investigation"),
    )


def finish_preflight(drill: Drill, seq: int, plan: DrillPlan, started_at: datetime) -> None:
    """End the journaled preflight step: delete the inactive key --make-room named. A
    refusal fails the drill with nothing changed."""
    journal = drill.j
    detail: dict[str, Any] = {"old_key_id": plan.old_key_id, "keys": len(plan.keys)}
    if plan.make_room_key:
        try:
            drill.iam.delete_access_key(UserName=plan.user, AccessKeyId=plan.make_room_key)
        except AWS_ERRORS as exc:
            reason = drill.redactor.redact(describe_error(exc))
            journal.end(seq, StepState.FAILED, drill.now(), {"error": reason})
            journal.state.failure = StepFailure(StepName.PREFLIGHT.value, reason)
            journal.state.rolled_back = False
            journal.state.outcome = "nothing was changed"
            journal.save()
            journal.set_status(DrillStatus.FAILED, finished_at=drill.now())
            return
        detail["deleted_inactive_key"] = plan.make_room_key
        journal.state.made_room = plan.make_room_key
        journal.save()
    finished = drill.now()
    journal.end(seq, StepState.DONE, finished, detail)
    drill.emit(seq, StepName.PREFLIGHT, StepState.DONE, (finished - started_at).total_seconds())

