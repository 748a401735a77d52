"""The vocabulary of a containment: what the user asked for, the actions of a plan (each
with the AWS call behind it and what undoes it), and the statuses a containment goes
through. Kept apart from the run so the CLI can name them without importing boto3."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

P1_ROOT = ("a root access key: this is a P1. Contact AWS Support now, delete the root "
           "user's access keys from the console (Security credentials), and audit what root "
           "did (`irready investigate KEY`); irready does not touch root keys")


class ContainStatus(StrEnum):
    """RUNNING while actions run (or after a kill -9); SAFE: the exposed key is inactive
    and everything asked is done; FAILED: the rotation failed and was rolled back (the
    exposed key is still active: the application needs it); NEEDS_ATTENTION: something
    could not finish, `contain resume` carries on; UNDONE: `contain undo` reversed it."""

    RUNNING = "running"
    SAFE = "safe"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    NEEDS_ATTENTION = "needs_attention"
    UNDONE = "undone"

    @property
    def unfinished(self) -> bool:
        return self in (ContainStatus.RUNNING, ContainStatus.INTERRUPTED,
                        ContainStatus.NEEDS_ATTENTION)


class ActionName(StrEnum):
    """The actions of a containment, in the order a run takes them."""

    DEACTIVATE_BACKDOOR = "deactivate_backdoor"  # make room: a second key the attacker made
    ROTATE = "rotate"  # the drill engine: new key, publish, verify, deactivate exposed
    BLOCK = "block"  # --block-now: deactivate the exposed key without rotating
    VERIFY_BLOCKED = "verify_blocked"  # the exposed key is refused / Inactive
    REVOKE_SESSIONS = "revoke_sessions"  # deny on the user for sessions issued before now
    REVOKE_ROLE = "revoke_role"  # the same on a role the key assumed
    QUARANTINE = "quarantine"  # attach AWS's compromised-key quarantine policy
    DEACTIVATE_FOLLOW_UP_KEY = "deactivate_follow_up_key"  # a key the attacker made elsewhere
    DELETE_LOGIN_PROFILE = "delete_login_profile"  # console access the attacker gave


SAFETY = frozenset({ActionName.VERIFY_BLOCKED, ActionName.REVOKE_SESSIONS,
                    ActionName.REVOKE_ROLE})
"""The actions the time to safe waits for."""

REVOKE_POLICY = "IrreadyRevokeOlderSessions"
QUARANTINE_POLICIES = ("AWSCompromisedKeyQuarantineV4", "AWSCompromisedKeyQuarantineV3",
                       "AWSCompromisedKeyQuarantineV2")
"""Newest first: a containment attaches the newest one the partition has."""
LONGEST_SESSION_HOURS = 36  # GetSessionToken's longest; a role session lasts 12 h at most


def revoke_document(issued_before: str) -> dict[str, Any]:
    """Deny everything to credentials issued before `issued_before` (aws:TokenIssueTime
    exists only for temporary credentials: long-term keys, the new one included, are not
    affected)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "IrreadyRevokeOlderSessions", "Effect": "Deny", "Action": "*",
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}}}]}


@dataclass(frozen=True)
class ContainOptions:
    """What the user asked for; stored with the containment (it holds no secret)."""

    key_id: str
    target: str = ""
    block_now: bool = False
    deactivate_first: tuple[str, ...] = ()
    investigate: bool = True
    restart_command: str = ""
    health_command: str = ""
    health_url: str = ""
    propagation_timeout: float = 60.0
    revoke_sessions: bool = False
    revoke_roles: tuple[str, ...] = ()
    quarantine: bool = False
    contain_follow_ups: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "target": self.target, "block_now": self.block_now,
                "deactivate_first": list(self.deactivate_first),
                "investigate": self.investigate, "restart_command": self.restart_command,
                "health_command": self.health_command, "health_url": self.health_url,
                "propagation_timeout": self.propagation_timeout,
                "revoke_sessions": self.revoke_sessions,
                "revoke_roles": list(self.revoke_roles), "quarantine": self.quarantine,
                "contain_follow_ups": self.contain_follow_ups}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainOptions:
        return cls(key_id=str(data["key_id"]), target=str(data.get("target") or ""),
                   block_now=bool(data.get("block_now")),
                   deactivate_first=tuple(str(k) for k in data.get("deactivate_first") or ()),
                   investigate=bool(data.get("investigate", True)),
                   restart_command=str(data.get("restart_command") or ""),
                   health_command=str(data.get("health_command") or ""),
                   health_url=str(data.get("health_url") or ""),
                   propagation_timeout=float(data.get("propagation_timeout") or 60.0),
                   revoke_sessions=bool(data.get("revoke_sessions")),
                   revoke_roles=tuple(str(r) for r in data.get("revoke_roles") or ()),
                   quarantine=bool(data.get("quarantine")),
                   contain_follow_ups=bool(data.get("contain_follow_ups")))


@dataclass(frozen=True)
class PlannedAction:
    """One action: what it does, the AWS call behind it, and what undoes it."""

    name: ActionName
    what: str
    call: str
    undo: str
    subject: str = ""  # the key the action acts on

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name.value, "what": self.what, "call": self.call,
                "undo": self.undo, "subject": self.subject}


@dataclass(frozen=True)
class ContainPlan:
    """What a containment will do, known after the read-only preflight."""

    account_id: str
    caller_arn: str
    key_id: str
    user: str
    user_arn: str
    target: str  # "" with --block-now
    investigation_id: str  # "" when none was used
    actions: tuple[PlannedAction, ...]
    notes: tuple[str, ...] = ()  # what will break, what could not be known
    backdoor_keys: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "caller_arn": self.caller_arn,
                "key_id": self.key_id, "user": self.user, "user_arn": self.user_arn,
                "target": self.target, "investigation_id": self.investigation_id,
                "actions": [a.as_dict() for a in self.actions], "notes": list(self.notes),
                "backdoor_keys": list(self.backdoor_keys)}
