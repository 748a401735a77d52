"""`irready drill ...` and `irready policy drill` as a user runs them: output, exit
codes, one-line errors that change nothing, JSON to stdout or a file, and no secret in
anything the drill writes or prints."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import clikit
import pytest
from click.testing import Result
from drillkit import SECRET, USER, World

from auditor.clock import utcnow
from auditor.errors import ExitCode
from auditor.store import DrillRecord, HistoryStore
from drills.cli import exit_code
from drills.journal import user_lock
from drills.model import DrillStatus


def write_config(world: World, extra: str = "") -> Path:
    return clikit.write_config(
        world.tmp, f'[history]\npath = "{world.tmp / "history.sqlite3"}"\n\n'
                   f"[drill]\npropagation_timeout_seconds = 1\nhealth_timeout_seconds = 1\n"
                   f"{extra}")


def irready(world: World, *args: Any) -> Result:
    """irready run by the operator whose key the world seeded."""
    return clikit.irready(*args, env={"AWS_ACCESS_KEY_ID": world.operator_key[0],
                                      "AWS_SECRET_ACCESS_KEY": world.operator_key[1]})


def rotate(world: World, *args: Any, report: bool = False) -> Result:
    """`irready drill rotate` on the seeded user and secret (without its PDF report, which
    only the tests of the report need)."""
    return irready(world, "drill", "rotate", "--config", write_config(world), "--user", USER,
                   "--target", f"secretsmanager:{SECRET}", *args,
                   *(() if report else ("--no-report",)))


def drills(world: World) -> list[DrillRecord]:
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        return store.drills()


def test_rotate_prints_each_step_and_the_verdict(world: World) -> None:
    result = rotate(world)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Drill of {USER} through secretsmanager:{SECRET}:"
    assert lines[1].split()[:3] == ["1", "preflight", "checks"]
    assert lines[9].split()[:5] == ["9", "delete", "the", "old", "key"]
    assert "Time to rotate (start to old key deactivated):" in result.stdout
    assert "within the 15-minute target" in result.stdout
    (record,) = drills(world)
    assert f"Drill {record.drill_id}: SUCCEEDED" in result.stdout


def test_dry_run_prints_the_plan_and_changes_nothing(world: World) -> None:
    before = world.user_keys(), world.secret()
    result = rotate(world, "--dry-run", "--delete-old")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing is changed." in result.stdout
    assert f"3. publish it to the target and read it back: secretsmanager:PutSecretValue " \
           f"on secret {SECRET}" in result.stdout
    assert (world.user_keys(), world.secret()) == before
    assert drills(world) == []


@pytest.mark.parametrize("args", [
    pytest.param(["--format", "json"], id="json"),
    pytest.param(["--output", "plan.txt"], id="output"),
])
def test_dry_run_refuses_what_it_would_ignore(world: World, args: list[str]) -> None:
    """The plan is text on stdout: a script asking for JSON, or for a file, would
    otherwise get an empty stdout and exit 0."""
    result = rotate(world, "--dry-run", *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--dry-run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (world.tmp / "plan.txt").exists()


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--user", "nobody"], "no IAM user 'nobody' in account 123456789012",
                 id="unknown user"),
    pytest.param(["--user", "root"], "the root user cannot be drilled", id="root"),
    pytest.param(["--user", "admin"], "admin is not allowed to be drilled", id="not allowed"),
    pytest.param(["--target", "secretsmanager:gone"],
                 "secretsmanager:gone: the secret does not exist", id="target missing"),
    pytest.param(["--target", "secretsmanager:other-key"],
                 "secretsmanager:other-key holds key", id="target holds another key"),
    pytest.param(["--target", "secretsmanager"], "malformed target 'secretsmanager'",
                 id="malformed target"),
    pytest.param(["--propagation-timeout", "0"], "--propagation-timeout: must be a finite positive",
                 id="bad timeout"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(world: World, args: list[str],
                                                          message: str) -> None:
    world.admin.client("secretsmanager").create_secret(Name="other-key", SecretString=json.dumps(
        {"AccessKeyId": world.operator_key[0], "SecretAccessKey": world.operator_key[1]}))
    before = world.user_keys(), world.secret()
    result = rotate(world, *args)
    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert line.startswith("irready: error: ")
    assert message in line
    assert result.stdout == ""
    assert (world.user_keys(), world.secret()) == before
    assert drills(world) == []


def test_user_and_target_come_from_the_config(world: World) -> None:
    config = write_config(world, f'users = ["{USER}"]\n\n[[inventory]]\nuser = "{USER}"\n'
                                 f'owner = "team@example.com"\n'
                                 f'rotation_target = "secretsmanager:{SECRET}"\n')
    result = irready(world, "drill", "rotate", "--config", config, "--no-report")
    assert result.exit_code == 0, result.output
    (record,) = drills(world)
    assert (record.user, record.target) == (USER, f"secretsmanager:{SECRET}")


def test_a_failed_drill_exits_1_and_says_why(world: World) -> None:
    result = rotate(world, "--health-command", f"{sys.executable} -c 'raise SystemExit(4)'")
    assert result.exit_code == ExitCode.FAILED
    assert "Failed at health_check: unhealthy after 1 s: health command exited with 4" \
        in result.stdout
    assert "rolled back: the target holds the old key again" in result.stdout
    assert world.secret()["AccessKeyId"] == world.original[0]


def test_a_drill_on_a_locked_user_exits_5(world: World) -> None:
    with user_lock(HistoryStore(world.tmp / "history.sqlite3"), "123456789012", USER,
                   "drill elsewhere"):
        result = rotate(world)
    assert result.exit_code == ExitCode.LOCKED
    assert result.stderr.startswith("irready: error: another drill on drill-user is running "
                                    "now (drill elsewhere, pid ")


def test_every_status_has_an_exit_code() -> None:
    expected = {DrillStatus.SUCCEEDED: ExitCode.OK, DrillStatus.FAILED: ExitCode.FAILED,
                DrillStatus.ROLLED_BACK: ExitCode.FAILED,
                DrillStatus.RUNNING: ExitCode.UNFINISHED,
                DrillStatus.INTERRUPTED: ExitCode.UNFINISHED,
                DrillStatus.NEEDS_ATTENTION: ExitCode.UNFINISHED}
    for status in DrillStatus:
        record = DrillRecord("d", "123456789012", USER, "t", status, utcnow(), None,
                             None, 900.0)
        assert exit_code(record) is expected[status]
        if status is DrillStatus.ROLLED_BACK:
            assert exit_code(record, rollback=True) is ExitCode.OK


def test_list_and_show_as_json_to_stdout_and_to_a_file(world: World) -> None:
    assert rotate(world).exit_code == 0
    (record,) = drills(world)
    config = write_config(world)
    listed = irready(world, "drill", "list", "--config", config, "--format", "json")
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert document["schema"] == "irready.drills/1"
    assert [d["drill_id"] for d in document["drills"]] == [record.drill_id]
    out = world.tmp / "drill.json"
    shown = irready(world, "drill", "show", record.drill_id, "--config", config, "--format",
                    "json", "--output", out)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == ""
    assert shown.stderr.strip() == f"wrote {out}"
    drill = json.loads(out.read_text())
    assert drill["schema"] == "irready.drill/1"
    assert drill["status"] == "SUCCEEDED"
    assert [s["step"] for s in drill["steps"]][:3] == ["preflight", "create_key", "publish"]
    assert drill["steps"][4]["detail"]["attempts"] == 1
    assert drill["rotation_seconds"] <= drill["target_seconds"]
    terminal = irready(world, "drill", "show", record.drill_id, "--config", config)
    assert "verify the old key" in terminal.stdout
    assert "Status: SUCCEEDED" in terminal.stdout


def test_show_and_list_problems(world: World) -> None:
    config = write_config(world)
    empty = irready(world, "drill", "list", "--config", config)
    assert empty.exit_code == 0
    assert empty.stdout.startswith("no drills in ")
    missing = irready(world, "drill", "show", "nope", "--config", config)
    assert missing.exit_code == ExitCode.USAGE
    assert missing.stderr.startswith("irready: error: no drill with id 'nope' in ")
    assert rotate(world).exit_code == 0
    (record,) = drills(world)
    nowhere = irready(world, "drill", "show", record.drill_id, "--config", config, "--output",
                      world.tmp / "no-such-folder" / "x.json")
    assert nowhere.exit_code == ExitCode.USAGE
    assert "does not exist" in nowhere.stderr
    again = irready(world, "drill", "resume", record.drill_id, "--config", config)
    assert again.exit_code == ExitCode.USAGE
    assert again.stderr.strip() == (f"irready: error: drill {record.drill_id} is SUCCEEDED: "
                                    "nothing to resume or roll back")


def _all_secrets(world: World) -> set[str]:
    """Every secret that was ever in the target: the original key's and each drill's."""
    client = world.admin.client("secretsmanager")
    secrets = {world.original[1]}
    for version in client.list_secret_version_ids(SecretId=SECRET)["Versions"]:
        value = client.get_secret_value(SecretId=SECRET, VersionId=version["VersionId"])
        secrets.add(json.loads(value["SecretString"])["SecretAccessKey"])
    return secrets


@pytest.mark.pdf
def test_no_secret_in_any_output_log_store_or_report(world: World,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # botocore logs request and response bodies at DEBUG
    config = write_config(world)
    outputs: list[str] = []
    failed = rotate(world, "--health-command", "false")
    assert failed.exit_code == ExitCode.FAILED
    report = world.tmp / "drill.json"
    done = rotate(world, "--make-room", "--format", "json", "--output", report, report=True)
    assert done.exit_code == 0, done.output
    (pdf,) = (world.tmp / "xdg-data" / "irready" / "reports").glob("drill-*.pdf")
    assert f"wrote {pdf}" in done.stderr
    for result in (failed, done,
                   irready(world, "drill", "list", "--config", config, "--format", "json"),
                   irready(world, "drill", "list", "--config", config)):
        outputs += [result.stdout, result.stderr]
    for record in drills(world):
        for fmt in ("json", "terminal"):
            shown = irready(world, "drill", "show", record.drill_id, "--config", config,
                            "--format", fmt)
            outputs += [shown.stdout, shown.stderr]
    log = caplog.text  # before this test reads the secrets itself (botocore logs that too)
    assert "Response body" in log  # botocore's DEBUG log was on during the drills
    secrets = _all_secrets(world)
    assert len(secrets) == 3  # the original, the rolled-back drill's, the new one
    artifacts = {f"output {i}": text.encode() for i, text in enumerate(outputs)}
    artifacts["log"] = log.encode()
    artifacts["report"] = report.read_bytes()
    for path in world.tmp.rglob("*"):  # the store, its WAL, the lock files, the reports
        if path.is_file():
            artifacts[str(path.relative_to(world.tmp))] = path.read_bytes()
    assert {"history.sqlite3", "drill.json"} <= set(artifacts)
    from pypdf import PdfReader

    pdf_text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "verify_old_key_rejected" in pdf_text
    artifacts["the PDF's text"] = pdf_text.encode()
    for name, content in artifacts.items():
        for secret in secrets:
            assert secret.encode() not in content, f"a secret leaked into {name}"
    assert not list(world.tmp.glob(".*.bak"))


def test_policy_drill_is_scoped_to_the_drill_users_and_their_targets(world: World) -> None:
    config = write_config(world, f'users = ["{USER}"]\n\n[[inventory]]\nuser = "{USER}"\n'
                                 f'owner = "team@example.com"\n'
                                 f'rotation_target = "secretsmanager:{SECRET}"\n')
    result = irready(world, "policy", "drill", "--config", config, "--target", "ssm:/app/key")
    assert result.exit_code == 0, result.output
    statements = {s["Sid"]: s for s in json.loads(result.stdout)["Statement"]}
    assert statements["IrreadyDrillRotateUserKeys"]["Resource"] == [
        f"arn:aws:iam::*:user/{USER}", f"arn:aws:iam::*:user/*/{USER}"]
    assert statements["IrreadyDrillSecretsManagerTargets"]["Resource"] == [
        f"arn:aws:secretsmanager:*:*:secret:{SECRET}-??????"]
    assert statements["IrreadyDrillSsmTargets"]["Resource"] == [
        "arn:aws:ssm:*:*:parameter/app/key"]
    assert "iam:DeleteAccessKey" in statements["IrreadyDrillRotateUserKeys"]["Action"]
    assert all(s["Resource"] == "*" for s in statements.values()
               if s["Sid"] in ("IrreadyDrillWhoAmI", "IrreadyDrillSsmDescribe"))
    bare = irready(world, "policy", "drill", "--config", write_config(world))
    assert bare.exit_code == ExitCode.USAGE
    assert bare.stderr.strip() == ("irready: error: no drill users: list them in [drill] users "
                                   "in the config, or pass --user NAME")
    only_files = irready(world, "policy", "drill", "--config", write_config(world), "--user",
                         "ci-user")
    sids = [s["Sid"] for s in json.loads(only_files.stdout)["Statement"]]
    assert sids == ["IrreadyDrillWhoAmI", "IrreadyDrillRotateUserKeys"]
