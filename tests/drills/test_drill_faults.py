"""Fault injection at every step: throttling (retried, the drill survives), AccessDenied,
a dropped connection, an answer lost after AWS did the work, and the process killed
between or inside steps. After every outcome, and again after `resume` or `rollback`:
the target holds an active key of the user that authenticates, the user has at most
two keys, and every key the drill created is in use or was recorded and removed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from drillkit import Faults, SimulatedKill, World, assert_safe, read_secret

from auditor.config import Config
from auditor.store import HistoryStore
from drills.errors import DrillUnfinished
from drills.model import FORWARD_STEPS, DrillOptions, DrillStatus, StepName, StepState
from drills.rotation import StepEvent, is_cut_off, resume_drill, rollback_drill, run_drill
from reports.drill_terminal import explain

Options = Callable[..., DrillOptions]
EVERY_CALL = ("sts.GetCallerIdentity", "iam.GetUser", "iam.ListAccessKeys",
              "secretsmanager.GetSecretValue", "iam.CreateAccessKey",
              "secretsmanager.PutSecretValue", "iam.UpdateAccessKey", "iam.DeleteAccessKey")


def at(step: StepName, state: StepState, then: Callable[[], None]) -> Callable[[StepEvent], None]:
    def hook(event: StepEvent) -> None:
        ended = state is StepState.DONE and event.state is StepState.SKIPPED
        if event.step is step and (event.state is state or ended):
            then()

    return hook


def kill() -> None:
    raise SimulatedKill


def test_throttling_of_every_call_is_retried_and_the_drill_survives(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        no_retry_pause: None) -> None:
    faults = Faults(world.operator)
    for operation in EVERY_CALL:
        faults.throttle(operation)
    record = run_drill(world.ctx(), drill_config, history, options(delete_old=True))
    assert record.status is DrillStatus.SUCCEEDED, record.detail
    assert sorted(faults.injected) == sorted(f"throttle {op}" for op in EVERY_CALL)
    assert_safe(world, record, read_secret(world))


@pytest.mark.parametrize(("operation", "step", "extra"), [
    pytest.param("iam.CreateAccessKey", "create_key", {}, id="create denied"),
    pytest.param("secretsmanager.PutSecretValue", "publish", {}, id="publish denied"),
    pytest.param("iam.UpdateAccessKey", "deactivate_old_key", {}, id="deactivate denied"),
])
def test_access_denied_before_deactivation_rolls_back(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        operation: str, step: str, extra: dict[str, Any]) -> None:
    Faults(world.operator).deny(operation)
    record = run_drill(world.ctx(), drill_config, history, options(**extra))
    assert record.status is DrillStatus.FAILED
    assert record.detail["failure"]["step"] == step
    assert "AccessDenied" in record.detail["failure"]["reason"]
    assert record.detail["rolled_back"] is True
    assert world.user_keys() == {world.original[0]: "Active"}
    assert world.secret()["AccessKeyId"] == world.original[0]
    assert_safe(world, record, read_secret(world))


def test_access_denied_after_deactivation_keeps_the_new_key(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    Faults(world.operator).deny("iam.DeleteAccessKey")
    record = run_drill(world.ctx(), drill_config, history, options(delete_old=True))
    assert record.status is DrillStatus.FAILED
    assert record.detail["failure"]["step"] == "delete_old_key"
    assert record.detail["rolled_back"] is False
    assert world.user_keys() == {world.original[0]: "Inactive",
                                 record.detail["new_key_id"]: "Active"}
    assert_safe(world, record, read_secret(world))


def test_a_rollback_that_is_denied_keeps_a_working_key_then_completes(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    faults = Faults(world.operator)
    faults.deny("iam.UpdateAccessKey")
    blocked = {"on": True}

    def deny_put_during_rollback(request: Any, **_: Any) -> Any:
        from drillkit import _error_response

        if blocked["on"] and history.drills()[0].detail.get("failure"):
            return _error_response(request, 403, "AccessDenied", "denied")
        return None

    world.operator.events.register("before-send.secretsmanager.PutSecretValue",
                                   deny_put_during_rollback)
    record = run_drill(world.ctx(), drill_config, history, options())
    assert record.status is DrillStatus.NEEDS_ATTENTION
    assert record.detail["rollback_failure"]["step"] == "rollback_restore_target"
    # the target still holds the new key, which works, and the new key was not deleted
    assert world.secret()["AccessKeyId"] == record.detail["new_key_id"]
    assert_safe(world, record, read_secret(world), settled=False)
    blocked["on"] = False
    done = rollback_drill(world.ctx(), drill_config, history, record.drill_id)
    assert done.status is DrillStatus.ROLLED_BACK
    assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, done, read_secret(world))


@pytest.mark.parametrize("step", [StepName.CREATE_KEY, StepName.PUBLISH, StepName.VERIFY_NEW,
                                  StepName.DEACTIVATE_OLD])
@pytest.mark.parametrize("recovery", ["resume", "rollback"])
def test_a_network_lost_at_a_step_leaves_a_working_key_and_a_way_back(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        no_retry_pause: None, step: StepName, recovery: str) -> None:
    faults = Faults(world.operator)

    def network_down() -> None:
        faults.network_down = True

    record = run_drill(world.ctx(max_attempts=2), drill_config, history, options(),
                       on_event=at(step, StepState.STARTED, network_down))
    assert record.status is DrillStatus.NEEDS_ATTENTION  # the rollback could not reach AWS either
    assert "drop" in faults.injected
    faults.network_down = False
    assert_safe(world, record, read_secret(world), settled=False)
    if recovery == "resume":
        done = resume_drill(world.ctx(), drill_config, history, record.drill_id)
        assert done.status is DrillStatus.SUCCEEDED
    else:
        done = rollback_drill(world.ctx(), drill_config, history, record.drill_id)
        assert done.status is DrillStatus.ROLLED_BACK
        assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, done, read_secret(world))


def test_a_connection_dropped_once_is_retried(world: World, drill_config: Config,
                                              history: HistoryStore, options: Options,
                                              no_retry_pause: None) -> None:
    faults = Faults(world.operator)
    faults.drop_once("iam.CreateAccessKey")
    record = run_drill(world.ctx(), drill_config, history, options())
    assert faults.injected == ["drop iam.CreateAccessKey"]
    assert record.status is DrillStatus.SUCCEEDED
    assert_safe(world, record, read_secret(world))


def test_a_key_created_but_never_reported_is_found_and_deleted(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    Faults(world.operator).lose_response("iam.CreateAccessKey")
    record = run_drill(world.ctx(), drill_config, history, options())
    assert record.status is DrillStatus.FAILED
    assert "new_key_id" not in record.detail  # the drill never learned the key's id...
    assert len(record.detail["deleted_keys"]) == 1  # ...and still found and removed it
    assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, record, read_secret(world))


KILL_POINTS = [(step, state) for step in FORWARD_STEPS
               for state in (StepState.STARTED, StepState.DONE)]


@pytest.mark.parametrize(("step", "state"), [
    pytest.param(step, state, id=f"{step.value}-{state.value}") for step, state in KILL_POINTS])
@pytest.mark.parametrize("recovery", ["resume", "rollback"])
def test_killed_between_steps_then_resumed_or_rolled_back(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        step: StepName, state: StepState, recovery: str) -> None:
    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(delete_old=True),
                  on_event=at(step, state, kill))
    (record,) = history.drills()
    assert record.status is DrillStatus.RUNNING
    assert is_cut_off(history, record)
    assert explain(record, cut_off=True).startswith(
        "It stopped during step" if state is StepState.STARTED else "It stopped after step")
    assert_safe(world, record, read_secret(world), settled=False)
    deactivated = FORWARD_STEPS.index(step) > FORWARD_STEPS.index(StepName.DEACTIVATE_OLD) or (
        step is StepName.DEACTIVATE_OLD and state is StepState.DONE)
    if recovery == "rollback" and deactivated:
        from auditor.errors import UsageError

        with pytest.raises(UsageError, match="already deactivated the old key"):
            rollback_drill(world.ctx(), drill_config, history, record.drill_id)
        recovery = "resume"
    if recovery == "resume":
        done = resume_drill(world.ctx(), drill_config, history, record.drill_id)
        assert done.status is DrillStatus.SUCCEEDED, done.detail
        assert world.user_keys() == {world.secret()["AccessKeyId"]: "Active"}  # --delete-old
    else:
        done = rollback_drill(world.ctx(), drill_config, history, record.drill_id)
        assert done.status is DrillStatus.ROLLED_BACK, done.detail
        assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, done, read_secret(world))


@pytest.mark.parametrize("operation", ["iam.CreateAccessKey", "secretsmanager.PutSecretValue",
                                       "iam.UpdateAccessKey"])
@pytest.mark.parametrize("recovery", ["resume", "rollback"])
def test_killed_inside_a_step_after_aws_did_the_work(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        operation: str, recovery: str) -> None:
    faults = Faults(world.operator)
    faults.kill_after(operation)
    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options())
    (record,) = history.drills()
    assert_safe(world, record, read_secret(world), settled=False)
    if recovery == "rollback" and operation == "iam.UpdateAccessKey":
        recovery = "resume"  # the old key is inactive: forward is the only way
    faults.calm = True
    if recovery == "resume":
        done = resume_drill(world.ctx(), drill_config, history, record.drill_id)
        assert done.status is DrillStatus.SUCCEEDED, done.detail
    else:
        done = rollback_drill(world.ctx(), drill_config, history, record.drill_id)
        assert done.status is DrillStatus.ROLLED_BACK, done.detail
        assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, done, read_secret(world))


def test_ctrl_c_is_journaled_and_resumable(world: World, drill_config: Config,
                                           history: HistoryStore, options: Options) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(DrillUnfinished):
        run_drill(world.ctx(), drill_config, history, options(),
                  on_event=at(StepName.VERIFY_NEW, StepState.STARTED, interrupt))
    (record,) = history.drills()
    assert record.status is DrillStatus.INTERRUPTED
    assert record.steps[-1].name == "verify_new_key"
    assert record.steps[-1].state == "interrupted"
    done = resume_drill(world.ctx(), drill_config, history, record.drill_id)
    assert done.status is DrillStatus.SUCCEEDED
    assert done.detail["resumed_at"]
    assert_safe(world, done, read_secret(world))


def test_a_deactivation_whose_answer_was_lost_is_undone_before_the_old_key_goes_back(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """IAM is eventually consistent: right after an UpdateAccessKey whose answer was lost,
    ListAccessKeys may still say the old key is Active. The rollback must not trust that
    read and write an inactive key into the target: it sets the old key Active itself."""
    import botocore.exceptions

    lost = {"n": 1}
    stale = {"n": 0}

    def lose_answer(**_: Any) -> None:
        if lost["n"] > 0:
            lost["n"] -= 1
            stale["n"] = 1  # the next read still shows the key as it was
            raise botocore.exceptions.ConnectionClosedError(endpoint_url="https://aws.invalid")

    def stale_read(parsed: dict[str, Any], **_: Any) -> None:
        if stale["n"] > 0:
            stale["n"] -= 1
            for key in parsed.get("AccessKeyMetadata", []):
                if key["AccessKeyId"] == world.original[0]:
                    key["Status"] = "Active"

    world.operator.events.register("after-call.iam.UpdateAccessKey", lose_answer)
    world.operator.events.register("after-call.iam.ListAccessKeys", stale_read)
    record = run_drill(world.ctx(), drill_config, history, options())
    assert record.status is DrillStatus.FAILED, record.detail
    assert record.detail["failure"]["step"] == "deactivate_old_key"
    assert record.detail["rolled_back"] is True
    assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, record, read_secret(world))


def test_a_resume_past_deactivation_stops_when_the_target_no_longer_holds_the_new_key(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """Someone put the old key back by hand after the drill deactivated it: finishing
    forward (and deleting the old key) would take the application's key away."""
    import json

    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(delete_old=True),
                  on_event=at(StepName.DEACTIVATE_OLD, StepState.DONE, kill))
    (record,) = history.drills()
    key_id, secret = world.original
    world.admin.client("secretsmanager").put_secret_value(
        SecretId=record.target.partition(":")[2],
        SecretString=json.dumps({"AccessKeyId": key_id, "SecretAccessKey": secret}))
    with pytest.raises(DrillUnfinished, match="not the drill's new key"):
        resume_drill(world.ctx(), drill_config, history, record.drill_id)
    assert history.load_drill(record.drill_id).status is DrillStatus.NEEDS_ATTENTION
    assert world.user_keys() == {key_id: "Inactive", record.detail["new_key_id"]: "Active"}


@pytest.mark.parametrize("recovery", ["resume", "rollback"])
def test_a_denied_read_of_the_kept_old_value_is_one_line_not_a_traceback(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        recovery: str) -> None:
    """resume/rollback read the old key back from the target's own storage (here the
    secret's previous version); an AWS error there is an IrreadyError, and the drill is
    left NEEDS_ATTENTION with the target holding the new, working key."""
    import botocore.exceptions

    from auditor.errors import AwsUnavailable

    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(),
                  on_event=at(StepName.PUBLISH, StepState.DONE, kill))
    (record,) = history.drills()

    def deny_versions(params: dict[str, Any], **_: Any) -> None:
        if params.get("VersionId"):
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "denied"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}}, "GetSecretValue")

    world.operator.events.register("before-parameter-build.secretsmanager.GetSecretValue",
                                   deny_versions)
    recover = resume_drill if recovery == "resume" else rollback_drill
    with pytest.raises(AwsUnavailable, match="AccessDeniedException"):
        recover(world.ctx(), drill_config, history, record.drill_id)
    assert history.load_drill(record.drill_id).status is DrillStatus.NEEDS_ATTENTION
    assert world.secret()["AccessKeyId"] == record.detail["new_key_id"]
    assert_safe(world, record, read_secret(world), settled=False)


def test_a_key_created_but_never_reported_is_found_even_when_iam_is_slow_to_list_it(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """IAM is eventually consistent: right after a CreateAccessKey whose answer was lost,
    ListAccessKeys may not show the key yet. The rollback looks again (until the
    propagation timeout) instead of concluding that no key was made."""
    faults = Faults(world.operator)
    faults.lose_response("iam.CreateAccessKey")
    hidden = {"n": 1}

    def stale_read(parsed: dict[str, Any], **_: Any) -> None:
        if hidden["n"] > 0 and faults.injected:
            hidden["n"] -= 1
            parsed["AccessKeyMetadata"] = [k for k in parsed["AccessKeyMetadata"]
                                           if k["AccessKeyId"] == world.original[0]]

    world.operator.events.register("after-call.iam.ListAccessKeys", stale_read)
    record = run_drill(world.ctx(), drill_config, history, options())
    assert hidden["n"] == 0  # the stale answer was given
    assert record.status is DrillStatus.FAILED, record.detail
    assert len(record.detail["deleted_keys"]) == 1
    assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, record, read_secret(world))


def test_a_refused_create_does_not_wait_for_a_key_that_was_never_made(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    slept: list[float] = []
    Faults(world.operator).deny("iam.CreateAccessKey")
    record = run_drill(world.ctx(), drill_config, history,
                       options(propagation_timeout=30.0), sleep=slept.append)
    assert record.status is DrillStatus.FAILED
    assert record.detail["rolled_back"] is True
    assert sum(slept) < 5  # only the old key's check, not 30 s of looking for a new key
    assert_safe(world, record, read_secret(world))


def test_a_resume_that_cannot_know_the_new_secret_rolls_back_at_once_and_says_why(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """A command target may keep secrets to itself on "read". After a kill, the new
    key's secret is gone: the new key cannot be proven to work, so the drill rolls back,
    saying so, instead of trying an empty secret until the propagation timeout."""
    import json
    import sys

    from drillkit import STORE_SCRIPT, make_target

    spec, read_state = make_target(world, "command")
    script = world.tmp / "store.py"
    script.write_text(STORE_SCRIPT.replace(
        'print(json.dumps(data["current"]))',
        'print(json.dumps({"AccessKeyId": data["current"]["AccessKeyId"]}))'))
    assert spec.startswith(f"command:{sys.executable} {script}")
    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(spec),
                  on_event=at(StepName.PUBLISH, StepState.DONE, kill))
    (record,) = history.drills()
    slept: list[float] = []
    done = resume_drill(world.ctx(), drill_config, history, record.drill_id,
                        sleep=slept.append)
    assert done.status is DrillStatus.FAILED, done.detail
    assert done.detail["failure"]["step"] == "verify_new_key"
    assert "secret" in done.detail["failure"]["reason"]
    assert done.detail["rolled_back"] is True
    assert sum(slept) == 0
    assert json.loads((world.tmp / "state.json").read_text())["current"]["AccessKeyId"] \
        == world.original[0]
    assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, done, read_state)


def test_a_key_someone_else_made_meanwhile_is_not_deleted_by_the_rollback(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """Every create of the drill reported its key, so only those keys are the drill's:
    a key created by hand while the drill was stopped is not the rollback's to delete."""
    with pytest.raises(SimulatedKill):
        run_drill(world.ctx(), drill_config, history, options(),
                  on_event=at(StepName.CREATE_KEY, StepState.DONE, kill))
    (record,) = history.drills()
    iam = world.admin.client("iam")
    iam.delete_access_key(UserName="drill-user", AccessKeyId=record.detail["new_key_id"])
    by_hand = iam.create_access_key(UserName="drill-user")["AccessKey"]["AccessKeyId"]
    done = rollback_drill(world.ctx(), drill_config, history, record.drill_id)
    assert done.status is DrillStatus.ROLLED_BACK, done.detail
    assert world.user_keys() == {world.original[0]: "Active", by_hand: "Active"}
    assert world.secret()["AccessKeyId"] == world.original[0]
