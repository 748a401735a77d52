"""The vocabulary of a drill: its steps, its statuses, the options a user chooses, and
the access key it rotates. Kept apart from the engine so that the CLI, the reports and
the scheduler can name a step or a status without importing boto3. The step and status
enums live in the core (`auditor.store.drill_states`), so the store can return them; they
are re-exported here.

An `AccessKey` carries its secret in memory only: the secret is left out of `repr`, so
no f-string, log line or traceback of a drill can print it by accident."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from auditor.store.drill_states import (
    FORWARD_STEPS,
    STEP_NUMBER,
    STEP_TITLE,
    UNFINISHED,
    DrillStatus,
    StepName,
    StepState,
)

__all__ = ["FORWARD_STEPS", "STEP_NUMBER", "STEP_TITLE", "UNFINISHED", "AccessKey",
           "DrillFormat", "DrillOptions", "DrillPlan", "DrillStatus", "KeyInfo",
           "OldKeyCheck", "StepName", "StepState"]


class DrillFormat(StrEnum):
    """How `irready drill ...` prints a drill."""

    TERMINAL = "terminal"
    JSON = "json"


class OldKeyCheck(StrEnum):
    """How step 8 proved the old key is refused. REFUSED: AWS refused its secret.
    STATUS_ONLY: its secret was gone (a drill resumed after its process was killed,
    through a target that keeps no old value), so only IAM's "Inactive" proves it."""

    REFUSED = "refused"
    STATUS_ONLY = "status_only"

    def sentence(self) -> str:
        if self is OldKeyCheck.REFUSED:
            return "AWS refused the old key"
        return ("the old key was checked by its status only (Inactive in IAM): its secret "
                "was gone, so AWS's refusal could not be tried")


@dataclass(frozen=True)
class AccessKey:
    """An access key id and its secret. The secret never leaves memory."""

    key_id: str
    secret: str = field(repr=False)

    def __str__(self) -> str:
        return self.key_id


@dataclass(frozen=True)
class DrillOptions:
    """What the user asked for; stored with the drill (it holds no secret)."""

    user: str
    target: str
    make_room: bool = False
    restart_command: str = ""
    health_command: str = ""
    health_url: str = ""
    propagation_timeout: float = 60.0
    health_timeout: float = 60.0
    command_timeout: float = 120.0
    delete_old: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "user": self.user, "target": self.target, "make_room": self.make_room,
            "restart_command": self.restart_command, "health_command": self.health_command,
            "health_url": self.health_url, "propagation_timeout": self.propagation_timeout,
            "health_timeout": self.health_timeout, "command_timeout": self.command_timeout,
            "delete_old": self.delete_old,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DrillOptions:
        def text(name: str) -> str:
            return str(data.get(name) or "")

        def number(name: str, default: float) -> float:
            value = data.get(name)
            return float(value) if isinstance(value, int | float) else default

        return cls(
            user=text("user"), target=text("target"), make_room=bool(data.get("make_room")),
            restart_command=text("restart_command"), health_command=text("health_command"),
            health_url=text("health_url"),
            propagation_timeout=number("propagation_timeout", 60.0),
            health_timeout=number("health_timeout", 60.0),
            command_timeout=number("command_timeout", 120.0),
            delete_old=bool(data.get("delete_old")),
        )


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    status: str  # "Active" or "Inactive"


@dataclass(frozen=True)
class DrillPlan:
    """What a drill will do, known after the read-only preflight (printed by --dry-run)."""

    account_id: str
    caller_arn: str
    user: str
    user_arn: str
    target: str
    old_key_id: str
    keys: tuple[KeyInfo, ...]
    make_room_key: str | None
    options: DrillOptions
    steps: tuple[tuple[StepName, str], ...] = field(default=())
