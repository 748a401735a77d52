"""The vocabulary of a drill: its steps, its statuses, the options a user chooses, and
the access key it rotates. Kept apart from the engine so that the CLI, the reports and
the scheduler can name a step or a status without importing boto3.

An `AccessKey` carries its secret in memory only: the secret is left out of `repr`, so
no f-string, log line or traceback of a drill can print it by accident."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class StepName(StrEnum):
    """The nine steps of "rotate before you block", then the steps of a rollback."""

    PREFLIGHT = "preflight"
    CREATE_KEY = "create_key"
    PUBLISH = "publish"
    RESTART = "restart"
    VERIFY_NEW = "verify_new_key"
    HEALTH = "health_check"
    DEACTIVATE_OLD = "deactivate_old_key"
    VERIFY_OLD = "verify_old_key_rejected"
    DELETE_OLD = "delete_old_key"
    # recovery: a rollback, or the cleanup a resumed drill does before it goes on
    RESTORE_TARGET = "rollback_restore_target"
    ROLLBACK_RESTART = "rollback_restart"
    DELETE_NEW = "rollback_delete_new_key"
    DELETE_ORPHAN = "delete_orphan_key"


FORWARD_STEPS: tuple[StepName, ...] = (
    StepName.PREFLIGHT,
    StepName.CREATE_KEY,
    StepName.PUBLISH,
    StepName.RESTART,
    StepName.VERIFY_NEW,
    StepName.HEALTH,
    StepName.DEACTIVATE_OLD,
    StepName.VERIFY_OLD,
    StepName.DELETE_OLD,
)
STEP_NUMBER: dict[StepName, int] = {name: i for i, name in enumerate(FORWARD_STEPS, start=1)}
STEP_TITLE: dict[StepName, str] = {
    StepName.PREFLIGHT: "preflight checks",
    StepName.CREATE_KEY: "create the new key",
    StepName.PUBLISH: "publish it to the target and read it back",
    StepName.RESTART: "restart the application",
    StepName.VERIFY_NEW: "verify the new key authenticates",
    StepName.HEALTH: "check the application's health",
    StepName.DEACTIVATE_OLD: "deactivate the old key",
    StepName.VERIFY_OLD: "verify the old key is rejected",
    StepName.DELETE_OLD: "delete the old key",
    StepName.RESTORE_TARGET: "rollback: restore the old key in the target",
    StepName.ROLLBACK_RESTART: "rollback: restart the application on the old key",
    StepName.DELETE_NEW: "rollback: delete the new key",
    StepName.DELETE_ORPHAN: "delete a key whose secret was lost",
}


class DrillFormat(StrEnum):
    """How `irready drill ...` prints a drill."""

    TERMINAL = "terminal"
    JSON = "json"


class StepState(StrEnum):
    STARTED = "started"  # written before the step acts; left as is by a kill -9
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM while the step ran


class DrillStatus(StrEnum):
    """RUNNING is written first; every other status is final except INTERRUPTED and
    NEEDS_ATTENTION, which `irready drill resume|rollback ID` bring to a final one."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"  # rotated; old key deactivated and rejected
    FAILED = "FAILED"  # stopped by a failure; detail says whether it was rolled back
    ROLLED_BACK = "ROLLED_BACK"  # rolled back on request (`irready drill rollback`)
    INTERRUPTED = "INTERRUPTED"  # Ctrl-C or SIGTERM; resume or roll back
    NEEDS_ATTENTION = "NEEDS_ATTENTION"  # a rollback could not finish; resume or roll back

    @property
    def unfinished(self) -> bool:
        return self in UNFINISHED


UNFINISHED = frozenset({DrillStatus.RUNNING, DrillStatus.INTERRUPTED,
                        DrillStatus.NEEDS_ATTENTION})


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
