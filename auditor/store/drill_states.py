"""The states a drill and its journal steps are stored in. They live in the core, beside
the store's records, so that the store can hand back enums without importing the drill
engine; `drills.model` re-exports them for the engine, the CLI and the reports."""

from __future__ import annotations

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
