"""Whose key it is, asked of AWS before any log is read: STS names the account of any
key id (a key of another account is refused: its logs are there, not here), IAM names
the user of a long-term key. Neither call is needed to search a forensic copy, and
neither is fatal: what cannot be asked is said, and the owner then comes from the
logs' own userIdentity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.errors import UsageError
from auditor.session import error_code, is_access_denied
from incident.investigate.keyids import is_session_key
from incident.investigate.model import Owner, OwnerType
from incident.investigate.record_fields import text

if TYPE_CHECKING:
    from auditor.session import AwsContext

ROOT_NAMES = ("root", "<root_account>")


@dataclass(frozen=True, slots=True)
class OwnerLookup:
    owner: Owner | None  # None: AWS did not name it; the logs will
    account_id: str | None  # the key's account, when STS or IAM told
    notes: tuple[str, ...]  # what could not be asked, and why (the permission named)


def look_up_owner(ctx: AwsContext, key_id: str, caller_account: str) -> OwnerLookup:
    notes: list[str] = []
    account: str | None = None
    try:
        account = str(ctx.client("sts").get_access_key_info(AccessKeyId=key_id)["Account"])
    except Exception as exc:  # noqa: BLE001 - a lookup that fails is noted, not fatal
        notes.append(_why("sts:GetAccessKeyInfo", exc))
    if account is not None and account != caller_account:
        raise UsageError(f"{key_id} belongs to account {account}, not {caller_account}: its "
                         f"calls are logged there; run irready with credentials of account "
                         f"{account}")
    if is_session_key(key_id):
        notes.append("a session key (ASIA...) has no IAM owner: the role session or user "
                     "that used it is read from the logs")
        return OwnerLookup(None, account, tuple(notes))
    try:
        answer = ctx.client("iam").get_access_key_last_used(AccessKeyId=key_id)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "NoSuchEntity":
            notes.append("IAM names no user for this key: the root user's key (IAM does not "
                         "list those) or a deleted one; the owner is read from the logs")
        else:
            notes.append(_why("iam:GetAccessKeyLastUsed", exc))
        return OwnerLookup(None, account, tuple(notes))
    user = str(answer.get("UserName") or "")
    account = account or caller_account
    if user in ROOT_NAMES:
        return OwnerLookup(Owner(OwnerType.ROOT, f"arn:aws:iam::{account}:root", "", False),
                           account, tuple(notes))
    return OwnerLookup(Owner(OwnerType.IAM_USER, f"arn:aws:iam::{account}:user/{user}", user,
                             False), account, tuple(notes))


def _why(action: str, exc: BaseException) -> str:
    if is_access_denied(exc):
        return f"{action} was denied: the owner is read from the logs instead"
    return f"{action} failed ({error_code(exc)}): the owner is read from the logs instead"


def owner_from_logs(identity: dict[str, object]) -> Owner:
    """The owner as the key's own events name it (userIdentity)."""
    kind = text(identity.get("type"))
    arn = text(identity.get("arn"))
    try:
        owner_type = OwnerType(kind)
    except ValueError:
        owner_type = OwnerType.UNKNOWN
    user = text(identity.get("userName")) if owner_type is OwnerType.IAM_USER else ""
    return Owner(owner_type, arn, user, True)
