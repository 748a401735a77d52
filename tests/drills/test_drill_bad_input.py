"""Bad input to `irready drill ...`, as a table: each row is refused with its exit code
and one `irready: error:` line, without a traceback, before anything changes: the
user's keys and the target are as they were, no drill is recorded and no lock file is
made (a mistyped user name must not leave one behind)."""

from __future__ import annotations

import json
from pathlib import Path

import clikit
import pytest
from drillkit import SECRET, USER, World

from auditor.errors import ExitCode
from auditor.store import HistoryStore

UNKNOWN_ID = "20261206-000000-abcdef"
LONG_USER = "u" * 300
CONFIG_ROW = "config:"  # the row's first argument is a [drill] setting, not an option

ROTATE = ("drill", "rotate", "--user", USER, "--target", f"secretsmanager:{SECRET}",
          "--no-report")


def error(text: str) -> str:
    return f"irready: error: {text}"


CASES = [
    # -- rotate: commands, URL, timeouts (CLI options) -------------------------------
    pytest.param([*ROTATE, "--restart-command", "no-such-restart-program"], ExitCode.USAGE,
                 error("--restart-command 'no-such-restart-program': no-such-restart-program "
                       "is not found on PATH"),
                 id="a restart command that does not exist"),
    pytest.param([*ROTATE, "--restart-command", "/nonexistent/restart.sh --now"],
                 ExitCode.USAGE,
                 error("--restart-command '/nonexistent/restart.sh --now': "
                       "/nonexistent/restart.sh is not an executable file"),
                 id="a restart command at a path that does not exist"),
    pytest.param([*ROTATE, "--restart-command", 'restart "app'], ExitCode.USAGE,
                 error("--restart-command 'restart \"app' cannot be parsed: No closing "
                       "quotation"),
                 id="a restart command that cannot be parsed"),
    pytest.param([*ROTATE, "--health-command", "no-such-health-check"], ExitCode.USAGE,
                 error("--health-command 'no-such-health-check': no-such-health-check is not "
                       "found on PATH"),
                 id="a health command that does not exist"),
    pytest.param([*ROTATE, "--health-command", "   "], ExitCode.USAGE,
                 error("--health-command: the command is empty"),
                 id="a health command of blanks"),
    pytest.param([*ROTATE, "--health-url", "ftp://app.internal/health"], ExitCode.USAGE,
                 error("--health-url 'ftp://app.internal/health' is not an http(s) URL "
                       "(expected http://HOST[:PORT]/PATH)"),
                 id="a health URL that is not http"),
    pytest.param([*ROTATE, "--health-url", "not a url"], ExitCode.USAGE,
                 error("--health-url 'not a url' is not an http(s) URL "
                       "(expected http://HOST[:PORT]/PATH)"),
                 id="a health URL that is no URL at all"),
    pytest.param([*ROTATE, "--health-url", "http://"], ExitCode.USAGE,
                 error("--health-url 'http://' is not an http(s) URL "
                       "(expected http://HOST[:PORT]/PATH)"),
                 id="a health URL without a host"),
    pytest.param([*ROTATE, "--health-url", "http://app:99999/health"], ExitCode.USAGE,
                 error("--health-url 'http://app:99999/health' is not an http(s) URL "
                       "(expected http://HOST[:PORT]/PATH)"),
                 id="a health URL with a port out of range"),
    *(pytest.param([*ROTATE, option, value], ExitCode.USAGE,
                   error(f"{option}: must be a finite positive number of seconds, got {value}"),
                   id=f"{option} {value}")
      for option in ("--propagation-timeout", "--health-timeout")
      for value in ("nan", "inf", "0", "-1")),
    # -- rotate: the [drill] settings of the config ------------------------------------
    pytest.param([CONFIG_ROW + "health_timeout_seconds = 0", *ROTATE], ExitCode.USAGE,
                 error("{config}: drill.health_timeout_seconds: must be a positive number of "
                       "seconds"),
                 id="a zero timeout in the config"),
    pytest.param([CONFIG_ROW + "propagation_timeout_seconds = -1", *ROTATE], ExitCode.USAGE,
                 error("{config}: drill.propagation_timeout_seconds: must be a positive "
                       "number of seconds"),
                 id="a negative timeout in the config"),
    pytest.param([CONFIG_ROW + "command_timeout_seconds = nan", *ROTATE], ExitCode.USAGE,
                 error("{config}: drill.command_timeout_seconds: expected an integer, got nan"),
                 id="a nan timeout in the config"),
    pytest.param([CONFIG_ROW + 'health_url = "ftp://x"', *ROTATE], ExitCode.USAGE,
                 error("{config}: drill.health_url: 'ftp://x' is not an http(s) URL"),
                 id="a health URL in the config that is not http"),
    pytest.param([CONFIG_ROW + 'restart_command = "restart \\"app"', *ROTATE], ExitCode.USAGE,
                 error("{config}: drill.restart_command: cannot be parsed: No closing "
                       "quotation"),
                 id="a restart command in the config that cannot be parsed"),
    pytest.param([CONFIG_ROW + 'restart_command = "no-such-restart-program"', *ROTATE],
                 ExitCode.USAGE,
                 error("--restart-command 'no-such-restart-program': no-such-restart-program "
                       "is not found on PATH"),
                 id="a restart command in the config that does not exist"),
    # -- rotate: user names --------------------------------------------------------------
    pytest.param(["drill", "rotate", "--user", "nobody", "--target",
                  f"secretsmanager:{SECRET}", "--no-report"], ExitCode.USAGE,
                 error("no IAM user 'nobody' in account 123456789012"),
                 id="a mistyped user name"),
    pytest.param(["drill", "rotate", "--user", LONG_USER, "--target",
                  f"secretsmanager:{SECRET}", "--no-report"], ExitCode.USAGE,
                 error(f"--user '{'u' * 64}... (300 characters)' is not an IAM user name "
                       "(1 to 64 of A-Z a-z 0-9 and _+=,.@-)"),
                 id="a 300-character user name"),
    pytest.param(["drill", "rotate", "--user", "drüll-user", "--target",
                  f"secretsmanager:{SECRET}", "--no-report"], ExitCode.USAGE,
                 error("--user 'drüll-user' is not an IAM user name "
                       "(1 to 64 of A-Z a-z 0-9 and _+=,.@-)"),
                 id="a non-ASCII user name"),
    pytest.param(["drill", "rotate", "--user", "drüll-user", "--target",
                  f"secretsmanager:{SECRET}", "--dry-run"], ExitCode.USAGE,
                 error("--user 'drüll-user' is not an IAM user name "
                       "(1 to 64 of A-Z a-z 0-9 and _+=,.@-)"),
                 id="a non-ASCII user name in a dry run"),
    # -- resume and rollback ----------------------------------------------------------
    pytest.param(["drill", "resume", UNKNOWN_ID, "--no-report"], ExitCode.USAGE,
                 error(f"no drill with id '{UNKNOWN_ID}' in {{history}}"),
                 id="resume of an unknown drill"),
    pytest.param(["drill", "rollback", UNKNOWN_ID, "--no-report"], ExitCode.USAGE,
                 error(f"no drill with id '{UNKNOWN_ID}' in {{history}}"),
                 id="rollback of an unknown drill"),
    pytest.param(["drill", "resume", UNKNOWN_ID, "--restart-command", "no-such-restart-program"],
                 ExitCode.USAGE,
                 error("--restart-command 'no-such-restart-program': no-such-restart-program "
                       "is not found on PATH"),
                 id="resume with a restart command that does not exist"),
    pytest.param(["drill", "rollback", UNKNOWN_ID, "--health-url", "ftp://x"], ExitCode.USAGE,
                 error("--health-url 'ftp://x' is not an http(s) URL "
                       "(expected http://HOST[:PORT]/PATH)"),
                 id="rollback with a health URL that is not http"),
    pytest.param(["drill", "rollback", UNKNOWN_ID, "--health-command", "'unclosed"],
                 ExitCode.USAGE,
                 error("--health-command \"'unclosed\" cannot be parsed: No closing quotation"),
                 id="rollback with a health command that cannot be parsed"),
    pytest.param(["drill", "rollback", UNKNOWN_ID, "--no-restart", "--restart-command", "true"],
                 ExitCode.USAGE,
                 error("--no-restart and --restart-command contradict each other"),
                 id="rollback told both to restart and not to"),
    # -- list and show -----------------------------------------------------------------
    *(pytest.param(["drill", "list", "--limit", value], ExitCode.USAGE,
                   error("Invalid value for '--limit': must be greater than or equal "
                         "to 1 (see 'irready drill list --help')"),
                   id=f"list --limit {value}")
      for value in ("0", "-1")),
    pytest.param(["drill", "show", UNKNOWN_ID], ExitCode.USAGE,
                 error(f"no drill with id '{UNKNOWN_ID}' in {{history}}"),
                 id="show of an unknown drill"),
]


@pytest.mark.parametrize(("args", "expected_exit", "expected_error"), CASES)
def test_bad_input_is_refused_before_anything_changes(
        world: World, args: list[str], expected_exit: int, expected_error: str) -> None:
    history = world.tmp / "history.sqlite3"
    setting = args[0].removeprefix(CONFIG_ROW) if args[0].startswith(CONFIG_ROW) else ""
    timeout = "" if "propagation_timeout" in setting else "propagation_timeout_seconds = 1\n"
    config = clikit.write_config(
        world.tmp, f'[history]\npath = "{history}"\n\n[drill]\n{timeout}{setting}\n')
    args = args[1:] if setting else args
    before = world.user_keys(), world.secret()

    result = clikit.irready(*args, "--config", config,
                            env={"AWS_ACCESS_KEY_ID": world.operator_key[0],
                                 "AWS_SECRET_ACCESS_KEY": world.operator_key[1]})

    assert result.exit_code == expected_exit, result.output
    assert result.stderr.splitlines() == [
        expected_error.format(config=config, history=history)]
    assert result.stdout == ""
    assert (world.user_keys(), world.secret()) == before
    assert not lock_files(history)
    if history.exists():
        with HistoryStore(history) as store:
            assert store.drills() == []


def lock_files(history: Path) -> list[Path]:
    folder = history.with_name(history.name + ".locks")
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_refused_user_name_leaves_no_lock_even_beside_other_locks(world: World) -> None:
    """A drill that ran leaves its own lock file; a mistyped name after it adds none."""
    history = world.tmp / "history.sqlite3"
    config = clikit.write_config(world.tmp, f'[history]\npath = "{history}"\n\n[drill]\n'
                                            "propagation_timeout_seconds = 1\n")
    env = {"AWS_ACCESS_KEY_ID": world.operator_key[0],
           "AWS_SECRET_ACCESS_KEY": world.operator_key[1]}
    ran = clikit.irready(*ROTATE, "--config", config, env=env)
    assert ran.exit_code == 0, ran.output
    locks = lock_files(history)
    assert len(locks) == 1
    for user in ("drill-usr", LONG_USER, "drüll-user"):
        refused = clikit.irready("drill", "rotate", "--user", user, "--target",
                                 f"secretsmanager:{SECRET}", "--no-report", "--config", config,
                                 env=env)
        assert refused.exit_code == ExitCode.USAGE, refused.output
        assert len(refused.stderr.splitlines()) == 1
    assert lock_files(history) == locks
    assert json.dumps(world.secret())  # the target still reads
