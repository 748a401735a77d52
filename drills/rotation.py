"""The rotation drill: "rotate before you block" as a small state machine.

Nine steps (model.FORWARD_STEPS): preflight, create the new key, publish it to the
target and read it back, restart the application, verify the new key authenticates,
check the application's health, deactivate the old key, verify the old key is refused,
and delete it only on request. Each step is journaled before it acts and after it ends.

The rule an incident can trust: the application never loses a working key.
- Before the old key is deactivated, any failure rolls back: the target gets the old key
  again (and the application is restarted on it), then the new key is deleted. A
  deactivation whose outcome is unknown is undone first (the old key set Active): IAM's
  reads lag its writes, so "still Active" is no proof. A key is never deleted while the
  target holds it.
- A drill cut off anywhere is left in a state `resume_drill` or `rollback_drill`
  completes. The journal knows which keys existed before the drill, so a key created
  by a drill that died before it could record the key's id is found (IAM may take a
  moment to list it) and removed; its secret died with the process, so it cannot be in
  use. When every create reported its key, only that key is the drill's to delete.
- Secrets stay in memory. After a restart the old secret comes back from the target's
  own storage (targets.py), the new one from the target itself."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from auditor.clock import utcnow
from auditor.errors import AwsUnavailable, NotFound, UsageError
from auditor.redact import Redactor, redacted_logs
from auditor.store import DrillRecord
from drills.errors import DrillBusy, DrillUnfinished, StepFailed, TargetError
from drills.journal import Journal, lock_holder, user_lock
from drills.model import (
    FORWARD_STEPS,
    STEP_NUMBER,
    UNFINISHED,
    AccessKey,
    DrillOptions,
    DrillPlan,
    DrillStatus,
    KeyInfo,
    StepName,
    StepState,
)
from drills.targets import Target, TargetEnv, parse_target
from drills.verify import (
    REJECTED_CODES,
    Sleep,
    retry_until,
    run_command,
    wait_accepted,
    wait_healthy,
    wait_rejected,
)

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext, Identity
    from auditor.store import HistoryStore

Clock = Callable[[], datetime]
AWS_ERRORS = (ClientError, BotoCoreError)
DRILL_TAG = "irready:drill"
ROOT_NAMES = frozenset({"root", "<root_account>"})


@dataclass(frozen=True)
class StepEvent:
    """Sent to `on_event` as each step starts and ends (the CLI prints these)."""

    drill_id: str
    seq: int
    step: StepName
    state: StepState
    seconds: float | None = None
    note: str = ""


EventHook = Callable[[StepEvent], None]


# -- helpers ---------------------------------------------------------------------------


def new_drill_id(at: datetime) -> str:
    return f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def describe_error(exc: BaseException) -> str:
    """One line about a failure, without the boto noise that says nothing more."""
    import botocore.exceptions as bexc

    if isinstance(exc, bexc.ClientError):
        from auditor.session import error_code

        operation = getattr(exc, "operation_name", "") or "the call"
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{operation}: {error_code(exc)}" + (f": {message}" if message else "")
    if isinstance(exc, TargetError | StepFailed):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, bexc.BotoCoreError) else f"{type(exc).__name__}: {text}"


def normalize_user(name: str) -> str:
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
    return user


def _aws_denied(action: str, exc: BaseException) -> AwsUnavailable:
    return AwsUnavailable(f"{action} failed ({describe_error(exc)}); the drill needs the "
                          "policy that `irready policy drill` prints")


def options_from_config(config: Config, user: str | None = None) -> DrillOptions:
    """Drill options from the config alone (the scheduler's quarterly drill): the first
    drill user, or `user`, and its rotation target from the key inventory."""
    settings = config.drill
    chosen = user or (settings.users[0] if settings.users else "")
    if not chosen:
        raise UsageError("no drill user: list one in [drill] users in the config")
    entry = config.inventory_for(chosen)
    if entry is None or not entry.rotation_target:
        raise UsageError(f"no rotation target for {chosen}: add an [[inventory]] entry with "
                         "rotation_target for it")
    return DrillOptions(
        user=chosen, target=entry.rotation_target,
        restart_command=settings.restart_command, health_command=settings.health_command,
        health_url=settings.health_url,
        propagation_timeout=float(settings.propagation_timeout_seconds),
        health_timeout=float(settings.health_timeout_seconds),
        command_timeout=float(settings.command_timeout_seconds),
    )


# -- the drill ---------------------------------------------------------------------------


class Drill:
    """One drill's engine: its target, its keys (in memory), its journal."""

    def __init__(self, ctx: AwsContext, config: Config, store: HistoryStore,
                 options: DrillOptions, *, clock: Clock | None = None,
                 on_event: EventHook | None = None, sleep: Sleep = time.sleep) -> None:
        self.ctx = ctx
        self.config = config
        self.store = store
        self.options = options
        self.clock = clock or utcnow
        self.on_event = on_event
        self.sleep = sleep
        self.redactor = Redactor()
        self.target: Target = parse_target(options.target, TargetEnv(
            ctx, config.drill.secret_id_field, config.drill.secret_key_field,
            options.command_timeout, self.redactor))
        self.old: AccessKey | None = None
        self.new: AccessKey | None = None
        self.journal: Journal | None = None
        self._base = (self.clock(), time.monotonic())

    # -- time and events ---------------------------------------------------------------

    def now(self) -> datetime:
        """The drill's clock: wall time (or a simulated one) advanced by monotonic time."""
        wall, mono = self._base
        return wall + timedelta(seconds=time.monotonic() - mono)

    def _emit(self, event: StepEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _remember(self, key: AccessKey | None) -> AccessKey | None:
        if key is not None:
            self.redactor.add(key.secret)
        return key

    @property
    def iam(self) -> Any:
        return self.ctx.client("iam")

    @property
    def j(self) -> Journal:
        assert self.journal is not None, "the drill has not begun"
        return self.journal

    # -- preflight (read-only) ---------------------------------------------------------

    def preflight(self, identity: Identity | None = None, *, locked: bool = False
                  ) -> DrillPlan:
        """Every check that can refuse a drill, before anything changes. `locked`: this
        process holds the user's drill lock already."""
        user = normalize_user(self.options.user)
        identity = identity or self.ctx.identity()
        self.check_no_unfinished(identity.account_id, user, locked=locked)
        if ":user/" in identity.arn and identity.arn.rsplit("/", 1)[-1] == user:
            raise UsageError(f"irready is running as {user} itself: deactivating its key "
                             "would cut the drill off; run it with other credentials")
        try:
            user_doc = self.iam.get_user(UserName=user)["User"]
        except AWS_ERRORS as exc:
            if _code(exc) == "NoSuchEntity":
                raise NotFound(f"no IAM user {user!r} in account {identity.account_id}"
                               ) from None
            raise _aws_denied("iam:GetUser", exc) from None
        user_arn = str(user_doc["Arn"])
        tags = {t["Key"]: t["Value"] for t in user_doc.get("Tags", [])}
        if user not in self.config.drill.users and tags.get(DRILL_TAG, "").lower() != "true":
            raise UsageError(f"{user} is not allowed to be drilled: list it in [drill] users "
                             f"in the config, or tag the user {DRILL_TAG}=true")
        try:
            listed = self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        except AWS_ERRORS as exc:
            raise _aws_denied("iam:ListAccessKeys", exc) from None
        keys = tuple(KeyInfo(k["AccessKeyId"], k["Status"]) for k in listed)
        try:
            current = self._remember(self.target.read())
        except TargetError:
            raise
        except AWS_ERRORS as exc:
            raise _aws_denied(f"reading {self.target.spec}", exc) from None
        assert current is not None
        held = next((k for k in keys if k.key_id == current.key_id), None)
        if held is None:
            raise TargetError(f"{self.target.spec} holds key {current.key_id}, which is not "
                              f"a key of {user}")
        if held.status != "Active":
            raise TargetError(f"{self.target.spec} holds key {current.key_id}, which is an "
                              f"inactive key of {user}: the application has no working key")
        self._check_works(current, user_arn)
        make_room = None
        for other in (k for k in keys if k.key_id != held.key_id):
            if other.status == "Active":
                raise UsageError(
                    f"{user} already has two active keys ({held.key_id}, {other.key_id}): "
                    "IAM allows two, and irready never deletes an active key; deactivate "
                    "the one the application does not use, then run the drill again")
            if not self.options.make_room:
                raise UsageError(
                    f"{user} already has two keys (inactive: {other.key_id}); pass "
                    "--make-room to delete the inactive one, or delete it yourself")
            make_room = other.key_id
        self.old = current
        return DrillPlan(
            account_id=identity.account_id, caller_arn=identity.arn, user=user,
            user_arn=user_arn, target=self.target.spec, old_key_id=current.key_id,
            keys=keys, make_room_key=make_room, options=self.options,
            steps=self._describe_steps(user, current.key_id, make_room),
        )

    def _check_works(self, current: AccessKey, user_arn: str) -> None:
        """The target's key must authenticate now: a rollback puts it back, and step 8's
        "the old key is refused" proves nothing about a secret that never worked. One
        try (a key that has been active a while is past IAM's propagation); skipped
        when the target does not give its secret back."""
        if not current.secret:
            return
        tried = wait_accepted(self.ctx, current, user_arn, 0.0, self.sleep)
        if tried.ok:
            return
        if tried.last in REJECTED_CODES:
            raise TargetError(f"{self.target.spec} holds key {current.key_id}, whose secret "
                              f"does not authenticate ({tried.last}): the application has no "
                              "working key; fix the target first")
        raise AwsUnavailable(f"cannot try the key {current.key_id} that {self.target.spec} "
                             f"holds (sts:GetCallerIdentity: {tried.last})")

    def check_no_unfinished(self, account_id: str, user: str, *, locked: bool) -> None:
        for record in self.store.drills(account_id=account_id, user=user):
            if DrillStatus(record.status) in UNFINISHED:
                holder = None if locked else lock_holder(self.store, account_id, user)
                if holder:
                    raise DrillBusy(f"drill {record.drill_id} on {user} is running now "
                                    f"({holder}); wait for it to end")
                raise DrillBusy(
                    f"drill {record.drill_id} on {user} is unfinished ({record.status}): run "
                    f"`irready drill resume {record.drill_id}` or `irready drill rollback "
                    f"{record.drill_id}` first")

    def _describe_steps(self, user: str, old_key_id: str, make_room: str | None
                        ) -> tuple[tuple[StepName, str], ...]:
        o = self.options
        return (
            (StepName.PREFLIGHT, f"checks passed; delete inactive key {make_room} to make room"
             if make_room else "checks passed"),
            (StepName.CREATE_KEY, f"iam:CreateAccessKey for {user}"),
            (StepName.PUBLISH, self.target.touches()),
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

    # -- running -----------------------------------------------------------------------

    def run(self) -> DrillRecord:
        """Preflight, then every step; a drill that cannot start raises and records nothing."""
        started_at = self.now()
        with redacted_logs(self.redactor):
            user = normalize_user(self.options.user)
            identity = self.ctx.identity()
            drill_id = new_drill_id(started_at)
            with user_lock(self.store, identity.account_id, user, f"drill {drill_id}"):
                plan = self.preflight(identity, locked=True)
                self.journal = Journal.begin(
                    self.store, drill_id=drill_id, account_id=plan.account_id, user=plan.user,
                    target=plan.target, started_at=started_at,
                    target_seconds=self.config.audit.rotation_target_minutes * 60.0,
                    detail={"options": self.options.as_dict(), "user_arn": plan.user_arn,
                            "caller_arn": plan.caller_arn, "old_key_id": plan.old_key_id,
                            "keys_before": [k.key_id for k in plan.keys],
                            "target_kind": self.target.kind, "target_state": {}},
                )
                with self._flag_on_error():
                    seq = self.j.start(StepName.PREFLIGHT, started_at)
                    self._emit(StepEvent(drill_id, seq, StepName.PREFLIGHT,
                                         StepState.STARTED))
                    self._finish_preflight(seq, plan, started_at)
                    self._execute(FORWARD_STEPS[1:])
        return self.store.load_drill(drill_id)

    @contextmanager
    def _flag_on_error(self) -> Iterator[None]:
        """An error no step caught (a bug, a full disk) must not leave the drill looking
        alive: it becomes NEEDS_ATTENTION, and the error goes on. Ctrl-C between steps
        becomes INTERRUPTED, as within one."""
        try:
            yield
        except KeyboardInterrupt:
            if self._status() is DrillStatus.RUNNING:
                self._interrupted()
            raise
        except Exception:
            if self._status() is DrillStatus.RUNNING:
                self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            raise

    def _finish_preflight(self, seq: int, plan: DrillPlan, started_at: datetime) -> None:
        detail: dict[str, Any] = {"old_key_id": plan.old_key_id, "keys": len(plan.keys)}
        if plan.make_room_key:
            try:
                self.iam.delete_access_key(UserName=plan.user, AccessKeyId=plan.make_room_key)
            except AWS_ERRORS as exc:
                reason = self.redactor.redact(describe_error(exc))
                self.j.end(seq, StepState.FAILED, self.now(), {"error": reason})
                self.j.note(failure={"step": StepName.PREFLIGHT.value, "reason": reason},
                            rolled_back=False, outcome="nothing was changed")
                self.j.set_status(DrillStatus.FAILED, finished_at=self.now())
                return
            detail["deleted_inactive_key"] = plan.make_room_key
            self.j.note(made_room=plan.make_room_key)
        finished = self.now()
        self.j.end(seq, StepState.DONE, finished, detail)
        self._emit(StepEvent(self.j.drill_id, seq, StepName.PREFLIGHT, StepState.DONE,
                             (finished - started_at).total_seconds()))

    def _execute(self, steps: Sequence[StepName]) -> None:
        """Run `steps` in order; on failure roll back (before deactivation) or record."""
        if self._status() is not DrillStatus.RUNNING:
            return
        try:
            for name in steps:
                self._step(name, getattr(self, f"_do_{name.value}"))
        except StepFailed as failure:
            self.j.note(failure={"step": failure.step, "reason": failure.reason})
            if self._deactivated():
                self._cleanup_target()
                self.j.note(rolled_back=False, outcome=(
                    "the application runs on the new key and the old key is inactive, but "
                    f"{failure.step} failed: {failure.reason}"))
                self.j.set_status(DrillStatus.FAILED, finished_at=self.now())
                return
            self._roll_back_or_flag(DrillStatus.FAILED)
            return
        except KeyboardInterrupt:
            self._interrupted()
        self._succeed()

    def _status(self) -> DrillStatus:
        return DrillStatus(self.store.load_drill(self.j.drill_id).status)

    def _deactivated(self) -> bool:
        return self.j.ever(StepName.DEACTIVATE_OLD, StepState.DONE)

    def _interrupted(self) -> NoReturn:
        self.j.set_status(DrillStatus.INTERRUPTED)
        drill_id = self.j.drill_id
        raise DrillUnfinished(
            f"drill {drill_id} was interrupted; the target holds a working key. Run "
            f"`irready drill resume {drill_id}` to finish it or `irready drill rollback "
            f"{drill_id}` to undo it")

    def _step(self, name: StepName, action: Callable[[dict[str, Any]], str | None]) -> None:
        """Journal, act, journal. `action` fills the step's detail and returns a reason to
        skip, or None; it raises StepFailed (or anything else) to fail."""
        started = self.now()
        seq = self.j.start(name, started)
        detail: dict[str, Any] = {}
        try:
            self._emit(StepEvent(self.j.drill_id, seq, name, StepState.STARTED))
            skipped = action(detail)
        except KeyboardInterrupt:
            self.j.end(seq, StepState.INTERRUPTED, self.now(), detail)
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a step is recorded and rolled back
            reason = self.redactor.redact(describe_error(exc))
            if isinstance(exc, StepFailed):
                reason = self.redactor.redact(exc.reason)
            finished = self.now()
            self.j.end(seq, StepState.FAILED, finished, {**detail, "error": reason})
            self._emit(StepEvent(self.j.drill_id, seq, name, StepState.FAILED,
                                 (finished - started).total_seconds(), reason))
            raise StepFailed(name.value, reason) from None
        state = StepState.SKIPPED if skipped is not None else StepState.DONE
        if skipped is not None:
            detail["skipped"] = skipped
        finished = self.now()
        self.j.end(seq, state, finished, detail)
        self._emit(StepEvent(self.j.drill_id, seq, name, state,
                             (finished - started).total_seconds(), skipped or ""))

    # -- the forward steps ---------------------------------------------------------------

    def _user(self) -> str:
        return normalize_user(self.options.user)

    def _do_create_key(self, detail: dict[str, Any]) -> str | None:
        try:
            response = self.iam.create_access_key(UserName=self._user())["AccessKey"]
        except ClientError as exc:
            if _refused_at_once(exc):
                detail["no_key_made"] = True  # a cleanup need not wait for a key to show
            raise
        self.new = self._remember(AccessKey(response["AccessKeyId"],
                                            response["SecretAccessKey"]))
        assert self.new is not None
        self.j.note(new_key_id=self.new.key_id)
        detail["new_key_id"] = self.new.key_id
        return None

    def _do_publish(self, detail: dict[str, Any]) -> str | None:
        assert self.new is not None
        state = self.target.prepare(self.j.drill_id)
        self.j.note(target_state=state)  # before writing: a rollback must find the old value
        state = {**state, **self.target.publish(self.new, self._user())}
        self.j.note(target_state=state)
        back = self.target.read()
        if back.key_id != self.new.key_id or (back.secret and back.secret != self.new.secret):
            raise StepFailed(StepName.PUBLISH.value,
                             f"read back {back.key_id} from {self.target.spec}, expected "
                             f"{self.new.key_id}")
        detail.update({"target": self.target.spec, "read_back": back.key_id,
                       **{f"target_{k}": v for k, v in state.items()}})
        return None

    def _do_restart(self, detail: dict[str, Any]) -> str | None:
        command = self.options.restart_command
        if not command:
            return "no --restart-command"
        ok, what = run_command(command, self.options.command_timeout)
        detail["result"] = self.redactor.redact(what)
        if not ok:
            raise StepFailed(StepName.RESTART.value, f"restart command {detail['result']}")
        return None

    def _do_verify_new_key(self, detail: dict[str, Any]) -> str | None:
        assert self.new is not None
        if not self.new.secret:
            # resumed after the process died, through a target that keeps secrets to
            # itself: nothing can prove the new key works, so the old one must stay
            raise StepFailed(StepName.VERIFY_NEW.value,
                             f"the new key {self.new.key_id}'s secret is no longer known "
                             f"({self.target.spec} does not give it back), so it cannot be "
                             "verified; the old key stays in use")
        waited = wait_accepted(self.ctx, self.new, str(self.j.detail["user_arn"]),
                               self.options.propagation_timeout, self.sleep)
        detail.update(waited.as_dict())
        self.j.note(propagation=waited.as_dict())
        if not waited.ok:
            raise StepFailed(StepName.VERIFY_NEW.value,
                             f"the new key was not accepted as {self.j.detail['user_arn']} "
                             f"within {self.options.propagation_timeout:g} s "
                             f"({waited.attempts} attempts, last answer: {waited.last})")
        return None

    def _do_health_check(self, detail: dict[str, Any]) -> str | None:
        o = self.options
        if not o.health_command and not o.health_url:
            return "no --health-command or --health-url"
        waited = wait_healthy(o.health_command, o.health_url, o.health_timeout,
                              o.command_timeout, self.sleep)
        detail.update(waited.as_dict())
        detail["last"] = self.redactor.redact(waited.last)
        if not waited.ok:
            raise StepFailed(StepName.HEALTH.value,
                             f"unhealthy after {o.health_timeout:g} s: {detail['last']}")
        return None

    def _do_deactivate_old_key(self, detail: dict[str, Any]) -> str | None:
        old_key_id = str(self.j.detail["old_key_id"])
        try:
            self.iam.update_access_key(UserName=self._user(), AccessKeyId=old_key_id,
                                       Status="Inactive")
        except Exception as exc:
            if _code(exc) != "NoSuchEntity":  # a resumed drill may have deleted it already
                raise
        record = self.store.load_drill(self.j.drill_id)
        rotation = record.rotation_seconds  # measured once: a resume does not restart it
        if rotation is None:
            rotation = (self.now() - record.started_at).total_seconds()
            self.j.set_status(DrillStatus.RUNNING, rotation_seconds=rotation)
        detail.update({"old_key_id": old_key_id, "rotation_seconds": round(rotation, 3)})
        return None

    def _do_verify_old_key_rejected(self, detail: dict[str, Any]) -> str | None:
        old = self.old if self.old is not None and self.old.secret else None
        if old is None:
            old = self._remember(self.target.previous(self._target_state()))
        if old is None or not old.secret:
            return "the old key's secret is no longer available to try it"
        waited = wait_rejected(self.ctx, old, self.options.propagation_timeout, self.sleep)
        detail.update(waited.as_dict())
        if not waited.ok:
            raise StepFailed(StepName.VERIFY_OLD.value,
                             f"the old key {old.key_id} is inactive but was still accepted "
                             f"after {self.options.propagation_timeout:g} s "
                             f"({waited.attempts} attempts, last answer: {waited.last})")
        return None

    def _do_delete_old_key(self, detail: dict[str, Any]) -> str | None:
        old_key_id = str(self.j.detail["old_key_id"])
        if not self.options.delete_old:
            return "kept inactive for the investigation (--delete-old deletes it)"
        self._delete_key(old_key_id)
        detail["deleted"] = old_key_id
        return None

    def _succeed(self) -> None:
        from auditor.durations import duration
        from auditor.estimate import estimate_incident

        self._cleanup_target()
        record = self.store.load_drill(self.j.drill_id)
        rotation = record.rotation_seconds or 0.0
        estimate = estimate_incident(self.store, record.account_id, rotation)
        target = record.target_seconds / 60
        verdict = "within" if rotation <= record.target_seconds else "over"
        self.j.note(estimate=estimate.as_dict(), rolled_back=False, outcome=(
            f"rotated {record.user}'s key in {duration(rotation)} ({verdict} the {target:g}-min "
            f"target); the old key is {'deleted' if self.options.delete_old else 'inactive'}"))
        self.j.set_status(DrillStatus.SUCCEEDED, finished_at=self.now())

    # -- rollback ------------------------------------------------------------------------

    def _target_state(self) -> dict[str, str]:
        state = self.j.detail.get("target_state") or {}
        return {str(k): str(v) for k, v in state.items()}

    def _cleanup_target(self) -> None:
        try:
            self.target.cleanup(self._target_state())
        except OSError as exc:
            self.j.note(cleanup_error=self.redactor.redact(str(exc)))

    def _delete_key(self, key_id: str) -> None:
        try:
            self.iam.delete_access_key(UserName=self._user(), AccessKeyId=key_id)
        except Exception as exc:
            if _code(exc) != "NoSuchEntity":
                raise

    def _roll_back_or_flag(self, final: DrillStatus) -> None:
        """Roll back; `final` when it worked, NEEDS_ATTENTION when it could not finish."""
        try:
            self._roll_back()
        except StepFailed as failure:
            self.j.note(rolled_back=False, rollback_failure={
                "step": failure.step, "reason": failure.reason},
                outcome=f"the rollback stopped at {failure.step}: {failure.reason}")
            self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            return
        except KeyboardInterrupt:
            self._interrupted()
        self._cleanup_target()
        self.j.note(rolled_back=True, outcome=(
            "rolled back: the target holds the old key again and the new key is deleted"))
        self.j.set_status(final, finished_at=self.now())

    def _roll_back(self) -> None:
        """Restore the target, restart the application on the old key, delete what the
        drill created; each a journaled step, in this order, stopping at a failure."""
        if self.j.ever(StepName.PUBLISH):
            self._step(StepName.RESTORE_TARGET, self._do_restore)
        if self.options.restart_command and self.j.ever(StepName.RESTART):
            self._step(StepName.ROLLBACK_RESTART, self._do_rollback_restart)
        if self.j.ever(StepName.CREATE_KEY):
            self._step(StepName.DELETE_NEW, self._do_delete_new)

    def _created_keys(self) -> list[str]:
        """Keys of the user that the drill made. When every create reported its key,
        only the recorded key; when one may have made a key unseen (its answer lost, the
        process killed), any key that was not there before and is not the old key."""
        old_key_id = str(self.j.detail["old_key_id"])
        before = set(self.j.detail.get("keys_before") or ())
        keys = self.iam.list_access_keys(UserName=self._user())["AccessKeyMetadata"]
        unknown = [k["AccessKeyId"] for k in keys
                   if k["AccessKeyId"] not in before and k["AccessKeyId"] != old_key_id]
        if self._uncertain_creates():
            return unknown
        return [key_id for key_id in unknown if key_id == self.j.detail.get("new_key_id")]

    def _uncertain_creates(self) -> list[datetime]:
        """When each create step began that may have made a key the drill never saw: it
        did not end DONE, and AWS did not refuse it outright."""
        steps = self.store.load_drill(self.j.drill_id).steps
        return [s.started_at for s in steps if s.name == StepName.CREATE_KEY.value
                and s.state != StepState.DONE.value and not s.detail.get("no_key_made")]

    def _reactivate_old(self, old_key_id: str) -> bool:
        """Set the old key Active again, after a deactivation that may have been done.
        IAM is eventually consistent: right after an UpdateAccessKey whose answer was lost,
        ListAccessKeys may still say Active, and the old key may still be accepted for a
        while; trusting that read would put an inactive key back into the target. A
        refusal (the deactivation was surely refused the same way) leaves the read to
        decide."""
        from auditor.session import is_access_denied

        try:
            self.iam.update_access_key(UserName=self._user(), AccessKeyId=old_key_id,
                                       Status="Active")
        except AWS_ERRORS as exc:
            if _code(exc) == "NoSuchEntity" or is_access_denied(exc):
                return False
            raise
        return True

    def _do_restore(self, detail: dict[str, Any]) -> str | None:
        old_key_id = str(self.j.detail["old_key_id"])
        if self.j.ever(StepName.DEACTIVATE_OLD) and self._reactivate_old(old_key_id):
            detail["reactivated"] = old_key_id
        if self._old_key_status() != "Active":
            raise StepFailed(StepName.RESTORE_TARGET.value,
                             f"the old key {old_key_id} is no longer active: putting it back "
                             "would leave the application without a working key")
        self.target.restore(old_key_id, self.old, self._target_state())
        back = self.target.read()
        if back.key_id != old_key_id:
            raise StepFailed(StepName.RESTORE_TARGET.value,
                             f"{self.target.spec} still holds {back.key_id} after the restore")
        detail["restored"] = old_key_id
        old = self.old if self.old is not None and self.old.secret else None
        if old is None and back.secret:
            old = self._remember(back)
        if old is not None:
            waited = wait_accepted(self.ctx, old, str(self.j.detail["user_arn"]),
                                   self.options.propagation_timeout, self.sleep)
            detail["old_key_works"] = waited.as_dict()
            if not waited.ok:
                raise StepFailed(StepName.RESTORE_TARGET.value,
                                 f"the restored key {old_key_id} does not authenticate "
                                 f"(last answer: {waited.last})")
        return None

    def _do_rollback_restart(self, detail: dict[str, Any]) -> str | None:
        ok, what = run_command(self.options.restart_command, self.options.command_timeout)
        detail["result"] = self.redactor.redact(what)
        if not ok:
            raise StepFailed(StepName.ROLLBACK_RESTART.value,
                             f"restart command {detail['result']}; the new key is kept "
                             "since the application may still use it")
        return None

    def _unseen_key_deadline(self) -> float:
        """Seconds to keep looking for a key a CreateAccessKey may have made unseen.
        IAM is eventually consistent: right after a create whose answer was lost,
        ListAccessKeys may not show the key yet. So while a create step that did not end
        DONE (and was not refused outright) is younger than the propagation timeout,
        an empty list is no proof; later, it is."""
        uncertain = self._uncertain_creates()
        if not uncertain:
            return 0.0
        age = (self.now() - max(uncertain)).total_seconds()
        return max(0.0, min(self.options.propagation_timeout,
                            self.options.propagation_timeout - age))

    def _do_delete_new(self, detail: dict[str, Any]) -> str | None:
        created = self._created_keys()
        wait = self._unseen_key_deadline() if not created else 0.0
        if wait > 0:
            def probe() -> tuple[bool, str]:
                created[:] = self._created_keys()
                return bool(created), f"{len(created)} key(s)"

            detail["looked_for_unseen_key"] = retry_until(probe, wait, self.sleep).as_dict()
        if not created:
            return "no key of the drill is left"
        in_use = self.target.read().key_id
        deleted = []
        for key_id in created:
            if key_id == in_use:
                raise StepFailed(StepName.DELETE_NEW.value,
                                 f"{self.target.spec} holds {key_id}: it is not deleted")
            self._delete_key(key_id)
            deleted.append(key_id)
        detail["deleted"] = deleted
        self.j.note(deleted_keys=sorted({*self.j.detail.get("deleted_keys", []), *deleted}))
        return None

    # -- resume and rollback of a stopped drill -----------------------------------------

    @contextmanager
    def reopened(self, record: DrillRecord) -> Iterator[None]:
        """Lock, reopen the journal and mark the drill RUNNING again."""
        identity = self.ctx.identity()
        if identity.account_id != record.account_id:
            raise UsageError(f"drill {record.drill_id} ran in account {record.account_id}; "
                             f"these credentials are for {identity.account_id}")
        with redacted_logs(self.redactor), user_lock(
                self.store, record.account_id, record.user, f"drill {record.drill_id}"):
            fresh = self.store.load_drill(record.drill_id)
            if DrillStatus(fresh.status) not in UNFINISHED:
                raise UsageError(f"drill {record.drill_id} is {fresh.status}: nothing to do")
            self.journal = Journal.reopen(self.store, record.drill_id)
            self.j.set_status(DrillStatus.RUNNING)
            with self._flag_on_error():
                yield

    def _read_target(self) -> AccessKey:
        try:
            current = self._remember(self.target.read())
        except TargetError:
            self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            raise
        except AWS_ERRORS as exc:
            self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            raise AwsUnavailable(f"cannot read {self.target.spec}: "
                                 f"{self.redactor.redact(describe_error(exc))}") from None
        assert current is not None
        return current

    def _read_previous(self) -> AccessKey | None:
        """The old key as the target kept it (resume, rollback): an AWS error here is one
        line for the CLI, and the drill is left for a later resume or rollback."""
        try:
            return self._remember(self.target.previous(self._target_state()))
        except AWS_ERRORS as exc:
            self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            raise AwsUnavailable(f"cannot read the old key kept by {self.target.spec}: "
                                 f"{self.redactor.redact(describe_error(exc))}") from None

    def _old_key_status(self) -> str | None:
        old_key_id = self.j.detail["old_key_id"]
        keys = self.iam.list_access_keys(UserName=self._user())["AccessKeyMetadata"]
        return next((str(k["Status"]) for k in keys if k["AccessKeyId"] == old_key_id), None)

    def resume(self, record: DrillRecord) -> DrillRecord:
        with self.reopened(record):
            self.j.note(resumed_at=[*self.j.detail.get("resumed_at", []), _iso(self.now())])
            old_key_id = str(self.j.detail["old_key_id"])
            new_key_id = self.j.detail.get("new_key_id")
            current = self._read_target()
            try:
                deactivated = self.j.ever(StepName.DEACTIVATE_OLD) and \
                    self._old_key_status() != "Active"
            except AWS_ERRORS as exc:
                self.j.set_status(DrillStatus.NEEDS_ATTENTION)
                raise _aws_denied("iam:ListAccessKeys", exc) from None
            if deactivated or self.j.ever(StepName.DEACTIVATE_OLD, StepState.DONE):
                # past the point of no return: finish forward, but only while the target
                # holds the new key; otherwise --delete-old could delete the key in use
                if current.key_id != new_key_id:
                    self.j.set_status(DrillStatus.NEEDS_ATTENTION)
                    raise DrillUnfinished(
                        f"{self.target.spec} now holds {current.key_id}, not the drill's new "
                        f"key {new_key_id or '(none)'}, and the drill already deactivated the "
                        f"old key {old_key_id}: put the new key back there by hand, "
                        f"then run `irready drill resume {record.drill_id}`")
                self.new = current
                self.old = self._read_previous()
                first = StepName.VERIFY_OLD if self.j.ever(
                    StepName.DEACTIVATE_OLD, StepState.DONE) else StepName.DEACTIVATE_OLD
                self._execute(FORWARD_STEPS[FORWARD_STEPS.index(first):])
            elif current.key_id == old_key_id:
                # the new key (if any) never reached the target and its secret is lost
                self.old = current
                self._execute_cleanup_then(FORWARD_STEPS[1:])
            elif new_key_id and current.key_id == new_key_id:
                self.new = current
                self.old = self._read_previous()
                self._execute(FORWARD_STEPS[FORWARD_STEPS.index(StepName.RESTART):])
            else:
                self.j.set_status(DrillStatus.NEEDS_ATTENTION)
                raise DrillUnfinished(
                    f"{self.target.spec} now holds {current.key_id}, neither the old key "
                    f"{old_key_id} nor the drill's new key {new_key_id or '(none)'}: put a "
                    f"working key of {record.user} there by hand, then resume or roll back")
        return self.store.load_drill(record.drill_id)

    def _execute_cleanup_then(self, steps: Sequence[StepName]) -> None:
        """Delete keys a cut-off drill created but never published, then go on."""
        try:
            if self.j.ever(StepName.CREATE_KEY):
                self._step(StepName.DELETE_ORPHAN, self._do_delete_new)
        except StepFailed as failure:
            self.j.note(failure={"step": failure.step, "reason": failure.reason})
            self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            return
        except KeyboardInterrupt:
            self._interrupted()
        self.new = None
        self._execute(steps)

    def rollback(self, record: DrillRecord) -> DrillRecord:
        with self.reopened(record):
            old_key_id = str(self.j.detail["old_key_id"])
            try:
                status = self._old_key_status()
            except AWS_ERRORS as exc:
                self.j.set_status(DrillStatus.NEEDS_ATTENTION)
                raise _aws_denied("iam:ListAccessKeys", exc) from None
            if status != "Active" or self.j.ever(StepName.DEACTIVATE_OLD, StepState.DONE):
                self.j.set_status(DrillStatus.NEEDS_ATTENTION)
                raise UsageError(
                    f"drill {record.drill_id} already deactivated the old key {old_key_id}: "
                    "the application runs on the new key, so there is nothing to roll back; "
                    f"run `irready drill resume {record.drill_id}` to finish it")
            current = self._read_target()
            self.old = current if current.key_id == old_key_id else self._read_previous()
            self.j.note(rollback_requested_at=_iso(self.now()))
            self._roll_back_or_flag(DrillStatus.ROLLED_BACK)
        return self.store.load_drill(record.drill_id)


def _refused_at_once(exc: ClientError) -> bool:
    """AWS answered the only attempt with a 4xx: the call was not done (no retry of a
    possibly applied attempt came before)."""
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    return int(meta.get("RetryAttempts") or 0) == 0 and 400 <= status < 500


def _code(exc: BaseException) -> str:
    from auditor.session import error_code

    return error_code(exc)


def _iso(moment: datetime) -> str:
    from auditor.clock import iso

    return iso(moment)


# -- the API the CLI, the scheduler and the demo call -------------------------------------


def plan_drill(ctx: AwsContext, config: Config, store: HistoryStore, options: DrillOptions
               ) -> DrillPlan:
    """The read-only preflight and the plan (--dry-run): changes nothing, records nothing."""
    drill = Drill(ctx, config, store, options)
    with redacted_logs(drill.redactor):
        return drill.preflight()


def run_drill(ctx: AwsContext, config: Config, store: HistoryStore, options: DrillOptions, *,
              clock: Clock | None = None, on_event: EventHook | None = None,
              sleep: Sleep = time.sleep) -> DrillRecord:
    """Perform a drill. Bad input raises an IrreadyError before anything changes; a
    failure is a FAILED (rolled back) record; Ctrl-C raises DrillUnfinished."""
    return Drill(ctx, config, store, options, clock=clock, on_event=on_event,
                 sleep=sleep).run()


def _stopped(store: HistoryStore, drill_id: str) -> DrillRecord:
    record = store.load_drill(drill_id)
    if DrillStatus(record.status) not in UNFINISHED:
        raise UsageError(f"drill {drill_id} is {record.status}: nothing to resume or roll back")
    if "options" not in record.detail or "old_key_id" not in record.detail:
        raise UsageError(f"drill {drill_id} stopped before its preflight ended: nothing "
                         "was changed")
    return record


def resume_drill(ctx: AwsContext, config: Config, store: HistoryStore, drill_id: str, *,
                 clock: Clock | None = None, on_event: EventHook | None = None,
                 sleep: Sleep = time.sleep) -> DrillRecord:
    record = _stopped(store, drill_id)
    options = DrillOptions.from_dict(dict(record.detail["options"]))
    return Drill(ctx, config, store, options, clock=clock, on_event=on_event,
                 sleep=sleep).resume(record)


def rollback_drill(ctx: AwsContext, config: Config, store: HistoryStore, drill_id: str, *,
                   clock: Clock | None = None, on_event: EventHook | None = None,
                   sleep: Sleep = time.sleep) -> DrillRecord:
    record = _stopped(store, drill_id)
    options = DrillOptions.from_dict(dict(record.detail["options"]))
    return Drill(ctx, config, store, options, clock=clock, on_event=on_event,
                 sleep=sleep).rollback(record)


def is_cut_off(store: HistoryStore, record: DrillRecord) -> bool:
    """RUNNING in the store, but no process holds its lock: it was killed."""
    return record.status == DrillStatus.RUNNING.value and \
        lock_holder(store, record.account_id, record.user) is None


__all__ = ["STEP_NUMBER", "DrillPlan", "StepEvent", "plan_drill", "resume_drill",
           "rollback_drill", "run_drill"]
