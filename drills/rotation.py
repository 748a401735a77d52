"""The rotation drill: "rotate before you block", the API the CLI, the scheduler and the
demo call.

Nine steps (model.FORWARD_STEPS): preflight, create the new key, publish it to the
target and read it back, restart the application, verify the new key authenticates,
check the application's health, deactivate the old key, verify the old key is refused,
and delete it only on request. Each step is journaled before it acts and after it ends.
The engine is in `drills.engine`: preflight, the steps and their table, recovery (the
rollback and the resume of a stopped drill), and the run that walks the table.

The rule an incident can trust: the application never loses a working key. Before the
old key is deactivated, any failure rolls back; a drill cut off anywhere is left in a
state `resume_drill` or `rollback_drill` completes. Secrets stay in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auditor.errors import UsageError
from auditor.redact import redacted_logs
from auditor.store import DrillRecord
from drills.engine import recovery
from drills.engine.drill import Clock, Drill, EventHook, StepEvent
from drills.engine.preflight import check_options, preflight
from drills.engine.state import DrillState
from drills.journal import lock_holder
from drills.model import STEP_NUMBER, DrillOptions, DrillPlan, DrillStatus
from drills.verify import Sleep

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore


def options_from_config(config: Config, user: str | None = None) -> DrillOptions:
    """Drill options from the config alone (the scheduler's quarterly drill): the first
    drill user, or `user`, and its rotation target from the key inventory."""
    settings = config.drill
    chosen = user or (settings.users[0] if settings.users else "")
    if not chosen:
        raise UsageError("no drill user: list one in [drill] users in the config")
    entry = config.inventory_for(chosen)
    if entry is None or not entry.rotation_target:
        raise UsageError(f"no rotation target for {chosen}: add an [[inventory]] entry with "
                         "rotation_target for it")
    return DrillOptions(
        user=chosen, target=entry.rotation_target,
        restart_command=settings.restart_command, health_command=settings.health_command,
        health_url=settings.health_url,
        propagation_timeout=float(settings.propagation_timeout_seconds),
        health_timeout=float(settings.health_timeout_seconds),
        command_timeout=float(settings.command_timeout_seconds),
    )


def plan_drill(ctx: AwsContext, config: Config, store: HistoryStore, options: DrillOptions
               ) -> DrillPlan:
    """The read-only preflight and the plan (--dry-run): changes nothing, records nothing."""
    drill = Drill(ctx, config, store, options)
    with redacted_logs(drill.redactor):
        return preflight(drill)


def run_drill(ctx: AwsContext, config: Config, store: HistoryStore, options: DrillOptions, *,
              clock: Clock | None = None, on_event: EventHook | None = None,
              sleep: Sleep = time.sleep) -> DrillRecord:
    """Perform a drill. Bad input raises an IrreadyError before anything changes; a
    failure is a FAILED (rolled back) record; Ctrl-C raises DrillUnfinished."""
    return Drill(ctx, config, store, options, clock=clock, on_event=on_event,
                 sleep=sleep).run()


@dataclass(frozen=True)
class Corrections:
    """What `drill resume|rollback` may change in a stopped drill's options: the
    commands and the URL it runs (None: keep the drill's own). They are proved as a
    new drill's are, then kept with the drill."""

    restart_command: str | None = None
    health_command: str | None = None
    health_url: str | None = None

    def apply(self, options: DrillOptions) -> DrillOptions:
        return replace(
            options,
            restart_command=(options.restart_command if self.restart_command is None
                             else self.restart_command),
            health_command=(options.health_command if self.health_command is None
                            else self.health_command),
            health_url=options.health_url if self.health_url is None else self.health_url)


def _stopped(store: HistoryStore, drill_id: str, corrections: Corrections | None
             ) -> tuple[DrillRecord, DrillOptions]:
    record = store.load_drill(drill_id)
    if not record.status.unfinished:
        raise UsageError(f"drill {drill_id} is {record.status}: nothing to resume or roll back")
    state = DrillState.from_detail(record.detail)
    if state.options is None or not state.old_key_id:
        raise UsageError(f"drill {drill_id} stopped before its preflight ended: nothing "
                         "was changed")
    options = (corrections or Corrections()).apply(state.options)
    try:
        check_options(options)
    except UsageError as exc:
        raise UsageError(f"drill {drill_id}: {exc.message}; correct it with --restart-command, "
                         "--health-command or --health-url, or pass --no-restart") from None
    return record, options


def resume_drill(ctx: AwsContext, config: Config, store: HistoryStore, drill_id: str, *,
                 corrections: Corrections | None = None, clock: Clock | None = None,
                 on_event: EventHook | None = None, sleep: Sleep = time.sleep
                 ) -> DrillRecord:
    record, options = _stopped(store, drill_id, corrections)
    return recovery.resume(Drill(ctx, config, store, options, clock=clock, on_event=on_event,
                                 sleep=sleep), record)


def rollback_drill(ctx: AwsContext, config: Config, store: HistoryStore, drill_id: str, *,
                   corrections: Corrections | None = None, clock: Clock | None = None,
                   on_event: EventHook | None = None, sleep: Sleep = time.sleep
                   ) -> DrillRecord:
    record, options = _stopped(store, drill_id, corrections)
    return recovery.rollback(Drill(ctx, config, store, options, clock=clock,
                                   on_event=on_event, sleep=sleep), record)


def is_cut_off(store: HistoryStore, record: DrillRecord) -> bool:
    """RUNNING in the store, but no process holds its lock: it was killed."""
    return record.status is DrillStatus.RUNNING and \
        lock_holder(store, record.account_id, record.user) is None


__all__ = ["STEP_NUMBER", "Corrections", "DrillPlan", "StepEvent", "is_cut_off",
           "options_from_config", "plan_drill", "resume_drill", "rollback_drill", "run_drill"]
