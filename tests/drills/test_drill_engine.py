"""The drill engine's table reads as the promise it keeps: every forward step that
changes something before the point of no return has an undo, a rollback runs each undo
once, and nothing after the point of no return is ever undone. The journal's typed state
is stored with the same JSON keys as always."""

from __future__ import annotations

import json

import pytest

from drills.engine.state import DrillState, StepFailure
from drills.engine.steps import NO_RETURN, ROLLBACK, STEPS, Step, steps_from
from drills.model import FORWARD_STEPS, DrillOptions, StepName

BEFORE_NO_RETURN = STEPS[:STEPS.index(next(s for s in STEPS if s.name is NO_RETURN))]
FROM_NO_RETURN = steps_from(NO_RETURN)


def test_the_table_holds_every_forward_step_after_the_preflight_in_order() -> None:
    assert (StepName.PREFLIGHT, *(step.name for step in STEPS)) == FORWARD_STEPS


@pytest.mark.parametrize("step", [pytest.param(s, id=s.name.value) for s in BEFORE_NO_RETURN])
def test_every_step_that_changes_something_before_the_point_of_no_return_has_an_undo(
        step: Step) -> None:
    if step.changes:
        assert step.undo is not None, f"{step.name} changes something but has no undo"
        assert step in ROLLBACK, f"the rollback never runs the undo of {step.name}"


def test_nothing_from_the_point_of_no_return_on_is_undone() -> None:
    assert all(step.undo is None for step in FROM_NO_RETURN)
    assert not set(ROLLBACK) & set(FROM_NO_RETURN)


def test_a_rollback_runs_each_undo_once_restoring_the_target_before_deleting_the_new_key(
        ) -> None:
    undos = [step.undo.name for step in ROLLBACK if step.undo is not None]
    assert len(undos) == len(set(undos)) == len(ROLLBACK)
    assert undos == [StepName.RESTORE_TARGET, StepName.DELETE_NEW, StepName.ROLLBACK_RESTART]


STORED = {
    "options": DrillOptions(user="drill-user", target="ssm:/app/creds").as_dict(),
    "user_arn": "arn:aws:iam::123456789012:user/drill-user",
    "caller_arn": "arn:aws:iam::123456789012:user/admin",
    "old_key_id": "AKIAOLD", "keys_before": ["AKIAOLD"], "target_kind": "ssm",
    "target_state": {"previous_version": "3", "kms_key_id": ""},
    "new_key_id": "AKIANEW", "propagation": {"ok": True, "attempts": 2},
    "failure": {"step": "health_check", "reason": "unhealthy"},
    "rollback_failure": {"step": "rollback_restore_target", "reason": "denied"},
    "rolled_back": False, "outcome": "the rollback stopped", "deleted_keys": ["AKIAX"],
    "resumed_at": ["2026-12-01T10:00:00Z"], "made_room": "AKIAINACTIVE",
    "estimate": {"active_keys": 3}, "cleanup_error": "gone",
    "rollback_requested_at": "2026-12-01T11:00:00Z",
    "written_by_a_later_version": {"kept": True},
}


def test_the_state_reads_and_writes_the_stored_detail_unchanged() -> None:
    state = DrillState.from_detail(STORED)
    assert state.failure == StepFailure("health_check", "unhealthy")
    assert state.target_state == {"previous_version": "3", "kms_key_id": ""}
    assert json.dumps(state.as_detail(), sort_keys=True) == json.dumps(STORED, sort_keys=True)


def test_a_new_drill_writes_only_what_it_knows() -> None:
    state = DrillState(options=DrillOptions(user="u", target="env-file:.env"), user_arn="a",
                       caller_arn="c", old_key_id="AKIAOLD", keys_before=["AKIAOLD"],
                       target_kind="env-file")
    assert sorted(state.as_detail()) == ["caller_arn", "keys_before", "old_key_id", "options",
                                         "target_kind", "target_state", "user_arn"]
