"""Taking a containment back: `undo` reactivates the exposed key (for an application
that broke) and lifts what irready put (the session denies, a quarantine policy it
attached); `release` lifts only the session denies, once every session they cut off has
expired. A key the attacker made is never brought back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.awsfacts.iam import QUARANTINE_TAG
from auditor.clock import iso, parse_iso, utcnow
from auditor.errors import UsageError
from auditor.store import ContainmentRecord
from drills.engine.aws import AWS_ERRORS, describe_error, error_code
from incident.contain.lock import ContainmentLock
from incident.contain.model import LONGEST_SESSION_HOURS, REVOKE_POLICY, ActionName, ContainStatus

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

Clock = Callable[[], datetime]


def undo_containment(ctx: AwsContext, config: Config, store: HistoryStore,
                     containment_id: str, *, clock: Clock = utcnow) -> ContainmentRecord:
    """Reactivate the exposed key (for an application that broke). A key the attacker made
    stays inactive; the application's new key, if any, stays as it is."""
    record = store.load_containment(containment_id)
    status = ContainStatus(record.status)
    if status is ContainStatus.UNDONE:
        raise UsageError(f"containment {containment_id} is undone already")
    with ContainmentLock(store, record.account_id, record.key_id, containment_id):
        journal = record.journal
        rotate = next((e for e in journal["actions"] if e["name"] == ActionName.ROTATE.value),
                      None)
        if rotate is not None and rotate.get("drill_id"):
            drill = store.load_drill(rotate["drill_id"])
            if drill.status.unfinished:
                raise UsageError(f"containment {containment_id}'s rotation (drill "
                                 f"{drill.drill_id}) is unfinished: run `irready contain "
                                 f"resume {containment_id}` first")
        undone = _remove_denies(ctx, journal, clock)
        try:
            ctx.client("iam").update_access_key(UserName=record.user, AccessKeyId=record.key_id,
                                                Status="Active")
        except AWS_ERRORS as exc:
            raise UsageError(f"iam:UpdateAccessKey {record.key_id} Active failed "
                             f"({describe_error(exc)})") from None
        undone.append({"action": "reactivate", "key_id": record.key_id, "at": iso(clock())})
        journal["undo"] = [*journal.get("undo", []), *undone]
        journal["outcome"] = (f"undone: {record.key_id} is active again (it is still exposed:"
                              " rotate it as soon as the application can take a new key)")
        store.save_containment(containment_id, journal=journal,
                               status=ContainStatus.UNDONE.value, finished_at=clock())
    return store.load_containment(containment_id)


def release_containment(ctx: AwsContext, store: HistoryStore, containment_id: str, *,
                        clock: Clock = utcnow) -> ContainmentRecord:
    """Remove the session denies once the longest session lifetime has passed: every
    session they cut off has expired by then."""
    from datetime import timedelta

    record = store.load_containment(containment_id)
    journal = record.journal
    revoked = [e for e in journal["actions"] if e["name"] in
               (ActionName.REVOKE_SESSIONS.value, ActionName.REVOKE_ROLE.value)
               and e.get("state") == "done" and not e.get("released")]
    if not revoked:
        raise UsageError(f"containment {containment_id} holds no session deny to release")
    latest = max(parse_iso(e["detail"]["issued_before"]) for e in revoked)
    ready = latest + timedelta(hours=LONGEST_SESSION_HOURS)
    if clock() < ready:
        raise UsageError(f"containment {containment_id}: sessions issued before "
                         f"{iso(latest)} may last until {iso(ready)} "
                         f"({LONGEST_SESSION_HOURS} h); release after that, or `contain "
                         "undo` to lift everything now")
    with ContainmentLock(store, record.account_id, record.key_id, containment_id):
        released = _remove_denies(ctx, journal, clock, quarantine=False)
        journal["undo"] = [*journal.get("undo", []), *released]
        store.save_containment(containment_id, journal=journal, status=record.status)
    return store.load_containment(containment_id)


def _remove_denies(ctx: AwsContext, journal: dict[str, Any], clock: Clock, *,
                   quarantine: bool = True) -> list[dict[str, Any]]:
    """Delete every session deny this containment put (and only those), and detach the
    quarantine policy when irready attached it (`quarantine`), journaled."""
    iam = ctx.client("iam")
    removed: list[dict[str, Any]] = []
    for entry in journal["actions"]:
        if entry.get("released") or entry.get("state") not in ("done", "started", "failed"):
            continue
        try:
            if entry["name"] == ActionName.QUARANTINE.value:
                if not quarantine or not (entry.get("attaching") or (entry.get("detail") or {}).get(
                        "attached_by_irready")):
                    continue  # AWS attached it, or irready never did: never detached here
                iam.detach_user_policy(UserName=journal["plan"]["user"],
                                       PolicyArn=entry["subject"])
                iam.untag_user(UserName=journal["plan"]["user"], TagKeys=[QUARANTINE_TAG])
            elif entry["name"] == ActionName.REVOKE_SESSIONS.value:
                iam.delete_user_policy(UserName=entry["subject"], PolicyName=REVOKE_POLICY)
            elif entry["name"] == ActionName.REVOKE_ROLE.value:
                iam.delete_role_policy(RoleName=entry["subject"], PolicyName=REVOKE_POLICY)
            else:
                continue
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise UsageError(f"undoing {entry['name']} on {entry['subject']} failed "
                                 f"({describe_error(exc)})") from None
        entry["released"] = True
        removed.append({"action": "detach_quarantine" if entry["name"] == "quarantine"
                        else "remove_deny", "subject": entry["subject"], "at": iso(clock())})
    return removed
