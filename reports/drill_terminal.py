"""A drill on the terminal: the step timeline of `drill show`, the list of `drill list`,
the dry run's plan, each step as it ends while a drill runs, and the verdict under
them (time to rotate, propagation, outcome, the incident estimate). Everything here
comes from the history store or the engine's events, which hold no secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from auditor.clock import iso
from auditor.durations import duration
from auditor.estimate import IncidentEstimate
from auditor.store import DrillRecord, DrillStep
from drills.model import (
    STEP_NUMBER,
    STEP_TITLE,
    DrillPlan,
    DrillStatus,
    OldKeyCheck,
    StepName,
    StepState,
)

if TYPE_CHECKING:
    from rich.console import Console


class StepEvent(Protocol):
    """What the drill engine reports as a step starts and ends (its StepEvent)."""

    @property
    def step(self) -> StepName: ...
    @property
    def state(self) -> StepState: ...
    @property
    def seconds(self) -> float | None: ...
    @property
    def note(self) -> str: ...


def step_title(name: str) -> str:
    try:
        return STEP_TITLE[StepName(name)]
    except ValueError:
        return name


def step_number(name: str) -> str:
    """The step's number in the forward order, "R" for a recovery step."""
    try:
        number = STEP_NUMBER.get(StepName(name))
    except ValueError:
        number = None
    return str(number) if number else "R"


def status_label(record: DrillRecord, cut_off: bool) -> str:
    if cut_off:
        return "CUT OFF (RUNNING, but no process holds it)"
    return record.status


def next_steps(record: DrillRecord, cut_off: bool) -> str:
    """What the user can do about an unfinished drill."""
    status = DrillStatus(record.status)
    if not (status.unfinished and (cut_off or status is not DrillStatus.RUNNING)):
        return ""
    return (f"Finish it with `irready drill resume {record.drill_id}`, or undo it with "
            f"`irready drill rollback {record.drill_id}` (before the old key is deactivated).")


def old_key_check(record: DrillRecord) -> OldKeyCheck | None:
    """How step 8 proved the old key refused, if the drill got that far."""
    try:
        return OldKeyCheck(str(record.detail.get("old_key_check")))
    except ValueError:
        return None


def old_key_check_line(record: DrillRecord) -> str:
    check = old_key_check(record)
    return "" if check is None else f"Old key check: {check.value}: {check.sentence()}."


def explain(record: DrillRecord, cut_off: bool) -> str:
    """Where an unfinished drill stopped, in words."""
    if not DrillStatus(record.status).unfinished:
        return ""
    last = record.steps[-1] if record.steps else None
    if last is None:
        return "It stopped before its first step."
    where = f"step {step_number(last.name)} ({step_title(last.name)})"
    if last.state == "started":
        said = f"It stopped during {where}: the step began and never reported back."
    else:
        said = f"It stopped after {where}, which ended {last.state}."
    keys = [f"old key {record.detail.get('old_key_id')}"]
    if record.detail.get("new_key_id"):
        keys.append(f"new key {record.detail['new_key_id']}")
    return f"{said} Keys involved: {', '.join(keys)}."


def _sayer(console: Console) -> Callable[[str], None]:
    """Print lines whole: a cron mail or a pipe should not get them cut at 80 columns."""

    def say(text: str) -> None:
        console.print(text, soft_wrap=True, markup=False, highlight=False)

    return say


def print_drill(console: Console, record: DrillRecord, cut_off: bool = False) -> None:
    from rich.markup import escape
    from rich.table import Table

    say = _sayer(console)
    say(f"Drill {record.drill_id}: {record.user} -> {record.target} "
                  f"(account {record.account_id})")
    say(f"Status: {status_label(record, cut_off)}   started "
                  f"{iso(record.started_at)}")
    table = Table(show_edge=False, pad_edge=False)
    for column in ("#", "step", "state", "time", "note"):
        table.add_column(column, overflow="fold")
    for step in record.steps:
        note = step.detail.get("error") or step.detail.get("skipped") or _note(step)
        table.add_row(*(escape(cell) for cell in (
            step_number(step.name), step_title(step.name), step.state, duration(step.seconds),
            str(note))))
    console.print(table)
    print_summary(console, record, cut_off)


def print_summary(console: Console, record: DrillRecord, cut_off: bool = False) -> None:
    """The verdict under a timeline: time to rotate, propagation, outcome, estimate."""
    say = _sayer(console)
    if record.rotation_seconds is not None:
        verdict = "within" if record.within_target else "OVER"
        say(f"Time to rotate (start to old key deactivated): "
                      f"{duration(record.rotation_seconds)}, {verdict} the "
                      f"{record.target_seconds / 60:g}-minute target.")
    propagation = record.detail.get("propagation")
    if isinstance(propagation, dict):
        say(f"New key accepted after {propagation.get('attempts')} attempt(s), "
                      f"{duration(propagation.get('seconds'))} (waited "
                      f"{duration(propagation.get('waited_seconds'))}).")
    if record.detail.get("outcome"):
        say(f"Outcome: {record.detail['outcome']}")
    failure = record.detail.get("failure")
    if isinstance(failure, dict):
        say(f"Failed at {failure.get('step')}: {failure.get('reason')}")
    if old_key_check_line(record):
        say(old_key_check_line(record))
    estimate = record.detail.get("estimate")
    if isinstance(estimate, dict):
        say(f"If a key leaked tonight: {estimate_sentence(estimate)}")
    for line in (explain(record, cut_off), next_steps(record, cut_off)):
        if line:
            say(line)


def _note(step: DrillStep) -> str:
    detail = step.detail
    for key in ("new_key_id", "read_back", "restored", "deleted_inactive_key", "result"):
        if detail.get(key):
            return f"{key.replace('_', ' ')}: {detail[key]}"
    if "attempts" in detail:
        return f"{detail['attempts']} attempt(s), last: {detail.get('last', '')}"
    deleted = detail.get("deleted")
    if deleted:
        return "deleted: " + (", ".join(map(str, deleted)) if isinstance(deleted, list)
                              else str(deleted))
    return ""


def estimate_sentence(kept: dict[str, Any]) -> str:
    """The incident estimate a drill kept in its detail, in one sentence."""
    estimate = IncidentEstimate.from_dict(kept)
    per_key = duration(estimate.per_key_seconds)
    window = f"{estimate.window_seconds / 3600:g}-hour"
    if estimate.active_keys is None or estimate.total_seconds is None:
        return (f"One key took {per_key}; run `irready audit` to count the account's "
                f"active keys and compare the total with the {window} window.")
    verdict = "within" if estimate.within_window else "BEYOND"
    return (f"Rotating all {estimate.active_keys} active key(s) at {per_key} each would take "
            f"{duration(estimate.total_seconds)}: {verdict} the {window} window before "
            "customers call.")


def print_drills(console: Console, records: list[DrillRecord], cut_off: set[str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    for column in ("drill", "account", "user", "target", "status", "started (UTC)",
                   "rotation"):
        table.add_column(column, overflow="fold", no_wrap=column in ("drill", "account"))
    for record in records:
        table.add_row(*(escape(cell) for cell in (
            record.drill_id, record.account_id, record.user, record.target,
            status_label(record, record.drill_id in cut_off), iso(record.started_at),
            duration(record.rotation_seconds))))
    console.print(table)


def print_plan(console: Console, plan: DrillPlan) -> None:
    say = _sayer(console)
    say(f"Dry run: nothing is changed. Drill of {plan.user} "
                  f"({plan.user_arn}) through {plan.target}, as {plan.caller_arn}.")
    say(f"The target holds {plan.old_key_id}; the user has {len(plan.keys)} key(s).")
    for name, what in plan.steps:
        say(f"  {STEP_NUMBER[name]}. {STEP_TITLE[name]}: {what}")


def progress_printer(console: Console, header: str = "") -> Callable[[StepEvent], None]:
    """An `on_event` hook that prints each step as it ends, with its time; `header` comes
    first, once the drill has passed its checks and begun."""
    pending = [header] if header else []

    def show(event: StepEvent) -> None:
        while pending:
            console.print(pending.pop(), markup=False, highlight=False, soft_wrap=True)
        if event.state is StepState.STARTED:
            return
        number = STEP_NUMBER.get(event.step)
        seconds = "" if event.seconds is None else f"{duration(event.seconds):>9}"
        note = f"  ({event.note})" if event.note else ""
        console.print(f"  {number or 'R':>2}  {STEP_TITLE[event.step]:<44} "
                      f"{event.state.value:<8}{seconds}{note}", highlight=False,
                      soft_wrap=True, markup=False)

    return show
