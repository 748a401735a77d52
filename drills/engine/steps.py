"""The forward steps of "rotate before you block", and the table the engine walks.

Each step is a function `(drill, detail) -> None | reason to skip` that fills its
journal detail and raises StepFailed (or anything else) to fail. The table says, for each
step, what undoes it; a rollback runs those undos in the order ROLLBACK gives. From the
old key's deactivation on (the point of no return) the application runs on the new key:
those steps are finished forward by a resume, never undone. A deactivation whose outcome
is unknown is still undone: restoring the target sets the old key Active first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from drills.engine.aws import error_code, refused_at_once
from drills.engine.recovery import (
    delete_new_keys,
    old_key_status,
    restart_on_old_key,
    restore_target,
)
from drills.errors import StepFailed
from drills.model import AccessKey, DrillStatus, OldKeyCheck, StepName
from drills.verify import run_command, wait_accepted, wait_healthy, wait_rejected

if TYPE_CHECKING:
    from drills.engine.drill import Drill

Action = Callable[["Drill", dict[str, Any]], str | None]


def always(drill: Drill) -> bool:
    return True


def has_restart_command(drill: Drill) -> bool:
    return bool(drill.options.restart_command)


@dataclass(frozen=True)
class Undo:
    """A recovery step: its journal name, what it does, and whether this drill needs it."""

    name: StepName
    run: Action
    needed: Callable[[Drill], bool] = always


@dataclass(frozen=True)
class Step:
    """A forward step. `changes`: it changes the account or the application; `undo`:
    the recovery step that reverses it (None: it changes nothing, or it comes at or
    after the point of no return)."""

    name: StepName
    run: Action
    changes: bool
    undo: Undo | None = None


# -- the forward steps ---------------------------------------------------------------


def create_key(drill: Drill, detail: dict[str, Any]) -> str | None:
    try:
        response = drill.iam.create_access_key(UserName=drill.user)["AccessKey"]
    except ClientError as exc:
        if refused_at_once(exc):
            detail["no_key_made"] = True  # a cleanup need not wait for a key to show
        raise
    drill.new = drill.remember(AccessKey(response["AccessKeyId"], response["SecretAccessKey"]))
    drill.j.state.new_key_id = drill.new.key_id
    drill.j.save()
    detail["new_key_id"] = drill.new.key_id
    return None


def publish(drill: Drill, detail: dict[str, Any]) -> str | None:
    assert drill.new is not None
    target, journal = drill.target, drill.j
    state = target.prepare(journal.drill_id)
    journal.state.target_state = dict(state)
    journal.save()  # before writing: a rollback must find the old value
    state = {**state, **target.publish(drill.new, drill.user)}
    journal.state.target_state = dict(state)
    journal.save()
    back = target.read()
    if back.key_id != drill.new.key_id or (back.secret and back.secret != drill.new.secret):
        raise StepFailed(StepName.PUBLISH.value,
                         f"read back {back.key_id} from {target.spec}, expected "
                         f"{drill.new.key_id}")
    detail.update({"target": target.spec, "read_back": back.key_id,
                   **{f"target_{k}": v for k, v in state.items()}})
    return None


def restart(drill: Drill, detail: dict[str, Any]) -> str | None:
    command = drill.options.restart_command
    if not command:
        return "no --restart-command"
    ok, what = run_command(command, drill.options.command_timeout)
    detail["result"] = drill.redactor.redact(what)
    if not ok:
        raise StepFailed(StepName.RESTART.value, f"restart command {detail['result']}")
    return None


def verify_new_key(drill: Drill, detail: dict[str, Any]) -> str | None:
    assert drill.new is not None
    if not drill.new.secret:
        # resumed after the process died, through a target that keeps secrets to
        # itself: nothing can prove the new key works, so the old one must stay
        raise StepFailed(StepName.VERIFY_NEW.value,
                         f"the new key {drill.new.key_id}'s secret is no longer known "
                         f"({drill.target.spec} does not give it back), so it cannot be "
                         "verified; the old key stays in use")
    user_arn = drill.j.state.user_arn
    waited = wait_accepted(drill.ctx, drill.new, user_arn, drill.options.propagation_timeout,
                           drill.sleep)
    detail.update(waited.as_dict())
    drill.j.state.propagation = waited.as_dict()
    drill.j.save()
    if not waited.ok:
        raise StepFailed(StepName.VERIFY_NEW.value,
                         f"the new key was not accepted as {user_arn} "
                         f"within {drill.options.propagation_timeout:g} s "
                         f"({waited.tries}, last answer: {waited.last})")
    return None


def health_check(drill: Drill, detail: dict[str, Any]) -> str | None:
    o = drill.options
    if not o.health_command and not o.health_url:
        return "no --health-command or --health-url"
    waited = wait_healthy(o.health_command, o.health_url, o.health_timeout,
                          o.command_timeout, drill.sleep)
    detail.update(waited.as_dict())
    detail["last"] = drill.redactor.redact(waited.last)
    if not waited.ok:
        raise StepFailed(StepName.HEALTH.value,
                         f"unhealthy after {o.health_timeout:g} s: {detail['last']}")
    return None


def deactivate_old_key(drill: Drill, detail: dict[str, Any]) -> str | None:
    old_key_id = drill.j.state.old_key_id
    try:
        drill.iam.update_access_key(UserName=drill.user, AccessKeyId=old_key_id,
                                    Status="Inactive")
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":  # a resumed drill may have deleted it already
            raise
    record = drill.store.load_drill(drill.j.drill_id)
    rotation = record.rotation_seconds  # measured once: a resume does not restart it
    if rotation is None:
        rotation = (drill.now() - record.started_at).total_seconds()
        drill.j.set_status(DrillStatus.RUNNING, rotation_seconds=rotation)
    detail.update({"old_key_id": old_key_id, "rotation_seconds": round(rotation, 3)})
    return None


def verify_old_key_rejected(drill: Drill, detail: dict[str, Any]) -> str | None:
    old = drill.old if drill.old is not None and drill.old.secret else None
    if old is None:
        old = drill.remember(drill.target.previous(drill.target_state()))
    if old is None or not old.secret:
        # the secret died with a killed process: IAM's status is the only proof left
        status = old_key_status(drill)
        if status == "Active":
            raise StepFailed(StepName.VERIFY_OLD.value,
                             f"the old key {drill.j.state.old_key_id} is still Active")
        detail.update({"old_key_check": OldKeyCheck.STATUS_ONLY.value,
                       "status": status or "deleted"})
        drill.j.state.old_key_check = OldKeyCheck.STATUS_ONLY.value
        drill.j.save()
        return None
    waited = wait_rejected(drill.ctx, old, drill.options.propagation_timeout, drill.sleep)
    detail.update(waited.as_dict())
    if not waited.ok:
        raise StepFailed(StepName.VERIFY_OLD.value,
                         f"the old key {old.key_id} is inactive but was still accepted "
                         f"after {drill.options.propagation_timeout:g} s "
                         f"({waited.tries}, last answer: {waited.last})")
    detail["old_key_check"] = OldKeyCheck.REFUSED.value
    drill.j.state.old_key_check = OldKeyCheck.REFUSED.value
    drill.j.save()
    return None


def delete_old_key(drill: Drill, detail: dict[str, Any]) -> str | None:
    old_key_id = drill.j.state.old_key_id
    if not drill.options.delete_old:
        return "kept inactive for the investigation (--delete-old deletes it)"
    drill.delete_key(old_key_id)
    detail["deleted"] = old_key_id
    return None


# -- the table -----------------------------------------------------------------------

STEPS: tuple[Step, ...] = (
    Step(StepName.CREATE_KEY, create_key, changes=True,
         undo=Undo(StepName.DELETE_NEW, delete_new_keys)),
    Step(StepName.PUBLISH, publish, changes=True,
         undo=Undo(StepName.RESTORE_TARGET, restore_target)),
    Step(StepName.RESTART, restart, changes=True,
         undo=Undo(StepName.ROLLBACK_RESTART, restart_on_old_key,
                   needed=has_restart_command)),
    Step(StepName.VERIFY_NEW, verify_new_key, changes=False),
    Step(StepName.HEALTH, health_check, changes=False),
    # the point of no return: from here on a failure is finished forward, never undone
    Step(StepName.DEACTIVATE_OLD, deactivate_old_key, changes=True),
    Step(StepName.VERIFY_OLD, verify_old_key_rejected, changes=False),
    Step(StepName.DELETE_OLD, delete_old_key, changes=True),
)
"""Every forward step after the preflight, in order."""

NO_RETURN = StepName.DEACTIVATE_OLD


def step_named(name: StepName) -> Step:
    return next(step for step in STEPS if step.name is name)


def steps_from(first: StepName) -> tuple[Step, ...]:
    """The table from `first` on (a resume starts where the drill stopped)."""
    return STEPS[STEPS.index(step_named(first)):]


ROLLBACK: tuple[Step, ...] = tuple(step_named(name) for name in (
    StepName.PUBLISH, StepName.CREATE_KEY, StepName.RESTART))
"""The steps a rollback undoes, in the order it undoes them (each only if the step ever
started): the keys are put right first (the target gets the old key back, then the new
key is deleted once the target no longer holds it), and the application restarts on the
old key last. A restart that fails leaves the keys right: it is reported on its own, and
the user restarts the application by hand."""
