"""The credentials a call minted, read from its response: the session keys of
GetSessionToken, GetFederationToken and AssumeRole*, and the long-term key of
CreateAccessKey. AWS's credential-compromise playbook asks to follow each of them,
since deactivating the leaked key leaves every one of them working."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident.investigate.model import CredentialKind
from incident.investigate.record_fields import (
    event_name,
    event_time,
    identity,
    mapping,
    parse_time,
    partition,
    response,
    succeeded,
    text,
)

ASSUME_ROLE_EVENTS = frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"})
SESSION_EVENTS = frozenset({"GetSessionToken", "GetFederationToken", *ASSUME_ROLE_EVENTS})


@dataclass(frozen=True, slots=True)
class Minted:
    access_key_id: str
    kind: CredentialKind  # SESSION or CREATED
    event_id: str
    minted_at: datetime
    expires: datetime | None  # sessions only; None for created keys or an unreadable date
    account_id: str  # the account the credential acts in
    principal_arn: str  # the role session, federated user, user of the session or key


def minted_by(record: dict[str, Any]) -> Minted | None:
    """The credential a successful minting call returned; None for any other record,
    a failed call, or a response that does not hold a key id."""
    name = event_name(record)
    if not succeeded(record) or (name not in SESSION_EVENTS and name != "CreateAccessKey"):
        return None
    minted_at = event_time(record)
    if minted_at is None:
        return None
    if name == "CreateAccessKey":
        return _created_key(record, minted_at)
    return _session(record, name, minted_at)


def _session(record: dict[str, Any], name: str, minted_at: datetime) -> Minted | None:
    elements = response(record)
    credentials = mapping(elements.get("credentials"))
    key = text(credentials.get("accessKeyId"))
    if not key:
        return None
    if name in ASSUME_ROLE_EVENTS:
        arn = text(mapping(elements.get("assumedRoleUser")).get("arn"))
        account = _account_of(arn)
    elif name == "GetFederationToken":
        arn = text(mapping(elements.get("federatedUser")).get("arn"))
        account = _account_of(arn)
    else:  # GetSessionToken: the session acts as the user who asked for it
        arn = text(identity(record).get("arn"))
        account = ""
    account = account or _recipient(record)
    return Minted(key, CredentialKind.SESSION, text(record.get("eventID")), minted_at,
                  parse_time(credentials.get("expiration")), account, arn)


def _created_key(record: dict[str, Any], minted_at: datetime) -> Minted | None:
    access_key = mapping(response(record).get("accessKey"))
    key = text(access_key.get("accessKeyId"))
    if not key:
        return None
    account = _recipient(record)
    user = text(access_key.get("userName"))
    arn = f"arn:{partition(record)}:iam::{account}:user/{user}" if user and account else ""
    return Minted(key, CredentialKind.CREATED, text(record.get("eventID")), minted_at,
                  None, account, arn)


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _recipient(record: dict[str, Any]) -> str:
    return text(record.get("recipientAccountId")) or text(identity(record).get("accountId"))
