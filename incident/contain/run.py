"""The containment's run: the plan's actions in order, each journaled in the history store
before it acts and after it ends, so one cut off anywhere (Ctrl-C, kill -9, lost network)
is shown and finished by `contain resume`. The rotation is the drill engine's, on the real
user: the application gets a new working key before the exposed key is made inactive, and
the exposed key is never deleted. Time to safe runs from the start to the exposed key
verified inactive. Taking it back (`undo`, `release`) is incident.contain.undo."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.awsfacts.iam import QUARANTINE_TAG
from auditor.clock import iso, parse_iso, utcnow
from auditor.errors import ExitCode, IrreadyError, UsageError
from auditor.store import ContainmentRecord
from drills.engine.aws import AWS_ERRORS, describe_error, error_code
from drills.errors import DrillBusy, DrillUnfinished
from drills.verify import Sleep, retry_until
from incident.contain.lock import ContainmentLock, refuse_unfinished
from incident.contain.model import (
    REVOKE_POLICY,
    SAFETY,
    ActionName,
    ContainOptions,
    ContainPlan,
    ContainStatus,
    revoke_document,
)
from incident.contain.plan import drill_config, make_plan

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

Clock = Callable[[], datetime]
Say = Callable[[str], None]


class ContainUnfinished(IrreadyError):
    """A containment stopped before it was safe; the message says how to finish it."""

    exit_code = int(ExitCode.UNFINISHED)


class ActionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_containment_id(at: datetime) -> str:
    return f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class Containment:
    """One containment: its plan, its journal (a dict saved after every change)."""

    def __init__(self, ctx: AwsContext, config: Config, store: HistoryStore,
                 record: ContainmentRecord, *, clock: Clock, sleep: Sleep,
                 say: Say | None) -> None:
        self.ctx, self.config, self.store = ctx, config, store
        self.record = record
        self.journal: dict[str, Any] = record.journal
        self.options = ContainOptions.from_dict(self.journal["options"])
        self.clock, self.sleep, self.say = clock, sleep, say or (lambda _: None)
        self.status = ContainStatus(record.status)

    @property
    def id(self) -> str:
        return self.record.containment_id

    @property
    def user(self) -> str:
        return self.record.user

    def save(self, status: ContainStatus | None = None, *, finished: bool = False,
             safe_seconds: float | None = None) -> None:
        self.status = status or self.status
        self.store.save_containment(self.id, journal=self.journal, status=self.status.value,
                                    finished_at=self.clock() if finished else None,
                                    safe_seconds=safe_seconds)

    # -- the walk ------------------------------------------------------------------------

    def walk(self) -> ContainStatus:
        for entry in self.journal["actions"]:
            if entry.get("state") == "done":
                continue
            name = ActionName(entry["name"])
            entry.update({"state": "started", "started_at": iso(self.clock())})
            entry.pop("error", None)
            self.save(ContainStatus.RUNNING)
            self.say(f"{name.value}: {entry['what']}")
            try:
                detail = ACTIONS[name](self, entry["subject"])
            except KeyboardInterrupt:
                entry["state"] = "interrupted"
                self.save(ContainStatus.INTERRUPTED)
                raise ContainUnfinished(
                    f"containment {self.id} was interrupted during {name.value}; run "
                    f"`irready contain resume {self.id}` to finish it") from None
            except DrillUnfinished as exc:
                entry.update({"state": "interrupted", "error": exc.message})
                self.save(ContainStatus.INTERRUPTED)
                raise ContainUnfinished(
                    f"containment {self.id}: the rotation stopped ({exc.message}); run "
                    f"`irready contain resume {self.id}`, which finishes it") from None
            except ActionFailed as failure:
                return self._failed(entry, name, failure.reason)
            except AWS_ERRORS as exc:
                return self._failed(entry, name, describe_error(exc))
            except IrreadyError as exc:  # the drill's preflight refused (a target, a lock)
                return self._failed(entry, name, exc.message)
            entry.update({"state": "done", "finished_at": iso(self.clock()),
                          "detail": detail})
            self.save()
        safe_at = max((parse_iso(e["finished_at"]) for e in self.journal["actions"]
                       if ActionName(e["name"]) in SAFETY), default=self.clock())
        safe = (safe_at - self.record.started_at).total_seconds()
        self.journal["outcome"] = (
            f"{self.options.key_id} is inactive and kept for the investigation"
            + (f"; {self.user}'s application runs on a new key" if self.journal["plan"]
               ["target"] else "; nothing was rotated (--block-now)"))
        drill_failure = (self._entry(ActionName.ROTATE).get("detail") or {}).get("drill_failure")
        if drill_failure:
            self.journal["outcome"] += (f"; but the drill reported: {drill_failure} (IAM shows the "
                                        "key Inactive; check again with `aws sts "
                                        "get-caller-identity` signed with it)")
        self.save(ContainStatus.SAFE, finished=True, safe_seconds=safe)
        return self.status

    def _failed(self, entry: dict[str, Any], name: ActionName, reason: str) -> ContainStatus:
        entry.update({"state": "failed", "finished_at": iso(self.clock()), "error": reason})
        if name is ActionName.ROTATE and entry.get("rolled_back"):
            self.journal["outcome"] = (
                f"the rotation failed and was rolled back ({reason}): {self.options.key_id} "
                "is still active because the application needs it; fix the cause and run "
                "`irready contain run` again, or pass --block-now")
            self.save(ContainStatus.FAILED, finished=True)
        else:
            self.journal["outcome"] = (f"{name.value} failed ({reason}); run `irready "
                                       f"contain resume {self.id}` once the cause is fixed")
            self.save(ContainStatus.NEEDS_ATTENTION)
        return self.status

    # -- the actions ---------------------------------------------------------------------

    def deactivate_backdoor(self, key_id: str) -> dict[str, Any]:
        iam = self.ctx.client("iam")
        detail: dict[str, Any] = {"key_id": key_id}
        try:
            used = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
            detail["last_used"] = {k: str(v) for k, v in used.items()}
        except AWS_ERRORS as exc:  # the record of its use is a nicety, not a condition
            detail["last_used_error"] = describe_error(exc)
        try:
            iam.update_access_key(UserName=self.user, AccessKeyId=key_id, Status="Inactive")
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":  # a resumed run may have deleted it
                raise
        return detail

    def rotate(self, key_id: str) -> dict[str, Any]:
        from drills.model import DrillOptions, DrillStatus, StepName, StepState
        from drills.rotation import resume_drill, run_drill

        config = drill_config(self.config, self.user)
        entry = self._entry(ActionName.ROTATE)
        drill_id = entry.get("drill_id") or self._drill_started_since()
        if drill_id:
            record = self.store.load_drill(drill_id)
            if record.status.unfinished:
                record = resume_drill(self.ctx, config, self.store, drill_id, sleep=self.sleep)
        else:
            def remember(event: Any) -> None:
                if not entry.get("drill_id"):
                    entry["drill_id"] = event.drill_id
                    self.save()

            options = DrillOptions(
                user=self.user, target=self.journal["plan"]["target"],
                make_room=bool(self.journal["plan"]["backdoor_keys"]),
                restart_command=self.options.restart_command,
                health_command=self.options.health_command,
                health_url=self.options.health_url,
                propagation_timeout=self.options.propagation_timeout,
                health_timeout=float(self.config.drill.health_timeout_seconds),
                command_timeout=float(self.config.drill.command_timeout_seconds))
            try:
                record = run_drill(self.ctx, config, self.store, options, on_event=remember,
                                   sleep=self.sleep)
            except DrillBusy as exc:
                raise ActionFailed(exc.message) from None
            entry["drill_id"] = record.drill_id
        if record.detail.get("old_key_id") not in ("", None, key_id):
            raise ActionFailed(f"drill {record.drill_id} rotated {record.detail['old_key_id']}"
                               f", not {key_id}")
        detail = {"drill_id": record.drill_id, "new_key_id": record.detail.get("new_key_id"),
                  "old_key_check": record.detail.get("old_key_check"),
                  "rotation_seconds": record.rotation_seconds}
        if record.status is DrillStatus.SUCCEEDED:
            return detail
        past_no_return = any(step.name is StepName.DEACTIVATE_OLD
                             and step.state is StepState.DONE for step in record.steps)
        if record.status is DrillStatus.FAILED and past_no_return:
            # the application runs on the new key and the exposed key was deactivated; a
            # later step (AWS still accepting it, say) failed: verify_blocked decides
            return {**detail, "drill_failure": str(record.detail.get("outcome") or "")}
        entry["rolled_back"] = bool(record.detail.get("rolled_back"))
        raise ActionFailed(str(record.detail.get("outcome") or record.status))

    def block(self, key_id: str) -> dict[str, Any]:
        self.ctx.client("iam").update_access_key(UserName=self.user, AccessKeyId=key_id,
                                                 Status="Inactive")
        return {"key_id": key_id}

    def revoke_sessions(self, user: str) -> dict[str, Any]:
        issued_before = iso(self.clock())
        self.ctx.client("iam").put_user_policy(
            UserName=user, PolicyName=REVOKE_POLICY,
            PolicyDocument=json.dumps(revoke_document(issued_before)))
        return {"user": user, "policy_name": REVOKE_POLICY, "issued_before": issued_before}

    def revoke_role(self, role: str) -> dict[str, Any]:
        issued_before = iso(self.clock())
        self.ctx.client("iam").put_role_policy(
            RoleName=role, PolicyName=REVOKE_POLICY,
            PolicyDocument=json.dumps(revoke_document(issued_before)))
        return {"role": role, "policy_name": REVOKE_POLICY, "issued_before": issued_before}

    def quarantine(self, arn: str) -> dict[str, Any]:
        iam = self.ctx.client("iam")
        attached = iam.list_attached_user_policies(UserName=self.user)["AttachedPolicies"]
        if any(p["PolicyArn"] == arn for p in attached):
            entry = self._entry(ActionName.QUARANTINE)
            # attached before this action began: AWS's (or another's), never detached by undo
            if not entry.get("attaching"):
                return {"policy_arn": arn, "attached_by_irready": False}
            return {"policy_arn": arn, "attached_by_irready": True}
        self._entry(ActionName.QUARANTINE)["attaching"] = True
        self.save()  # before the call: a resume must know the attachment may be ours
        # the tag tells the audit (iam.quarantine_policy) that irready attached it
        iam.tag_user(UserName=self.user, Tags=[{"Key": QUARANTINE_TAG, "Value": self.id}])
        iam.attach_user_policy(UserName=self.user, PolicyArn=arn)
        return {"policy_arn": arn, "attached_by_irready": True}

    def deactivate_follow_up_key(self, key_id: str) -> dict[str, Any]:
        iam = self.ctx.client("iam")
        try:
            owner = str(iam.get_access_key_last_used(AccessKeyId=key_id).get("UserName", ""))
            iam.update_access_key(UserName=owner, AccessKeyId=key_id, Status="Inactive")
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return {"key_id": key_id, "gone": True}
        return {"key_id": key_id, "user": owner}

    def delete_login_profile(self, user: str) -> dict[str, Any]:
        try:
            self.ctx.client("iam").delete_login_profile(UserName=user)
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return {"user": user, "gone": True}
        return {"user": user}

    def verify_blocked(self, key_id: str) -> dict[str, Any]:
        iam = self.ctx.client("iam")

        def probe() -> tuple[bool, str]:
            try:
                listed = iam.list_access_keys(UserName=self.user)["AccessKeyMetadata"]
            except AWS_ERRORS as exc:
                return False, error_code(exc)
            status = next((str(k["Status"]) for k in listed if k["AccessKeyId"] == key_id),
                          "deleted")
            return status != "Active", status

        waited = retry_until(probe, self.options.propagation_timeout, self.sleep)
        if not waited.ok:
            raise ActionFailed(f"{key_id} is still {waited.last} after "
                               f"{self.options.propagation_timeout:g} s ({waited.tries})")
        rotated = self._entry(ActionName.ROTATE).get("detail") or {}
        return {**waited.as_dict(), "refused_by_aws": rotated.get("old_key_check") == "refused"}

    # -- helpers -------------------------------------------------------------------------

    def _entry(self, name: ActionName) -> dict[str, Any]:
        return next((e for e in self.journal["actions"] if e["name"] == name.value), {})

    def _drill_started_since(self) -> str:
        """A drill this containment began whose id it had no time to write (kill -9)."""
        for record in self.store.drills(account_id=self.record.account_id, user=self.user,
                                        since=self.record.started_at):
            return record.drill_id
        return ""


ACTIONS: dict[ActionName, Callable[[Containment, str], dict[str, Any]]] = {
    ActionName.DEACTIVATE_BACKDOOR: Containment.deactivate_backdoor,
    ActionName.ROTATE: Containment.rotate,
    ActionName.BLOCK: Containment.block,
    ActionName.VERIFY_BLOCKED: Containment.verify_blocked,
    ActionName.REVOKE_SESSIONS: Containment.revoke_sessions,
    ActionName.REVOKE_ROLE: Containment.revoke_role,
    ActionName.QUARANTINE: Containment.quarantine,
    ActionName.DEACTIVATE_FOLLOW_UP_KEY: Containment.deactivate_follow_up_key,
    ActionName.DELETE_LOGIN_PROFILE: Containment.delete_login_profile,
}


def plan_containment(ctx: AwsContext, config: Config, store: HistoryStore,
                     options: ContainOptions, *, clock: Clock = utcnow) -> ContainPlan:
    """The plan; changes nothing in AWS (a new investigation is stored)."""
    return make_plan(ctx, config, store, options, clock=clock)


def run_containment(ctx: AwsContext, config: Config, store: HistoryStore,
                    options: ContainOptions, *, clock: Clock = utcnow,
                    sleep: Sleep = time.sleep, say: Say | None = None) -> ContainmentRecord:
    started = clock()
    plan = make_plan(ctx, config, store, options, clock=clock)
    refuse_unfinished(store, plan.account_id, plan.key_id)
    containment_id = new_containment_id(started)
    with ContainmentLock(store, plan.account_id, plan.key_id, containment_id):
        record = ContainmentRecord(
            containment_id, plan.account_id, plan.user, plan.key_id,
            ContainStatus.RUNNING.value, started, None, None,
            {"options": options.as_dict(), "plan": plan.as_dict(), "outcome": "",
             "actions": [{**a.as_dict(), "state": "pending"} for a in plan.actions]})
        store.begin_containment(record)
        Containment(ctx, config, store, record, clock=clock, sleep=sleep, say=say).walk()
    return store.load_containment(containment_id)


def resume_containment(ctx: AwsContext, config: Config, store: HistoryStore,
                       containment_id: str, *, clock: Clock = utcnow,
                       sleep: Sleep = time.sleep, say: Say | None = None
                       ) -> ContainmentRecord:
    record = store.load_containment(containment_id)
    if not ContainStatus(record.status).unfinished:
        raise UsageError(f"containment {containment_id} is {record.status}: nothing to resume")
    with ContainmentLock(store, record.account_id, record.key_id, containment_id):
        Containment(ctx, config, store, record, clock=clock, sleep=sleep, say=say).walk()
    return store.load_containment(containment_id)


