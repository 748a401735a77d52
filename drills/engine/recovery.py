"""Recovery: the undo steps of a rollback, and the resume or rollback of a drill that
stopped (Ctrl-C, kill -9, a rollback that could not finish).

The rule an incident can trust: the application never loses a working key. A rollback
gives the target the old key again (setting it Active first when a deactivation may have
happened: IAM's reads lag its writes, so "still Active" is no proof), deletes the new key,
then restarts the application on the old one; a key is never deleted while the target
holds it, and a restart that fails is reported apart, the keys being right already.
The journal knows which keys existed before the drill, so a key created by a
drill that died before it could record the key's id is found (IAM may take a moment to
list it) and removed; its secret died with the process, so it cannot be in use. After a
restart the old secret comes back from the target's own storage, the new one from the
target itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.clock import iso
from auditor.errors import AwsUnavailable, UsageError
from auditor.redact import redacted_logs
from auditor.store import DrillRecord
from drills.engine.aws import AWS_ERRORS, aws_denied, describe_error, error_code
from drills.engine.state import StepFailure
from drills.errors import DrillUnfinished, StepFailed, TargetError
from drills.journal import Journal, user_lock
from drills.model import UNFINISHED, AccessKey, DrillStatus, StepName, StepState
from drills.verify import retry_until, run_command, wait_accepted

if TYPE_CHECKING:
    from drills.engine.drill import Drill


# -- the undo steps --------------------------------------------------------------------


def _reactivate_old(drill: Drill, old_key_id: str) -> bool:
    """Set the old key Active again, after a deactivation that may have been done.
    IAM is eventually consistent: right after an UpdateAccessKey whose answer was lost,
    ListAccessKeys may still say Active, and the old key may still be accepted for a
    while; trusting that read would put an inactive key back into the target. A
    refusal (the deactivation was surely refused the same way) leaves the read to
    decide."""
    from auditor.session import is_access_denied

    try:
        drill.iam.update_access_key(UserName=drill.user, AccessKeyId=old_key_id,
                                    Status="Active")
    except AWS_ERRORS as exc:
        if error_code(exc) == "NoSuchEntity" or is_access_denied(exc):
            return False
        raise
    return True


def old_key_status(drill: Drill) -> str | None:
    old_key_id = drill.j.state.old_key_id
    keys = drill.iam.list_access_keys(UserName=drill.user)["AccessKeyMetadata"]
    return next((str(k["Status"]) for k in keys if k["AccessKeyId"] == old_key_id), None)


def restore_target(drill: Drill, detail: dict[str, Any]) -> str | None:
    old_key_id = drill.j.state.old_key_id
    if drill.j.ever(StepName.DEACTIVATE_OLD) and _reactivate_old(drill, old_key_id):
        detail["reactivated"] = old_key_id
    if old_key_status(drill) != "Active":
        raise StepFailed(StepName.RESTORE_TARGET.value,
                         f"the old key {old_key_id} is no longer active: putting it back "
                         "would leave the application without a working key")
    drill.target.restore(old_key_id, drill.old, drill.target_state())
    back = drill.target.read()
    if back.key_id != old_key_id:
        raise StepFailed(StepName.RESTORE_TARGET.value,
                         f"{drill.target.spec} still holds {back.key_id} after the restore")
    detail["restored"] = old_key_id
    old = drill.old if drill.old is not None and drill.old.secret else None
    if old is None and back.secret:
        old = drill.remember(back)
    if old is not None:
        waited = wait_accepted(drill.ctx, old, drill.j.state.user_arn,
                               drill.options.propagation_timeout, drill.sleep)
        detail["old_key_works"] = waited.as_dict()
        if not waited.ok:
            raise StepFailed(StepName.RESTORE_TARGET.value,
                             f"the restored key {old_key_id} does not authenticate "
                             f"(last answer: {waited.last})")
    return None


def restart_on_old_key(drill: Drill, detail: dict[str, Any]) -> str | None:
    ok, what = run_command(drill.options.restart_command, drill.options.command_timeout)
    detail["result"] = drill.redactor.redact(what)
    if not ok:
        raise StepFailed(StepName.ROLLBACK_RESTART.value,
                         f"restart command {detail['result']}")
    return None


def _uncertain_creates(drill: Drill) -> list[datetime]:
    """When each create step began that may have made a key the drill never saw: it
    did not end DONE, and AWS did not refuse it outright."""
    steps = drill.store.load_drill(drill.j.drill_id).steps
    return [s.started_at for s in steps if s.name is StepName.CREATE_KEY
            and s.state is not StepState.DONE and not s.detail.get("no_key_made")]


def _created_keys(drill: Drill) -> list[str]:
    """Keys of the user that the drill made. When every create reported its key,
    only the recorded key; when one may have made a key unseen (its answer lost, the
    process killed), any key that was not there before and is not the old key."""
    state = drill.j.state
    before = set(state.keys_before)
    keys = drill.iam.list_access_keys(UserName=drill.user)["AccessKeyMetadata"]
    unknown = [k["AccessKeyId"] for k in keys
               if k["AccessKeyId"] not in before and k["AccessKeyId"] != state.old_key_id]
    if _uncertain_creates(drill):
        return unknown
    return [key_id for key_id in unknown if key_id == state.new_key_id]


def _unseen_key_deadline(drill: Drill) -> float:
    """Seconds to keep looking for a key a CreateAccessKey may have made unseen.
    IAM is eventually consistent: right after a create whose answer was lost,
    ListAccessKeys may not show the key yet. So while a create step that did not end
    DONE (and was not refused outright) is younger than the propagation timeout,
    an empty list is no proof; later, it is."""
    uncertain = _uncertain_creates(drill)
    if not uncertain:
        return 0.0
    timeout = drill.options.propagation_timeout
    age = (drill.now() - max(uncertain)).total_seconds()
    return max(0.0, min(timeout, timeout - age))


def delete_new_keys(drill: Drill, detail: dict[str, Any]) -> str | None:
    created = _created_keys(drill)
    wait = _unseen_key_deadline(drill) if not created else 0.0
    if wait > 0:
        def probe() -> tuple[bool, str]:
            created[:] = _created_keys(drill)
            return bool(created), f"{len(created)} key(s)"

        detail["looked_for_unseen_key"] = retry_until(probe, wait, drill.sleep).as_dict()
    if not created:
        return "no key of the drill is left"
    in_use = drill.target.read().key_id
    deleted = []
    for key_id in created:
        if key_id == in_use:
            raise StepFailed(StepName.DELETE_NEW.value,
                             f"{drill.target.spec} holds {key_id}: it is not deleted")
        drill.delete_key(key_id)
        deleted.append(key_id)
    detail["deleted"] = deleted
    drill.j.state.deleted_keys = sorted({*drill.j.state.deleted_keys, *deleted})
    drill.j.save()
    return None


# -- resume and rollback of a stopped drill ----------------------------------------------


@contextmanager
def reopened(drill: Drill, record: DrillRecord) -> Iterator[None]:
    """Lock, reopen the journal and mark the drill RUNNING again."""
    identity = drill.ctx.identity()
    if identity.account_id != record.account_id:
        raise UsageError(f"drill {record.drill_id} ran in account {record.account_id}; "
                         f"these credentials are for {identity.account_id}")
    with redacted_logs(drill.redactor), user_lock(
            drill.store, record.account_id, record.user, f"drill {record.drill_id}"):
        fresh = drill.store.load_drill(record.drill_id)
        if fresh.status not in UNFINISHED:
            raise UsageError(f"drill {record.drill_id} is {fresh.status}: nothing to do")
        drill.journal = Journal.reopen(drill.store, record.drill_id)
        drill.j.state.options = drill.options  # with the corrections it was given, if any
        drill.j.save()
        drill.j.set_status(DrillStatus.RUNNING)
        with drill.flag_on_error():
            yield


def _read_target(drill: Drill) -> AccessKey:
    try:
        return drill.remember(drill.target.read())
    except TargetError:
        drill.j.set_status(DrillStatus.NEEDS_ATTENTION)
        raise
    except AWS_ERRORS as exc:
        drill.j.set_status(DrillStatus.NEEDS_ATTENTION)
        raise AwsUnavailable(f"cannot read {drill.target.spec}: "
                             f"{drill.redactor.redact(describe_error(exc))}") from None


def _read_previous(drill: Drill) -> AccessKey | None:
    """The old key as the target kept it (resume, rollback): an AWS error here is one
    line for the CLI, and the drill is left for a later resume or rollback."""
    try:
        return drill.remember(drill.target.previous(drill.target_state()))
    except AWS_ERRORS as exc:
        drill.j.set_status(DrillStatus.NEEDS_ATTENTION)
        raise AwsUnavailable(f"cannot read the old key kept by {drill.target.spec}: "
                             f"{drill.redactor.redact(describe_error(exc))}") from None


def resume(drill: Drill, record: DrillRecord) -> DrillRecord:
    """Finish a stopped drill forward from where it is safe to go on."""
    with reopened(drill, record):
        journal = drill.j
        journal.state.resumed_at = [*journal.state.resumed_at, iso(drill.now())]
        journal.save()
        old_key_id = journal.state.old_key_id
        new_key_id = journal.state.new_key_id
        current = _read_target(drill)
        try:
            deactivated = journal.ever(StepName.DEACTIVATE_OLD) and \
                old_key_status(drill) != "Active"
        except AWS_ERRORS as exc:
            journal.set_status(DrillStatus.NEEDS_ATTENTION)
            raise aws_denied("iam:ListAccessKeys", exc) from None
        if deactivated or journal.ever(StepName.DEACTIVATE_OLD, StepState.DONE):
            # past the point of no return: finish forward, but only while the target
            # holds the new key; otherwise --delete-old could delete the key in use
            if current.key_id != new_key_id:
                journal.set_status(DrillStatus.NEEDS_ATTENTION)
                raise DrillUnfinished(
                    f"{drill.target.spec} now holds {current.key_id}, not the drill's new "
                    f"key {new_key_id or '(none)'}, and the drill already deactivated the "
                    f"old key {old_key_id}: put the new key back there by hand, "
                    f"then run `irready drill resume {record.drill_id}`")
            drill.new = current
            drill.old = _read_previous(drill)
            drill.execute(StepName.VERIFY_OLD if journal.ever(
                StepName.DEACTIVATE_OLD, StepState.DONE) else StepName.DEACTIVATE_OLD)
        elif current.key_id == old_key_id:
            # the new key (if any) never reached the target and its secret is lost
            drill.old = current
            _delete_orphans_then_go_on(drill)
        elif new_key_id and current.key_id == new_key_id:
            drill.new = current
            drill.old = _read_previous(drill)
            drill.execute(StepName.RESTART)
        else:
            journal.set_status(DrillStatus.NEEDS_ATTENTION)
            raise DrillUnfinished(
                f"{drill.target.spec} now holds {current.key_id}, neither the old key "
                f"{old_key_id} nor the drill's new key {new_key_id or '(none)'}: put a "
                f"working key of {record.user} there by hand, then resume or roll back")
    return drill.store.load_drill(record.drill_id)


def _delete_orphans_then_go_on(drill: Drill) -> None:
    """Delete keys a cut-off drill created but never published, then run every step
    after the preflight again."""
    try:
        if drill.j.ever(StepName.CREATE_KEY):
            drill.step(StepName.DELETE_ORPHAN, delete_new_keys)
    except StepFailed as failure:
        drill.j.state.failure = StepFailure(failure.step, failure.reason)
        drill.j.save()
        drill.j.set_status(DrillStatus.NEEDS_ATTENTION)
        return
    except KeyboardInterrupt:
        drill.interrupted()
    drill.new = None
    drill.execute(StepName.CREATE_KEY)


def rollback(drill: Drill, record: DrillRecord) -> DrillRecord:
    """Undo a stopped drill that has not deactivated the old key."""
    with reopened(drill, record):
        journal = drill.j
        old_key_id = journal.state.old_key_id
        try:
            status = old_key_status(drill)
        except AWS_ERRORS as exc:
            journal.set_status(DrillStatus.NEEDS_ATTENTION)
            raise aws_denied("iam:ListAccessKeys", exc) from None
        if status != "Active" or journal.ever(StepName.DEACTIVATE_OLD, StepState.DONE):
            journal.set_status(DrillStatus.NEEDS_ATTENTION)
            raise UsageError(
                f"drill {record.drill_id} already deactivated the old key {old_key_id}: "
                "the application runs on the new key, so there is nothing to roll back; "
                f"run `irready drill resume {record.drill_id}` to finish it")
        current = _read_target(drill)
        drill.old = current if current.key_id == old_key_id else _read_previous(drill)
        journal.state.rollback_requested_at = iso(drill.now())
        journal.save()
        drill.roll_back_or_flag(DrillStatus.ROLLED_BACK)
    return drill.store.load_drill(record.drill_id)
