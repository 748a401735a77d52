"""There is always a way out of a drill, and it ends with one working key: a rollback
puts the keys right before it restarts the application, a restart that fails is
reported apart, a stopped drill takes corrected commands (or none), a drill resumed
after its process died says how it proved the old key refused, and lock files never
mix up two users."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import clikit
import pytest
from click.testing import Result
from drillkit import SECRET, USER, SimulatedKill, World, assert_safe, make_target, read_secret

from auditor.config import Config
from auditor.errors import ExitCode
from auditor.store import HistoryStore
from drills.journal import lock_path, user_lock
from drills.model import DrillOptions, DrillStatus, StepName, StepState
from drills.rotation import StepEvent, resume_drill, run_drill

Options = Callable[..., DrillOptions]
FAILS = f"{sys.executable} -c 'raise SystemExit(7)'"
WORKS = f"{sys.executable} -c pass"


def at(step: StepName, state: StepState) -> Callable[[StepEvent], None]:
    """Kill the drill (as kill -9 would) when `step` reaches `state`."""
    def hook(event: StepEvent) -> None:
        if event.step is step and event.state is state:
            raise SimulatedKill

    return hook


def irready(world: World, *args: Any) -> Result:
    config = clikit.write_config(
        world.tmp, f'[history]\npath = "{world.tmp / "history.sqlite3"}"\n\n'
                   "[drill]\npropagation_timeout_seconds = 1\nhealth_timeout_seconds = 1\n")
    return clikit.irready(*args, "--config", config,
                          env={"AWS_ACCESS_KEY_ID": world.operator_key[0],
                               "AWS_SECRET_ACCESS_KEY": world.operator_key[1]})


def one_working_key(world: World) -> None:
    """The user holds exactly one active key, the one in the target, and it works."""
    key_id, secret = read_secret(world)()
    assert {k for k, status in world.user_keys().items() if status == "Active"} == {key_id}
    assert world.authenticates_as(key_id, secret) is not None


def test_a_restart_that_fails_in_the_rollback_leaves_the_keys_right_and_says_so(
        world: World) -> None:
    result = irready(world, "drill", "rotate", "--user", USER, "--target",
                     f"secretsmanager:{SECRET}", "--no-report", "--restart-command", FAILS)
    assert result.exit_code == ExitCode.FAILED, result.output
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        (record,) = store.drills()
    assert record.status is DrillStatus.FAILED
    assert [s.name for s in record.steps][-3:] == [
        "rollback_restore_target", "rollback_delete_new_key", "rollback_restart"]
    assert record.detail["rolled_back"] is True
    assert record.detail["restart_failure"] == {
        "step": "rollback_restart", "reason": "restart command exited with 7"}
    assert "rollback_failure" not in record.detail
    assert record.detail["outcome"] == (
        "rolled back: the target holds the old key again and the new key is deleted; but the "
        "application was not restarted (restart command exited with 7): restart it yourself "
        "so that it runs on the old key")
    assert result.stderr.splitlines() == [
        f"irready: warning: drill {record.drill_id} is rolled back (the old key is in the "
        "target and the only active key), but the application was not restarted: restart it "
        "yourself"]
    assert world.user_keys() == {world.original[0]: "Active"}
    one_working_key(world)
    again = irready(world, "drill", "rotate", "--user", USER, "--target",
                    f"secretsmanager:{SECRET}", "--dry-run")
    assert again.exit_code == 0, again.output  # the failed drill is closed


def stopped_with_a_restart_script_now_gone(world: World, drill_config: Config,
                                           history: HistoryStore, options: Options,
                                           step: StepName) -> tuple[str, Path]:
    """A drill killed after `step`, whose restart script has been deleted since."""
    script = world.tmp / "restart.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(restart_command=str(script)),
                  on_event=at(step, StepState.DONE))
    script.unlink()
    (record,) = history.drills()
    assert record.status is DrillStatus.RUNNING
    return record.drill_id, script


def test_a_stopped_drill_whose_restart_command_is_gone_is_rolled_back_without_it(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    drill_id, script = stopped_with_a_restart_script_now_gone(
        world, drill_config, history, options, StepName.RESTART)
    keys = world.user_keys()
    assert len(keys) == 2

    refused = irready(world, "drill", "rollback", drill_id, "--no-report")
    assert refused.exit_code == ExitCode.USAGE, refused.output
    assert refused.stderr.splitlines() == [
        f"irready: error: drill {drill_id}: --restart-command '{script}': {script} is not an "
        "executable file; correct it with --restart-command, --health-command or "
        "--health-url, or pass --no-restart"]
    assert world.user_keys() == keys

    blocked = irready(world, "drill", "rotate", "--user", USER, "--target",
                      f"secretsmanager:{SECRET}", "--dry-run")
    assert blocked.exit_code == ExitCode.LOCKED
    assert f"`irready drill rollback {drill_id}`" in blocked.stderr

    done = irready(world, "drill", "rollback", drill_id, "--no-restart", "--no-report")
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    record = history.load_drill(drill_id)
    assert record.status is DrillStatus.ROLLED_BACK
    assert record.detail["options"]["restart_command"] == ""
    assert "rollback_restart" not in [s.name for s in record.steps]
    assert world.user_keys() == {world.original[0]: "Active"}
    one_working_key(world)
    assert_safe(world, record, read_secret(world))
    after = irready(world, "drill", "rotate", "--user", USER, "--target",
                    f"secretsmanager:{SECRET}", "--dry-run")
    assert after.exit_code == 0, after.output


def test_a_stopped_drill_resumes_with_a_corrected_restart_command(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    drill_id, _ = stopped_with_a_restart_script_now_gone(
        world, drill_config, history, options, StepName.PUBLISH)
    done = irready(world, "drill", "resume", drill_id, "--restart-command", WORKS,
                   "--no-report")
    assert done.exit_code == 0, done.output
    record = history.load_drill(drill_id)
    assert record.status is DrillStatus.SUCCEEDED
    assert record.detail["options"]["restart_command"] == WORKS
    restart = next(s for s in record.steps if s.name == "restart" and s.state == "done")
    assert restart.detail["result"] == "exit 0"
    assert record.detail["old_key_check"] == "refused"
    one_working_key(world)


def test_a_rollback_that_cannot_finish_says_so_in_one_line_and_can_be_run_again(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A rollback that cannot put the keys right ends NEEDS_ATTENTION with one error line
    (exit 6); the same rollback, run again, closes the drill."""
    from botocore.exceptions import ClientError

    from drills.engine.drill import Drill

    drill_id, _ = stopped_with_a_restart_script_now_gone(
        world, drill_config, history, options, StepName.PUBLISH)

    def denied(self: Drill, key_id: str) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}},
                          "DeleteAccessKey")

    monkeypatch.setattr(Drill, "delete_key", denied)
    stuck = irready(world, "drill", "rollback", drill_id, "--no-restart", "--no-report")
    assert stuck.exit_code == ExitCode.UNFINISHED, stuck.output
    assert stuck.stderr.splitlines() == [
        f"irready: error: drill {drill_id} is NEEDS_ATTENTION: the rollback stopped at "
        "rollback_delete_new_key: DeleteAccessKey: AccessDenied: no; see `irready drill show "
        f'{drill_id}` and README, "Drill: the way out"']
    assert history.load_drill(drill_id).status is DrillStatus.NEEDS_ATTENTION
    blocked = irready(world, "drill", "rotate", "--user", USER, "--target",
                      f"secretsmanager:{SECRET}", "--dry-run")
    assert blocked.exit_code == ExitCode.LOCKED
    assert f"`irready drill rollback {drill_id}`" in blocked.stderr

    monkeypatch.undo()
    done = irready(world, "drill", "rollback", drill_id, "--no-restart", "--no-report")
    assert done.exit_code == 0, done.output
    assert history.load_drill(drill_id).status is DrillStatus.ROLLED_BACK
    assert world.user_keys() == {world.original[0]: "Active"}
    one_working_key(world)


def test_an_old_key_deactivated_by_hand_is_finished_forward(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """Someone deactivated the old key while the drill was stopped: a rollback would
    leave no working key, so it is refused naming `resume`, which closes the drill."""
    drill_id, _ = stopped_with_a_restart_script_now_gone(
        world, drill_config, history, options, StepName.PUBLISH)
    world.admin.client("iam").update_access_key(UserName=USER, AccessKeyId=world.original[0],
                                                Status="Inactive")
    refused = irready(world, "drill", "rollback", drill_id, "--no-restart", "--no-report")
    assert refused.exit_code == ExitCode.USAGE, refused.output
    (line,) = refused.stderr.splitlines()
    assert line.endswith(f"run `irready drill resume {drill_id}` to finish it")
    done = irready(world, "drill", "resume", drill_id, "--no-restart", "--no-report")
    assert done.exit_code == 0, done.output
    record = history.load_drill(drill_id)
    assert record.status is DrillStatus.SUCCEEDED
    one_working_key(world)
    assert world.user_keys()[world.original[0]] == "Inactive"


def test_a_drill_resumed_without_the_old_secret_says_it_checked_the_status_only(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """A command target keeps no old value irready can read: after kill -9 the old
    secret is gone, so step 8 can only see that IAM holds the old key inactive."""
    spec, read = make_target(world, "command")
    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(spec),
                  on_event=at(StepName.DEACTIVATE_OLD, StepState.DONE))
    (record,) = history.drills()
    done = resume_drill(world.ctx(), drill_config, history, record.drill_id)
    assert done.status is DrillStatus.SUCCEEDED, done.detail
    assert done.detail["old_key_check"] == "status_only"
    verify = next(s for s in done.steps if s.name == "verify_old_key_rejected"
                  and s.state == "done")
    assert verify.detail["status"] == "Inactive"
    sentence = ("the old key was checked by its status only (Inactive in IAM): its secret "
                "was gone, so AWS's refusal could not be tried")
    assert done.detail["outcome"].endswith(f"; {sentence}")
    assert_safe(world, done, read)

    shown = irready(world, "drill", "show", record.drill_id)
    assert f"Old key check: status_only: {sentence}." in shown.stdout
    as_json = json.loads(irready(world, "drill", "show", record.drill_id,
                                 "--format", "json").stdout)
    assert as_json["old_key_check"] == "status_only"


def test_a_drill_that_tried_the_old_key_says_aws_refused_it(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    record = run_drill(world.ctx(), drill_config, history, options())
    assert record.detail["old_key_check"] == "refused"
    assert record.detail["outcome"].endswith("; AWS refused the old key")


def test_an_old_key_still_active_is_not_proved_refused_by_its_status(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    from drills.engine.drill import Drill
    from drills.engine.state import DrillState
    from drills.engine.steps import verify_old_key_rejected
    from drills.errors import StepFailed
    from drills.journal import Journal

    spec, _ = make_target(world, "command")
    drill = Drill(world.ctx(), drill_config, history, options(spec))
    drill.journal = Journal.begin(
        history, drill_id="d-1", account_id="123456789012", user=USER, target=spec,
        started_at=drill.now(), target_seconds=900.0,
        state=DrillState(old_key_id=world.original[0]))
    with pytest.raises(StepFailed, match=f"the old key {world.original[0]} is still Active"):
        verify_old_key_rejected(drill, {})


# -- lock files ---------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [
    pytest.param("drüll-user", "dr_ll-user", id="a non-ASCII name and its lookalike"),
    pytest.param("Drill-User", "drill-user", id="names that differ in case only"),
    pytest.param("u" * 300, "u" * 301, id="two very long names"),
])
def test_distinct_users_never_share_a_lock_file(tmp_path: Path, first: str,
                                                second: str) -> None:
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        paths = {user: lock_path(store, "123456789012", user) for user in (first, second)}
        assert paths[first] != paths[second]
        for path in paths.values():
            assert len(path.name.encode()) <= 120
        with user_lock(store, "123456789012", first, "one"), \
                user_lock(store, "123456789012", second, "two"):
            pass  # both held at once: no name is too long, none collides
