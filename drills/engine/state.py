"""What a drill's journal knows about the drill, typed: the keys before it, the key it
created, where the target keeps the old value, how it ended. It is stored as the drill's
JSON `detail` with the same keys as always, so older stores read back and `drill show`
prints the same. No secret is ever part of it: key ids and version ids only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drills.model import DrillOptions


@dataclass(frozen=True)
class StepFailure:
    """Which step failed (or stopped a rollback), and why, in one line."""

    step: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"step": self.step, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: object) -> StepFailure | None:
        if not isinstance(data, Mapping):
            return None
        return cls(str(data.get("step", "")), str(data.get("reason", "")))


@dataclass
class DrillState:
    """The drill's detail. Optional fields are left out of the JSON until they are set;
    keys this version does not know are kept as they were (`extra`)."""

    options: DrillOptions | None = None
    user_arn: str = ""
    caller_arn: str = ""
    old_key_id: str = ""
    keys_before: list[str] = field(default_factory=list)
    target_kind: str = ""
    target_state: dict[str, str] = field(default_factory=dict)
    made_room: str | None = None  # the inactive key preflight deleted (--make-room)
    new_key_id: str | None = None
    propagation: dict[str, Any] | None = None  # how long IAM took to accept the new key
    failure: StepFailure | None = None
    rollback_failure: StepFailure | None = None
    # the rollback put the keys right but the application's restart failed
    restart_failure: StepFailure | None = None
    # how step 8 proved the old key refused: "refused" (AWS refused its secret) or
    # "status_only" (the secret was gone, e.g. resumed after kill -9: IAM says Inactive)
    old_key_check: str | None = None
    rolled_back: bool | None = None
    outcome: str | None = None  # one sentence for `drill show`
    estimate: dict[str, Any] | None = None  # the incident-time estimate, on success
    cleanup_error: str | None = None
    deleted_keys: list[str] = field(default_factory=list)  # keys of the drill it deleted
    resumed_at: list[str] = field(default_factory=list)
    rollback_requested_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_detail(self) -> dict[str, Any]:
        """The JSON `detail` of the drill's row."""
        detail: dict[str, Any] = dict(self.extra)
        detail.update(user_arn=self.user_arn, caller_arn=self.caller_arn,
                      old_key_id=self.old_key_id, keys_before=list(self.keys_before),
                      target_kind=self.target_kind, target_state=dict(self.target_state))
        if self.options is not None:
            detail["options"] = self.options.as_dict()
        optional: dict[str, Any] = {
            "made_room": self.made_room, "new_key_id": self.new_key_id,
            "propagation": self.propagation,
            "failure": self.failure.as_dict() if self.failure else None,
            "rollback_failure": (self.rollback_failure.as_dict()
                                 if self.rollback_failure else None),
            "restart_failure": (self.restart_failure.as_dict()
                                if self.restart_failure else None),
            "old_key_check": self.old_key_check,
            "rolled_back": self.rolled_back, "outcome": self.outcome,
            "estimate": self.estimate, "cleanup_error": self.cleanup_error,
            "deleted_keys": list(self.deleted_keys) or None,
            "resumed_at": list(self.resumed_at) or None,
            "rollback_requested_at": self.rollback_requested_at,
        }
        detail.update({key: value for key, value in optional.items() if value is not None})
        return detail

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> DrillState:
        """Read a stored `detail`, whatever version of irready wrote it."""
        def text(name: str) -> str | None:
            value = detail.get(name)
            return None if value is None else str(value)

        def texts(name: str) -> list[str]:
            value = detail.get(name)
            return [str(item) for item in value] if isinstance(value, list) else []

        def mapping(name: str) -> dict[str, Any] | None:
            value = detail.get(name)
            return dict(value) if isinstance(value, Mapping) else None

        options = mapping("options")
        rolled_back = detail.get("rolled_back")
        return cls(
            options=DrillOptions.from_dict(options) if options is not None else None,
            user_arn=text("user_arn") or "", caller_arn=text("caller_arn") or "",
            old_key_id=text("old_key_id") or "", keys_before=texts("keys_before"),
            target_kind=text("target_kind") or "",
            target_state={str(k): str(v) for k, v in (mapping("target_state") or {}).items()},
            made_room=text("made_room"), new_key_id=text("new_key_id"),
            propagation=mapping("propagation"),
            failure=StepFailure.from_dict(detail.get("failure")),
            rollback_failure=StepFailure.from_dict(detail.get("rollback_failure")),
            restart_failure=StepFailure.from_dict(detail.get("restart_failure")),
            old_key_check=text("old_key_check"),
            rolled_back=rolled_back if isinstance(rolled_back, bool) else None,
            outcome=text("outcome"), estimate=mapping("estimate"),
            cleanup_error=text("cleanup_error"), deleted_keys=texts("deleted_keys"),
            resumed_at=texts("resumed_at"),
            rollback_requested_at=text("rollback_requested_at"),
            extra={key: value for key, value in detail.items() if key not in KNOWN},
        )


KNOWN = frozenset({
    "options", "user_arn", "caller_arn", "old_key_id", "keys_before", "target_kind",
    "target_state", "made_room", "new_key_id", "propagation", "failure", "rollback_failure",
    "restart_failure", "old_key_check",
    "rolled_back", "outcome", "estimate", "cleanup_error", "deleted_keys", "resumed_at",
    "rollback_requested_at",
})
