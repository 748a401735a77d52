"""The TOML config: the shipped example documents every key at its default, `config
init` and `config check` work on it, and every kind of mistake is one line naming the
key (or the line, for broken TOML) with exit code 2."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from datetime import date
from pathlib import Path

import pytest
from clikit import irready

import auditor
from auditor.config import Config, InventoryEntry, Waiver, load_config, parse_config
from auditor.errors import ConfigError

EXAMPLE = Path(auditor.__file__).parent / "example-config.toml"


def section_keys(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def uncommented_blocks(text: str) -> str:
    """The example's commented [[inventory]] and [[waivers]] blocks, switched on."""
    lines = text.splitlines()
    enabled: list[str] = []
    inside = False
    for line in lines:
        if re.match(r"^# \[\[(inventory|waivers)\]\]$", line):
            inside = True
        elif inside and not line.startswith("# "):
            inside = False
        enabled.append(line[2:] if inside else line)
    return "\n".join(enabled) + "\n"


def test_the_example_sets_every_key_to_its_default() -> None:
    text = EXAMPLE.read_text()
    config = parse_config(text, "example")

    assert dataclasses.replace(config, source="") == Config()
    table = tomllib.loads(text)
    hints = typing.get_type_hints(Config)
    for section in ("audit", "athena", "drill", "reports", "schedule", "notify"):
        assert set(table[section]) == section_keys(hints[section]), section
    assert set(table["history"]) == {"path"}


def test_the_examples_of_inventory_and_waivers_are_valid() -> None:
    config = parse_config(uncommented_blocks(EXAMPLE.read_text()), "example")

    [entry] = config.inventory
    [waiver] = config.waivers
    assert set(tomllib.loads(uncommented_blocks(EXAMPLE.read_text()))["inventory"][0]) == (
        section_keys(InventoryEntry))
    assert entry.user == "app-integration-user"
    assert waiver.expires == date(2026, 12, 31)
    assert set(dataclasses.asdict(waiver)) == section_keys(Waiver)


def test_config_init_then_check(tmp_path: Path) -> None:
    path = tmp_path / "irready.toml"

    written = irready("config", "init", str(path))
    checked = irready("config", "check", str(path))
    again = irready("config", "init", str(path))

    assert written.exit_code == 0
    assert path.read_text() == EXAMPLE.read_text()
    assert checked.exit_code == 0
    assert checked.stdout == f"config OK: {path}; 0 waiver(s), 0 inventory entry(ies)\n"
    assert again.exit_code == 2
    assert again.stderr == f"irready: error: {path} exists; pass --force to overwrite it\n"


WAIVER = '[[waivers]]\ncheck = "iam.console_mfa"\nreason = "break-glass"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('[audit]\nregions = ["us-east-1"\nkey_max_age_days = 90\n',
                     "invalid TOML at line 3, column 1: Unclosed array", id="broken TOML"),
        pytest.param("[audit]\nkey_max_age_days = \n",
                     "invalid TOML at line 2, column 20: Invalid value",
                     id="missing value"),
        pytest.param("[audit]\nregions = [",
                     "invalid TOML at line 2 (end of file): Invalid value", id="cut short"),
        pytest.param("[audit]\nkey_max_age = 90\n",
                     "audit: unknown key 'key_max_age' (known keys: checks, "
                     "credential_report_timeout_seconds, deep, detect_interval_days, "
                     "detect_target_minutes, drill_interval_days, fail_on, "
                     "key_max_age_days, log_retention_days, max_workers, regions, "
                     "rotation_target_minutes, skip, unused_key_days)",
                     id="unknown key"),
        pytest.param("[audits]\n",
                     "unknown key 'audits' (known keys: athena, audit, drill, history, "
                     "inventory, notify, playbook, reports, schedule, waivers)",
                     id="unknown section"),
        pytest.param('history_path = "/tmp/h.sqlite3"\n',
                     "unknown key 'history_path' (known keys: athena, audit, drill, history, "
                     "inventory, notify, playbook, reports, schedule, waivers)",
                     id="internal field"),
        pytest.param('[audit]\nkey_max_age_days = "ninety"\n',
                     "audit.key_max_age_days: expected an integer, got 'ninety'",
                     id="wrong type"),
        pytest.param("[audit]\nkey_max_age_days = 0\n",
                     "audit.key_max_age_days: must be a positive number", id="zero"),
        pytest.param('[audit]\nfail_on = "severe"\n',
                     "audit.fail_on: unknown severity 'severe' (expected one of: low, medium, "
                     "high, critical)", id="bad severity"),
        pytest.param('[audit]\nregions = ["us-east-1", "eu_west_1"]\n',
                     "audit.regions: 'eu_west_1' is not a region name like us-east-1",
                     id="bad region"),
        pytest.param(WAIVER,
                     "waivers[0]: a waiver needs an expiry date (expires = YYYY-MM-DD)",
                     id="waiver without expiry"),
        pytest.param(WAIVER + 'expires = "next year"\n',
                     "waivers[0].expires: expected a date (YYYY-MM-DD), got 'next year'",
                     id="waiver with a bad date"),
        pytest.param(WAIVER + "expires = 2027-03-31T00:00:00\n",
                     "waivers[0].expires: expected a date (YYYY-MM-DD), got a date and time "
                     "(2027-03-31 00:00:00)", id="waiver expiring at a time"),
        pytest.param('[[waivers]]\ncheck = "iam.console_mfa"\nexpires = 2026-12-31\n',
                     "waivers[0]: a waiver needs a reason", id="waiver without reason"),
        pytest.param('[[inventory]]\nuser = "app"\nowner = "team@example.com"\n',
                     "inventory[0]: missing required key 'rotation_target'",
                     id="inventory without target"),
        pytest.param("[history]\npath = 3\n", "history.path: expected a string, got 3",
                     id="history path type"),
        pytest.param('[schedule]\ndetect = "quarterly mondey 07:30"\n',
                     "schedule.detect: 'mondey' is not a weekday in 'quarterly mondey 07:30'",
                     id="detection drill schedule"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_problem(tmp_path: Path, text: str,
                                                     message: str) -> None:
    path = tmp_path / "irready.toml"
    path.write_text(text)

    with pytest.raises(ConfigError) as raised:
        load_config(path)
    result = irready("config", "check", str(path))

    assert str(raised.value) == f"{path}: {message}"
    assert result.exit_code == 2
    assert result.stderr == f"irready: error: {path}: {message}\n"
    assert "Traceback" not in result.output


def test_a_missing_config_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = irready("audit", "--config", str(missing))

    assert result.exit_code == 2
    assert result.stderr == f"irready: error: config file not found: {missing}\n"


def test_where_the_config_is_found(tmp_path: Path) -> None:
    """--config, else ./irready.toml, else $XDG_CONFIG_HOME/irready/config.toml."""
    xdg = tmp_path / "xdg-config" / "irready"  # XDG_CONFIG_HOME is set by tests/conftest.py
    xdg.mkdir(parents=True)
    (xdg / "config.toml").write_text("[audit]\nkey_max_age_days = 30\n")
    assert load_config().audit.key_max_age_days == 30

    (tmp_path / "irready.toml").write_text("[audit]\nkey_max_age_days = 60\n")
    assert load_config().audit.key_max_age_days == 60  # the working directory is tmp_path

    explicit = tmp_path / "team.toml"
    explicit.write_text("[audit]\nkey_max_age_days = 120\n")
    config = load_config(explicit)
    assert config.audit.key_max_age_days == 120
    assert config.source == str(explicit)


def test_no_config_anywhere_is_the_defaults() -> None:
    assert load_config() == Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('[audit]\nchecks = ["cloudtrail", "iam.consol_mfa"]\n',
                     "audit.checks: unknown check id 'iam.consol_mfa'; did you mean "
                     "'iam.console_mfa'?", id="a check to run"),
        pytest.param('[audit]\nskip = ["guarduty"]\n',
                     "audit.skip: unknown check id 'guarduty'; did you mean "
                     "'guardduty.enabled'?",
                     id="a check to skip"),
        pytest.param('[[waivers]]\ncheck = "iam.console_mfa_"\nreason = "break-glass"\n'
                     "expires = 2027-03-31\n",
                     "waivers[0].check: unknown check id 'iam.console_mfa_' (a waiver names "
                     "one check id exactly); did you mean 'iam.console_mfa'?",
                     id="a waiver that can never match"),
        pytest.param('[[waivers]]\ncheck = "iam"\nreason = "break-glass"\n'
                     "expires = 2027-03-31\n",
                     "waivers[0].check: unknown check id 'iam' (a waiver names one check id "
                     "exactly); 'irready checks' lists them",
                     id="a waiver naming an area"),
    ],
)
def test_config_check_knows_the_check_ids(tmp_path: Path, text: str, message: str) -> None:
    """`config check` said OK to check ids that the audit then refused, or that never
    match (a waiver compares ids exactly): a typo must show before the weekly run."""
    path = tmp_path / "irready.toml"
    path.write_text(text)
    result = irready("config", "check", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"irready: error: {path}: {message}\n"


def test_the_audit_names_the_config_key_of_an_unknown_check(tmp_path: Path) -> None:
    path = tmp_path / "irready.toml"
    path.write_text('[audit]\nskip = ["guarduty"]\n')
    result = irready("audit", "--config", str(path), "--no-history")
    assert result.exit_code == 2
    assert result.stderr == (f"irready: error: {path}: audit.skip: unknown check id "
                             "'guarduty'; did you mean 'guardduty.enabled'?\n")


def test_relative_paths_in_a_config_file_are_relative_to_that_file(tmp_path: Path) -> None:
    from auditor.config import load_config

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "irready.toml").write_text('[history]\npath = "state/history.sqlite3"\n'
                                          '[reports]\ndir = "out"\n')
    config = load_config(folder / "irready.toml")
    assert config.history_file == folder.resolve() / "state" / "history.sqlite3"
    assert config.reports_dir == folder.resolve() / "out"
