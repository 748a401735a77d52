"""The drill end to end against moto with IAM enforcement, run as an operator that holds
only the drill policy's actions: every kind of target, dry run, rollback, make-room,
delete-old, the lock, and the incident estimate."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from drillkit import (
    ACCOUNT,
    SECRET,
    TARGET_KINDS,
    USER,
    World,
    assert_safe,
    make_target,
    read_secret,
)

from auditor.config import Config
from auditor.errors import ExitCode, NotFound, UsageError
from auditor.models import AuditRun, Finding, Severity, Status
from auditor.store import HistoryStore
from drills.errors import DrillBusy, TargetError
from drills.journal import user_lock
from drills.model import FORWARD_STEPS, DrillOptions, DrillStatus
from drills.rotation import plan_drill, rollback_drill, run_drill

Options = Callable[..., DrillOptions]


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_a_drill_rotates_through_every_kind_of_target(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        kind: str) -> None:
    spec, read = make_target(world, kind)
    before = Path(world.tmp).glob(".*.bak")
    record = run_drill(world.ctx(), drill_config, history, options(spec))
    assert record.status is DrillStatus.SUCCEEDED, record.detail
    assert [s.name for s in record.steps] == [s.value for s in FORWARD_STEPS]
    new_key = read()[0]
    assert new_key == record.detail["new_key_id"] != world.original[0]
    assert world.user_keys() == {world.original[0]: "Inactive", new_key: "Active"}
    assert world.authenticates_as(*world.original) is None  # step 8, for real
    assert record.rotation_seconds is not None
    assert record.rotation_seconds <= record.target_seconds == 15 * 60
    assert_safe(world, record, read)
    assert list(before) == []
    assert not list(world.tmp.glob(".*irready*"))  # backups and temporary files are gone


def test_files_keep_their_other_content_and_mode(world: World, drill_config: Config,
                                                 history: HistoryStore, options: Options
                                                 ) -> None:
    spec, read = make_target(world, "credentials-file")
    path = world.tmp / "credentials"
    text = path.read_text()
    run_drill(world.ctx(), drill_config, history, options(spec))
    new_id, new_secret = read()
    assert path.read_text() == text.replace(world.original[0], new_id).replace(
        world.original[1], new_secret)
    assert path.stat().st_mode & 0o777 == 0o600


def test_secrets_manager_keeps_the_secret_s_other_fields(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    run_drill(world.ctx(), drill_config, history, options())
    assert world.secret()["region"] == "us-east-1"


def test_dry_run_changes_nothing_and_records_nothing(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    keys, secret = world.user_keys(), world.secret()
    plan = plan_drill(world.ctx(), drill_config, history, options(delete_old=True))
    assert plan.old_key_id == world.original[0]
    assert [name for name, _ in plan.steps] == list(FORWARD_STEPS)
    assert "secretsmanager:PutSecretValue" in dict(plan.steps)[FORWARD_STEPS[2]]
    assert world.user_keys() == keys
    assert world.secret() == secret
    assert history.drills() == []


def test_delete_old_deletes_it(world: World, drill_config: Config, history: HistoryStore,
                               options: Options) -> None:
    record = run_drill(world.ctx(), drill_config, history, options(delete_old=True))
    assert record.status is DrillStatus.SUCCEEDED
    assert world.user_keys() == {record.detail["new_key_id"]: "Active"}


def _second_key(world: World, status: str) -> str:
    iam = world.admin.client("iam")
    key_id = str(iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"])
    iam.update_access_key(UserName=USER, AccessKeyId=key_id, Status=status)
    return key_id


def test_two_keys_need_make_room(world: World, drill_config: Config, history: HistoryStore,
                                 options: Options) -> None:
    spare = _second_key(world, "Inactive")
    with pytest.raises(UsageError, match=f"already has two keys .inactive: {spare}.; pass "
                                         "--make-room"):
        run_drill(world.ctx(), drill_config, history, options())
    assert history.drills() == []
    record = run_drill(world.ctx(), drill_config, history, options(make_room=True))
    assert record.status is DrillStatus.SUCCEEDED
    assert spare not in world.user_keys()
    assert record.steps[0].detail["deleted_inactive_key"] == spare


def test_two_active_keys_are_never_touched(world: World, drill_config: Config,
                                           history: HistoryStore, options: Options) -> None:
    spare = _second_key(world, "Active")
    with pytest.raises(UsageError, match="two active keys"):
        run_drill(world.ctx(), drill_config, history, options(make_room=True))
    assert world.user_keys() == {world.original[0]: "Active", spare: "Active"}


@pytest.mark.parametrize(("change", "error", "message"), [
    pytest.param({"user": "nobody"}, NotFound, "no IAM user 'nobody' in account 123456789012",
                 id="unknown user"),
    pytest.param({"user": "root"}, UsageError, "the root user cannot be drilled",
                 id="root"),
    pytest.param({"user": "arn:aws:iam::123456789012:root"}, UsageError,
                 "the root user cannot be drilled", id="root arn"),
    pytest.param({"user": "admin"}, UsageError,
                 "admin is not allowed to be drilled: list it in [drill] users",
                 id="user not allowed"),
    pytest.param({"target": "secretsmanager:missing"}, TargetError,
                 "secretsmanager:missing: the secret does not exist", id="missing target"),
    pytest.param({"target": "ssm"}, TargetError, "malformed target 'ssm'",
                 id="malformed target"),
])
def test_bad_input_is_one_error_and_changes_nothing(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        change: dict[str, str], error: type[Exception], message: str) -> None:
    keys, secret = world.user_keys(), world.secret()
    with pytest.raises(error) as caught:
        run_drill(world.ctx(), drill_config, history, options(**change))
    assert message in str(caught.value)
    assert int(getattr(caught.value, "exit_code", 0)) == ExitCode.USAGE
    assert world.user_keys() == keys
    assert world.secret() == secret
    assert history.drills() == []


def test_a_target_holding_another_key_is_refused(world: World, drill_config: Config,
                                                 history: HistoryStore, options: Options
                                                 ) -> None:
    admin_sm = world.admin.client("secretsmanager")
    admin_sm.create_secret(Name="someone-else", SecretString=json.dumps(
        {"AccessKeyId": world.operator_key[0], "SecretAccessKey": world.operator_key[1]}))
    with pytest.raises(TargetError, match=f"holds key {world.operator_key[0]}, which is not a "
                                          f"key of {USER}"):
        run_drill(world.ctx(), drill_config, history, options("secretsmanager:someone-else"))
    assert world.user_keys() == {world.original[0]: "Active"}


def test_a_target_whose_secret_does_not_authenticate_is_refused(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    """The application has no working key to begin with: a rollback would put that broken
    key back, so the drill must not start."""
    world.admin.client("secretsmanager").put_secret_value(SecretId=SECRET, SecretString=(
        json.dumps({"AccessKeyId": world.original[0], "SecretAccessKey": "x" * 40})))
    with pytest.raises(TargetError, match="does not authenticate"):
        run_drill(world.ctx(), drill_config, history, options())
    assert world.user_keys() == {world.original[0]: "Active"}
    assert history.drills() == []


def test_the_drilled_user_cannot_drill_itself(world: World, drill_config: Config,
                                              history: HistoryStore, options: Options) -> None:
    import boto3

    from auditor.session import AwsContext

    itself = boto3.Session(aws_access_key_id=world.original[0],
                           aws_secret_access_key=world.original[1], region_name="us-east-1")
    as_itself = AwsContext(session=itself)
    with pytest.raises(UsageError, match="irready is running as drill-user itself"):
        plan_drill(as_itself, drill_config, history, options())


def test_a_failed_health_check_rolls_back_and_restarts_on_the_old_key(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    restarts = world.tmp / "restarts.log"
    restart = f"{sys.executable} -c \"open('{restarts}', 'a').write('restart\\n')\""
    record = run_drill(world.ctx(), drill_config, history, options(
        restart_command=restart, health_command=f"{sys.executable} -c 'raise SystemExit(3)'"))
    assert record.status is DrillStatus.FAILED
    assert record.detail["failure"]["step"] == "health_check"
    assert "unhealthy after 1 s: health command exited with 3" in \
        record.detail["failure"]["reason"]
    assert record.detail["rolled_back"] is True
    assert [s.name for s in record.steps][-3:] == [
        "rollback_restore_target", "rollback_delete_new_key", "rollback_restart"]
    assert restarts.read_text() == "restart\nrestart\n"  # once onto the new key, once back
    assert world.secret()["AccessKeyId"] == world.original[0]
    assert world.user_keys() == {world.original[0]: "Active"}
    assert_safe(world, record, read_secret(world))


def test_a_health_url_is_checked(world: World, drill_config: Config, history: HistoryStore,
                                 options: Options) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        record = run_drill(world.ctx(), drill_config, history,
                           options(health_url=f"{base}/health"))
        assert record.status is DrillStatus.SUCCEEDED
        assert record.steps[5].detail["last"] == "healthy"
        failed = run_drill(world.ctx(), drill_config, history, options(
            health_url=f"{base}/broken", health_timeout=0.3, make_room=True))
    finally:
        server.shutdown()
        server.server_close()
    assert failed.status is DrillStatus.FAILED
    assert f"{base}/broken: HTTP 503" in failed.detail["failure"]["reason"]
    assert_safe(world, failed, read_secret(world))


def test_two_drills_on_one_user_cannot_run_at_once(world: World, drill_config: Config,
                                                   history: HistoryStore, options: Options
                                                   ) -> None:
    with user_lock(history, ACCOUNT, USER, "drill 20260101-000000-abcd"), \
            pytest.raises(DrillBusy) as caught:
        run_drill(world.ctx(), drill_config, history, options())
    assert str(caught.value) == ("another drill on drill-user is running now (drill "
                                 f"20260101-000000-abcd, pid {__import__('os').getpid()}); "
                                 "wait for it to end")
    assert caught.value.exit_code == ExitCode.LOCKED
    assert world.user_keys() == {world.original[0]: "Active"}


def test_an_unfinished_drill_blocks_the_next_until_resolved(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    def stop_after_publish(event: Any) -> None:
        if event.step.value == "publish" and event.state.value == "done":
            raise KeyboardInterrupt

    from drills.errors import DrillUnfinished

    with pytest.raises(DrillUnfinished) as interrupted:
        run_drill(world.ctx(), drill_config, history, options(), on_event=stop_after_publish)
    drill_id = history.drills()[0].drill_id
    assert f"drill {drill_id} was interrupted" in str(interrupted.value)
    assert interrupted.value.exit_code == ExitCode.UNFINISHED
    assert history.load_drill(drill_id).status is DrillStatus.INTERRUPTED
    with pytest.raises(DrillBusy, match=f"drill {drill_id} on drill-user is unfinished "
                                        r"\(INTERRUPTED\): run `irready drill resume"):
        run_drill(world.ctx(), drill_config, history, options())
    record = rollback_drill(world.ctx(), drill_config, history, drill_id)
    assert record.status is DrillStatus.ROLLED_BACK
    assert_safe(world, record, read_secret(world))
    assert run_drill(world.ctx(), drill_config, history, options()).status is DrillStatus.SUCCEEDED


def test_the_incident_estimate_uses_the_last_audit(world: World, drill_config: Config,
                                                   history: HistoryStore, options: Options
                                                   ) -> None:
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    history.save_run(AuditRun(account_id=ACCOUNT, started_at=moment, finished_at=moment,
                              findings=(Finding(
                                  check_id="iam.key_inventory", title="t", status=Status.FAIL,
                                  severity=Severity.MEDIUM, account_id=ACCOUNT,
                                  region="global", resource="x", message="m", remediation="r",
                                  evidence={"account_active_keys": "30"}),)))
    record = run_drill(world.ctx(), drill_config, history, options())
    estimate = record.detail["estimate"]
    assert estimate["active_keys"] == 30
    assert estimate["total_seconds"] == pytest.approx(30 * record.rotation_seconds, abs=0.01)
    assert estimate["window_seconds"] == 4 * 3600
    assert estimate["within_window"] is True


def test_a_simulated_clock_stamps_the_drill(world: World, drill_config: Config,
                                            history: HistoryStore, options: Options) -> None:
    moment = datetime(2026, 4, 6, 7, 0, tzinfo=UTC)
    record = run_drill(world.ctx(), drill_config, history, options(), clock=lambda: moment)
    assert record.started_at == moment
    assert record.drill_id.startswith("20260406-070000-")
    assert record.finished_at is not None
    assert moment < record.finished_at < moment.replace(minute=1)


def test_secret_field_names_are_configurable(world: World, history: HistoryStore,
                                             drill_config: Config, options: Options) -> None:
    from dataclasses import replace

    world.admin.client("secretsmanager").create_secret(Name="custom", SecretString=json.dumps(
        {"id": world.original[0], "key": world.original[1]}))
    config = replace(drill_config, drill=replace(drill_config.drill, secret_id_field="id",
                                                 secret_key_field="key"))
    record = run_drill(world.ctx(), config, history, options("secretsmanager:custom"))
    assert record.status is DrillStatus.SUCCEEDED
    assert set(world.secret("custom")) == {"id", "key"}
    assert SECRET  # the default secret is left alone
    assert world.secret()["AccessKeyId"] == world.original[0]


@pytest.mark.parametrize("kind", ["secretsmanager", "ssm"])
def test_every_call_of_a_drill_is_in_the_shipped_policy(
        world: World, drill_config: Config, history: HistoryStore, options: Options,
        kind: str) -> None:
    from drills.policy import drill_policy, policy_actions

    spec, read = make_target(world, kind)
    calls: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        calls.add(f"{model.service_model.service_name}:{model.name}")

    world.operator.events.register("before-call.*.*", record)
    _second_key(world, "Inactive")
    done = run_drill(world.ctx(), drill_config, history, options(
        spec, make_room=True, delete_old=True))
    failed = run_drill(world.ctx(), drill_config, history, options(
        spec, health_command="false"))  # and a rollback's calls
    assert (done.status, failed.status) == (DrillStatus.SUCCEEDED, DrillStatus.FAILED)
    allowed = policy_actions(drill_policy([USER], [spec]))
    assert calls <= allowed, calls - allowed
    assert "iam:DeleteAccessKey" in calls
    assert_safe(world, failed, read)


def test_the_audit_s_drill_check_reads_the_recorded_drill(
        world: World, drill_config: Config, history: HistoryStore, options: Options) -> None:
    from auditor.audit import perform_audit
    from auditor.registry import discover
    from auditor.session import AwsContext

    def drill_finding() -> Finding:
        run = perform_audit(AwsContext(session=world.admin), drill_config, discover(),
                            only=("drill.recent",), history=history).run
        (finding,) = run.findings
        return finding

    assert drill_finding().status is Status.FAIL
    record = run_drill(world.ctx(), drill_config, history, options())
    finding = drill_finding()
    assert finding.status is Status.PASS
    assert finding.evidence["drill_id"] == record.drill_id
