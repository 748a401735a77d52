"""Bad input across the command line, as a table: each row is what a user typed (and
the environment they typed it in), the exit code, and the one line they read. Every row
also proves that nothing was written: no history store, no lock, no report, no folder.
Beside the table: the help reads naturally (no `--no-no-` flag, no Python type or
parameter name as a placeholder), `irready checks` fits 80 columns, and `config check`
warns about an expired waiver without failing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from clikit import irready

from auditor import __version__
from auditor.errors import ExitCode

USAGE = int(ExitCode.USAGE)
URL_HINT = "is not an http(s) URL (like https://localhost:4566)"

CONFIGS = {
    "unknown-scheme.toml": '[[inventory]]\nuser = "app"\nowner = "me"\n'
                           'rotation_target = "vault:secret/app"\n',
    "no-scheme.toml": '[[inventory]]\nuser = "app"\nowner = "me"\n'
                      'rotation_target = "secretsmanager"\n',
    "duplicate-user.toml": '[[inventory]]\nuser = "app"\nowner = "me"\n'
                           'rotation_target = "ssm:/a"\n'
                           '[[inventory]]\nuser = "app"\nowner = "me"\n'
                           'rotation_target = "ssm:/b"\n',
    "no-drill-users.toml": '[drill]\nusers = []\n',
    "everything-off.toml": '[schedule]\naudit = "off"\ndrill = "off"\nreport = "off"\n'
                           'report_after_drill = false\n',
}
TARGET_TYPES = "command, credentials-file, env-file, secretsmanager, ssm"


@pytest.mark.parametrize(
    ("args", "env", "expected_exit", "expected_line"),
    [
        pytest.param(("audit", "--endpoint-url", "ftp://example.com"), {}, USAGE,
                     f"--endpoint-url: 'ftp://example.com' {URL_HINT}",
                     id="an ftp endpoint is a usage error, not an account that cannot be seen"),
        pytest.param(("audit", "--endpoint-url", "not a url"), {}, USAGE,
                     f"--endpoint-url: 'not a url' {URL_HINT}", id="an endpoint that is no URL"),
        pytest.param(("audit", "--endpoint-url", "http://localhost:port"), {}, USAGE,
                     f"--endpoint-url: 'http://localhost:port' {URL_HINT}",
                     id="an endpoint whose port is no number"),
        pytest.param(("audit",), {"AWS_ENDPOINT_URL": "not a url"}, USAGE,
                     f"AWS_ENDPOINT_URL: 'not a url' {URL_HINT}",
                     id="AWS_ENDPOINT_URL is checked as --endpoint-url is"),
        pytest.param(("audit",), {"AWS_ENDPOINT_URL": "ftp://example.com"}, USAGE,
                     f"AWS_ENDPOINT_URL: 'ftp://example.com' {URL_HINT}",
                     id="an ftp AWS_ENDPOINT_URL"),
        pytest.param(("drill", "rotate", "--user", "u", "--target", "ssm:/x",
                      "--endpoint-url", "ftp://example.com"), {}, USAGE,
                     f"--endpoint-url: 'ftp://example.com' {URL_HINT}",
                     id="the drill checks its endpoint too"),
        pytest.param(("audit", "--region", "us_east_1"), {}, USAGE,
                     "--region: 'us_east_1' is not a region name like us-east-1",
                     id="a region typo in --region"),
        pytest.param(("audit",), {"AWS_DEFAULT_REGION": "us_east_1"}, USAGE,
                     "AWS_DEFAULT_REGION: 'us_east_1' is not a region name like us-east-1",
                     id="the same typo in AWS_DEFAULT_REGION is the same usage error"),
        pytest.param(("schedule", "job", "bogus"), {}, USAGE,
                     "Invalid value for 'JOB': 'bogus' is not one of 'audit', 'drill', "
                     "'detect', 'report' (see 'irready schedule job --help')",
                     id="an unknown scheduled job, worded as a sentence"),
        pytest.param(("schedule", "job"), {}, USAGE,
                     "Missing argument 'JOB'. Choose from: audit, drill, detect, report "
                     "(see 'irready schedule job --help')", id="no scheduled job named"),
        pytest.param(("schedule", "job", "drill", "--config", "no-drill-users.toml"), {},
                     USAGE, "the drill job is off: no [drill] users in the config",
                     id="a drill job without drill users"),
        pytest.param(("schedule", "status", "--format", "xml"), {}, USAGE,
                     "Invalid value for '--format' / '-f': 'xml' is not one of 'table', "
                     "'json' (see 'irready schedule status --help')",
                     id="an unknown status format"),
        pytest.param(("schedule", "run", "--config", "everything-off.toml"), {}, USAGE,
                     "schedule: every job is off, so there is nothing to run",
                     id="a scheduler with nothing to run"),
        pytest.param(("schedule", "install"), {}, USAGE, "choose one of --cron or --systemd",
                     id="install without --cron or --systemd"),
        pytest.param(("schedule", "install", "--cron", "--service"), {}, USAGE,
                     "--service goes with --systemd", id="--service without --systemd"),
        pytest.param(("config", "check", "unknown-scheme.toml"), {}, USAGE,
                     "unknown-scheme.toml: inventory[0].rotation_target: unknown target type "
                     f"'vault' in 'vault:secret/app' (known: {TARGET_TYPES})",
                     id="a rotation target of a type no drill knows"),
        pytest.param(("config", "check", "no-scheme.toml"), {}, USAGE,
                     "no-scheme.toml: inventory[0].rotation_target: 'secretsmanager' is not "
                     "TYPE:VALUE, one of secretsmanager:SECRET_ID, ssm:PARAMETER, "
                     "credentials-file:PATH#PROFILE, env-file:PATH, command:CMD",
                     id="a rotation target without its type"),
        pytest.param(("config", "check", "duplicate-user.toml"), {}, USAGE,
                     "duplicate-user.toml: inventory[1]: user 'app' is listed twice with "
                     "different rotation targets ('ssm:/a' in inventory[0], 'ssm:/b' here)",
                     id="one user with two rotation targets"),
        pytest.param(("audit", "--format", "xml"), {}, USAGE,
                     "Invalid value for '--format' / '-f': 'xml' is not one of 'terminal', "
                     "'json', 'html', 'pdf', 'csv', 'markdown', 'junit', 'ocsf', "
                     "'asff', 'sarif' "
                     "(see 'irready audit --help')",
                     id="a bad choice, without a validation library's 'Value error,'"),
        pytest.param(("audit", "--no-no-history"), {}, USAGE,
                     "No such option: --no-no-history (Possible options: --history, "
                     "--no-history) (see 'irready audit --help')",
                     id="no double negative flag exists"),
        pytest.param(("history", "--limit", "many"), {}, USAGE,
                     "Invalid value for '--limit': not an integer "
                     "(see 'irready history --help')", id="a count that is no number"),
        pytest.param(("audti",), {}, USAGE,
                     "No such command 'audti'. Did you mean 'audit'? (see 'irready --help')",
                     id="a misspelt command"),
        pytest.param(("--versoin",), {}, USAGE,
                     "No such option: --versoin (Possible options: --version) "
                     "(see 'irready --help')",
                     id="a misspelt root option"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
        tmp_path: Path, args: tuple[str, ...], env: Mapping[str, str], expected_exit: int,
        expected_line: str) -> None:
    for name, text in CONFIGS.items():
        (tmp_path / name).write_text(text)
    before = sorted(tmp_path.rglob("*"))

    result = irready(*args, env=env)

    assert result.exit_code == expected_exit
    assert result.stderr == f"irready: error: {expected_line}\n"
    assert "Traceback" not in result.output
    assert sorted(tmp_path.rglob("*")) == before  # no store, lock, report or folder


def test_version() -> None:
    result = irready("--version")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"irready {__version__}\n",
                                                                "")


def test_an_expired_waiver_is_a_warning(tmp_path: Path) -> None:
    config = tmp_path / "irready.toml"
    config.write_text('[[waivers]]\ncheck = "iam.console_mfa"\nreason = "break-glass"\n'
                      'expires = 2020-01-31\n[[waivers]]\ncheck = "iam.root_mfa"\n'
                      'reason = "until the token arrives"\nexpires = 2999-12-31\n')

    result = irready("config", "check", config)

    assert result.exit_code == 0
    assert result.stderr == (f"irready: warning: {config}: waivers[0] (iam.console_mfa, *) "
                             "expired on 2020-01-31: it no longer applies\n")
    assert result.stdout.startswith("config OK: ")


def test_a_rotation_target_of_a_known_type_passes(tmp_path: Path) -> None:
    config = tmp_path / "irready.toml"
    config.write_text('[[inventory]]\nuser = "app"\nowner = "me"\n'
                      'rotation_target = "credentials-file:~/.aws/credentials#app"\n'
                      '[[inventory]]\nuser = "app"\nowner = "me"\n'
                      'rotation_target = "credentials-file:~/.aws/credentials#app"\n'
                      '[[inventory]]\nuser = "legacy"\nowner = "me"\nrotation_target = ""\n')
    result = irready("config", "check", config)
    assert (result.exit_code, result.stderr) == (0, "")


def _help_pages() -> list[tuple[str, str]]:
    from typer.main import get_command

    from auditor.cli import app

    def walk(command: object, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        subcommands = getattr(command, "commands", {})
        return [path, *(p for name, sub in subcommands.items() for p in walk(sub, (*path, name)))]

    pages = []
    for path in walk(get_command(app), ()):
        result = irready(*path, "--help", env={"COLUMNS": "100"})
        assert result.exit_code == 0, path
        pages.append((" ".join(path) or "irready", result.stdout))
    return pages


def test_help_reads_naturally() -> None:
    """No `--no-no-history`, no Python type (`<list[str]>`) or parameter name
    (`{drill_id}`) as a placeholder, in any command's help."""
    for name, text in _help_pages():
        assert "--no-no-" not in text, name
        assert not re.search(r"<list\[|<int range>|\{[a-z_]+\}", text), (name, text)


def test_the_catalogue_fits_80_columns() -> None:
    result = irready("checks", env={"COLUMNS": "80"})

    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert max(len(line) for line in lines) <= 80
    listed = irready("checks", "--format", "json").stdout
    titles = re.findall(r'"title": "([^"]+)"', listed)
    flowing = " ".join(result.stdout.split())
    for title in titles:
        assert title in flowing  # words stay in order, a few to a line, not one per line
    assert len(lines) <= 3 * len(titles)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        pytest.param("no-such-program-irready", "restart command not found: "
                     "no-such-program-irready", id="a program that does not exist"),
        pytest.param("'unclosed", "restart command cannot be parsed: No closing quotation",
                     id="a command with an open quote"),
        pytest.param("   ", "restart command is empty", id="an empty command"),
    ],
)
def test_a_command_that_cannot_run_reads_as_one_sentence(command: str, message: str) -> None:
    """It was "restart command command not found: ..."."""
    from drills.verify import run_command

    ok, what = run_command(command, 5.0)
    assert (ok, f"restart command {what}") == (False, message)


def test_attempts_are_counted_in_words() -> None:
    from drills.verify import Waited

    assert [Waited(True, n, 0.0, 0.0, "").tries for n in (1, 2)] == ["1 attempt", "2 attempts"]


def test_a_region_typo_in_the_aws_profile_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[default]\nregion = us_east_1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))

    result = irready("audit")

    assert (result.exit_code, result.stderr) == (USAGE, (
        "irready: error: the AWS profile's region: 'us_east_1' is not a region name like "
        "us-east-1\n"))
    assert not (tmp_path / "xdg-data").exists()
