"""Each kind of rotation target reads the key it holds, writes a new one atomically
without disturbing anything else in it, keeps the old value where a restore can find
it after a crash, and restores it."""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from drillkit import STORE_SCRIPT

from auditor.fileio import atomic_write
from drills.errors import TargetError
from drills.model import AccessKey
from drills.targets import TargetEnv, parse_target
from drills.targets.command import CommandTarget
from drills.targets.credentials_file import CredentialsFileTarget
from drills.targets.env_file import EnvFileTarget

OLD = AccessKey("AKIAOLDOLDOLDOLDOLD1", "old/secret+value0000000000000000000000000")
NEW = AccessKey("AKIANEWNEWNEWNEWNEW2", "new/secret+value1111111111111111111111111")
CREDENTIALS = """# managed by hand: keep this comment
[default]
aws_access_key_id = AKIADEFAULTDEFAULT00
aws_secret_access_key = default-secret
region = eu-west-1

; the application's profile
[app]
aws_access_key_id = {id}
aws_secret_access_key={secret}
region = us-east-1

[other]
aws_access_key_id = AKIAOTHEROTHEROTHER0
aws_secret_access_key = other-secret
"""


def env(ctx: Any = None) -> TargetEnv:
    return TargetEnv(ctx)


def command_target(tmp_path: Path, current: AccessKey = OLD) -> tuple[str, Path]:
    script = tmp_path / "store.py"
    script.write_text(STORE_SCRIPT)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"current": {"AccessKeyId": current.key_id,
                                             "SecretAccessKey": current.secret}}))
    return f"command:{sys.executable} {script} {state}", state


@pytest.mark.parametrize(("spec", "message"), [
    pytest.param("secretsmanager", "malformed target 'secretsmanager': expected TYPE:VALUE",
                 id="no value"),
    pytest.param("vault:secret/app", "unknown target type 'vault'", id="unknown type"),
    pytest.param("ssm:  ", "malformed target 'ssm: ': expected TYPE:VALUE", id="blank value"),
    pytest.param("credentials-file:#app", "expected credentials-file:PATH#PROFILE",
                 id="no path"),
    pytest.param("command:python3 'unclosed", "No closing quotation", id="bad quoting"),
])
def test_a_malformed_target_is_one_clear_error(spec: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        parse_target(spec, env())
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_secrets_manager_round_trip_keeps_other_fields_and_the_previous_version(
        aws: Any) -> None:
    from auditor.session import AwsContext

    client = aws.client("secretsmanager")
    client.create_secret(Name="app/key", SecretString=json.dumps(
        {"AccessKeyId": OLD.key_id, "SecretAccessKey": OLD.secret, "region": "eu-west-1"}))
    target = parse_target("secretsmanager:app/key", env(AwsContext(session=aws)))
    assert target.read() == OLD
    state = target.prepare("d1")
    state.update(target.publish(NEW, "drill-user"))
    stored = json.loads(client.get_secret_value(SecretId="app/key")["SecretString"])
    assert stored == {"AccessKeyId": NEW.key_id, "SecretAccessKey": NEW.secret,
                      "region": "eu-west-1"}
    assert target.previous(state) == OLD  # what a restore after a crash relies on
    target.restore(OLD.key_id, None, state)  # no secret in memory: the version is moved back
    assert target.read() == OLD
    assert json.loads(client.get_secret_value(SecretId="app/key")["SecretString"])["region"] \
        == "eu-west-1"


def test_secrets_manager_missing_secret(aws: Any) -> None:
    from auditor.session import AwsContext

    target = parse_target("secretsmanager:nope", env(AwsContext(session=aws)))
    with pytest.raises(TargetError, match="secretsmanager:nope: the secret does not exist"):
        target.read()


def test_ssm_round_trip_uses_the_parameter_history(aws: Any) -> None:
    from auditor.session import AwsContext

    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/app/key", Type="SecureString", Value=json.dumps(
        {"AccessKeyId": OLD.key_id, "SecretAccessKey": OLD.secret}))
    target = parse_target("ssm:/app/key", env(AwsContext(session=aws)))
    state = target.prepare("d1")
    assert state["previous_version"] == "1"
    state.update(target.publish(NEW, "drill-user"))
    assert target.read() == NEW
    parameter = ssm.get_parameter(Name="/app/key", WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert target.previous(state) == OLD
    target.restore(OLD.key_id, None, state)
    assert target.read() == OLD


def test_ssm_restores_from_memory_when_the_kept_version_is_gone(aws: Any) -> None:
    """Parameter Store keeps 100 versions: a busy parameter can lose the old one. The
    secret still in memory then restores it, as it does for Secrets Manager."""
    from auditor.session import AwsContext

    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/app/key", Type="SecureString", Value=json.dumps(
        {"AccessKeyId": OLD.key_id, "SecretAccessKey": OLD.secret}))
    target = parse_target("ssm:/app/key", env(AwsContext(session=aws)))
    state = {**target.prepare("d1"), "previous_version": "99"}
    target.publish(NEW, "drill-user")
    assert target.previous(state) is None
    target.restore(OLD.key_id, OLD, state)
    assert target.read() == OLD


def test_ssm_refuses_a_plain_string_parameter(aws: Any) -> None:
    from auditor.session import AwsContext

    aws.client("ssm").put_parameter(Name="/app/plain", Type="String", Value=json.dumps(
        {"AccessKeyId": OLD.key_id, "SecretAccessKey": OLD.secret}))
    target = parse_target("ssm:/app/plain", env(AwsContext(session=aws)))
    with pytest.raises(TargetError, match="is a String, not a SecureString"):
        target.read()


def test_credentials_file_changes_two_lines_of_one_profile(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text(CREDENTIALS.format(id=OLD.key_id, secret=OLD.secret))
    path.chmod(0o600)
    target = parse_target(f"credentials-file:{path}#app", env())
    assert isinstance(target, CredentialsFileTarget)
    assert target.read() == OLD
    state = target.prepare("d1")
    backup = Path(state["backup"])
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    target.publish(NEW, "drill-user")
    assert path.read_text() == CREDENTIALS.format(id=NEW.key_id, secret=NEW.secret)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert target.previous(state) == OLD
    target.restore(OLD.key_id, None, state)  # from the backup: the secret left memory
    assert path.read_text() == CREDENTIALS.format(id=OLD.key_id, secret=OLD.secret)
    target.cleanup(state)
    assert not backup.exists()


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("[default]\naws_access_key_id = A\naws_secret_access_key = s\n",
                 "no profile [app]", id="profile missing"),
    pytest.param("[app]\naws_access_key_id = A\n", "has no aws_secret_access_key",
                 id="secret missing"),
    pytest.param("[app]\naws_access_key_id = A\naws_secret_access_key = s\n"
                 "aws_session_token = t\n", "temporary credentials", id="session token"),
])
def test_credentials_file_problems(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "credentials"
    path.write_text(text)
    with pytest.raises(TargetError, match=re.escape(message)):
        parse_target(f"credentials-file:{path}#app", env()).read()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="does not exist"):
        parse_target(f"env-file:{tmp_path / 'nope.env'}", env()).read()


def test_env_file_keeps_other_lines_export_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    original = ("# the mailer\nSMTP_HOST=mail.example.com\n"
                f"export AWS_ACCESS_KEY_ID={OLD.key_id}\n"
                f'AWS_SECRET_ACCESS_KEY="{OLD.secret}"\nAWS_REGION=us-east-1\n')
    path.write_text(original)
    path.chmod(0o640)
    target = parse_target(f"env-file:{path}", env())
    assert isinstance(target, EnvFileTarget)
    assert target.read() == OLD
    state = target.prepare("d1")
    target.publish(NEW, "drill-user")
    assert path.read_text() == original.replace(OLD.key_id, NEW.key_id).replace(
        OLD.secret, NEW.secret)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    target.restore(OLD.key_id, None, state)
    assert path.read_text() == original


def test_a_symlinked_file_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    link = tmp_path / "link.env"
    link.symlink_to(real)
    atomic_write(link, "A=2\n")
    assert link.is_symlink()
    assert real.read_text() == "A=2\n"


def test_a_planted_link_at_a_temporary_name_is_not_followed(tmp_path: Path) -> None:
    """In a folder others can write to, a link planted at the name of the file that is
    about to receive a secret must not send the secret (or a truncation) elsewhere."""
    import os

    path = tmp_path / "app.env"
    path.write_text(f"AWS_ACCESS_KEY_ID={OLD.key_id}\nAWS_SECRET_ACCESS_KEY={OLD.secret}\n")
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    target = parse_target(f"env-file:{path}", env())
    assert isinstance(target, EnvFileTarget)
    backup = target.backup_path("d1")
    for planted in (path.with_name(f".{path.name}.irready-{os.getpid()}.tmp"),
                    backup.with_name(backup.name + ".tmp")):
        planted.symlink_to(victim)
    state = target.prepare("d1")
    target.publish(NEW, "drill-user")
    assert victim.read_text() == "untouched\n"
    assert not path.is_symlink()
    assert target.read() == NEW
    assert target.previous(state) == OLD


def test_command_gets_the_key_on_stdin_only(tmp_path: Path) -> None:
    spec, state_file = command_target(tmp_path)
    target = parse_target(spec, env())
    assert isinstance(target, CommandTarget)
    assert target.read() == OLD
    state = target.prepare("d1")
    target.publish(NEW, "drill-user")
    assert target.read() == NEW
    target.restore(OLD.key_id, None, state)  # the command restores its own previous value
    assert target.read() == OLD
    log = json.loads(state_file.read_text())["log"]
    assert [entry["action"] for entry in log] == ["read", "write", "read", "read", "restore",
                                                  "read"]
    for entry in log:
        assert not entry["secret_in_env"]
        assert not any(NEW.secret in arg or OLD.secret in arg for arg in entry["argv"])


def test_a_failing_command_says_how_without_echoing_secrets(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(f"import sys; sys.exit('vault sealed: {NEW.secret}')")
    from auditor.redact import Redactor

    redactor = Redactor()
    redactor.add(NEW.secret)
    target = parse_target(f"command:{sys.executable} {script}", TargetEnv(None,
                                                                          redactor=redactor))
    with pytest.raises(TargetError) as caught:
        target.publish(NEW, "drill-user")
    assert "'write' exited with 1: vault sealed: [secret]" in str(caught.value)
    assert NEW.secret not in str(caught.value)


def test_two_drills_on_two_profiles_of_one_file_do_not_undo_each_other(
        tmp_path: Path) -> None:
    """Two users' drills may run at once (the lock is per user) on two profiles of one
    credentials file. Each rewrites the whole file: without a lock around the read and
    the rename, the second would put the first profile's old key back."""
    import threading

    path = tmp_path / "credentials"
    path.write_text(f"[a]\naws_access_key_id = {OLD.key_id}\naws_secret_access_key = "
                    f"{OLD.secret}\n[b]\naws_access_key_id = AKIAB\naws_secret_access_key = b\n")
    first = parse_target(f"credentials-file:{path}#a", env())
    second = parse_target(f"credentials-file:{path}#b", env())
    assert isinstance(first, CredentialsFileTarget)
    other = threading.Thread(target=second.publish, args=(AccessKey("AKIABNEW", "b2"), "b"))
    original_replace = first.replace

    def slow_replace(text: str, key: AccessKey) -> str:
        other.start()  # the other drill publishes while this one is between read and write
        other.join(timeout=0.5)
        return original_replace(text, key)

    first.replace = slow_replace  # type: ignore[method-assign]
    first.publish(NEW, "a")
    other.join(timeout=10)
    assert not other.is_alive()
    assert first.read() == NEW
    assert second.read() == AccessKey("AKIABNEW", "b2")


def test_cleanup_removes_what_a_killed_write_left_beside_the_file(tmp_path: Path) -> None:
    """kill -9 between writing the temporary file and renaming it leaves the new secret
    in a hidden file; the drill's end (its resume or rollback) removes it."""
    path = tmp_path / "app.env"
    path.write_text(f"AWS_ACCESS_KEY_ID={OLD.key_id}\nAWS_SECRET_ACCESS_KEY={OLD.secret}\n")
    target = parse_target(f"env-file:{path}", env())
    assert isinstance(target, EnvFileTarget)
    state = target.prepare("d1")
    left = [tmp_path / ".app.env.irready-4242.tmp",
            target.backup_path("d1").with_name(target.backup_path("d1").name + ".tmp")]
    for stale in left:
        stale.write_text(f"AWS_SECRET_ACCESS_KEY={NEW.secret}\n")
    unrelated = tmp_path / ".other.env.irready-4242.tmp"
    unrelated.write_text("not ours\n")
    target.cleanup(state)
    assert [p for p in left if p.exists()] == []
    assert unrelated.exists()
    assert not Path(state["backup"]).exists()
