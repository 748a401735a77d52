"""Bad input to `irready audit` and `irready config check` that would make the score lie:
a region name that is no region, an empty region list, a selection that leaves no check.
Each row is refused with exit 2 and one `irready: error:` line, before anything is read
or stored: no traceback, and no run in the history store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clikit import irready, write_config

from auditor.errors import ExitCode

CONFIG = "bad.toml"  # not irready.toml: only rows that pass --config use it


@pytest.fixture(autouse=True)
def account(aws: Any) -> Any:
    return aws


def history_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg-data" / "irready" / "history.sqlite3"


def stored_runs(tmp_path: Path) -> int:
    path = history_file(tmp_path)
    if not path.exists():
        return 0
    from auditor.store import HistoryStore

    with HistoryStore(path) as store:
        return len(store.runs())


AUDIT = ("audit", "--format", "json")
TWO_REGIONS = ("--regions", "us-east-1,eu-west-1")


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        pytest.param((*AUDIT, "--regions", "us-eest-1"), None,
                     "--regions: 'us-eest-1' is not an AWS region (did you mean 'us-east-1' or "
                     "'us-west-1'?)",
                     id="a region typo is a usage error, not eight ERRORs and a higher score"),
        pytest.param((*AUDIT, "--regions", "us-east-1,eu-wset-1"), None,
                     "--regions: 'eu-wset-1' is not an AWS region (did you mean 'eu-west-1'?)",
                     id="one typo among real regions"),
        pytest.param((*AUDIT, "--regions", "xx-nowhere-9"), None,
                     "--regions: 'xx-nowhere-9' is not an AWS region",
                     id="a region-shaped name nothing knows"),
        pytest.param((*AUDIT, "--regions", ""), None,
                     "--regions: no region named; leave --regions out to audit every enabled "
                     "region",
                     id="an empty --regions is not every region"),
        pytest.param((*AUDIT, "--regions", ",,,"), None,
                     "--regions: no region named; leave --regions out to audit every enabled "
                     "region",
                     id="commas only are not every region"),
        pytest.param((*AUDIT, "--regions", "US-EAST-1"), None,
                     "--regions: 'US-EAST-1' is not a region name like us-east-1",
                     id="a name not shaped like a region"),
        pytest.param((*AUDIT, *TWO_REGIONS, "--check", "iam.root_mfa", "--skip",
                      "iam.root_mfa"), None,
                     "no check left to run: --check iam.root_mfa; --skip iam.root_mfa",
                     id="skipping the only check selected runs nothing: refused"),
        pytest.param((*AUDIT, *TWO_REGIONS, "--check", "iam", "--skip", "iam"), None,
                     "no check left to run: --check iam; --skip iam",
                     id="skipping the area selected runs nothing: refused"),
        pytest.param((*AUDIT, *TWO_REGIONS, "--config", CONFIG), (
            '[audit]\nchecks = ["iam"]\nskip = ["iam"]\n'),
                     "{config}: no check left to run: audit.checks = ['iam']; "
                     "audit.skip = ['iam']",
                     id="audit.checks and audit.skip that leave nothing"),
        pytest.param((*AUDIT, *TWO_REGIONS, "--skip", "iam", "--config", CONFIG), (
            '[audit]\nchecks = ["iam"]\n'),
                     "no check left to run: audit.checks = ['iam']; --skip iam",
                     id="--skip removing every check audit.checks selects"),
        pytest.param((*AUDIT, "--config", CONFIG), '[audit]\nregions = ["us-eest-1"]\n',
                     "{config}: audit.regions: 'us-eest-1' is not an AWS region (did you mean "
                     "'us-east-1' or 'us-west-1'?)",
                     id="a region typo in the config"),
        pytest.param((*AUDIT, *TWO_REGIONS, "--security-hub", "--region", "us-eest-1"), None,
                     "--region: 'us-eest-1' is not an AWS region (did you mean 'us-east-1' or "
                     "'us-west-1'?)",
                     id="--security-hub: a home region typo would send account-wide findings "
                        "nowhere"),
        pytest.param((*AUDIT, *TWO_REGIONS, "--security-hub", "--region", "US-EAST-1"), None,
                     "--region: 'US-EAST-1' is not a region name like us-east-1",
                     id="--security-hub: a home region not shaped like one"),
        pytest.param(("report", "audit", "--format", "asff", "--region", "eu-wset-1"), None,
                     "--region: 'eu-wset-1' is not an AWS region (did you mean 'eu-west-1'?)",
                     id="report audit: a home region typo for ASFF"),
        pytest.param(("config", "check", CONFIG), '[audit]\nregions = ["us-eest-1"]\n',
                     "{config}: audit.regions: 'us-eest-1' is not an AWS region (did you mean "
                     "'us-east-1' or 'us-west-1'?)",
                     id="config check finds a region typo"),
        pytest.param(("config", "check", CONFIG), '[audit]\nchecks = ["iam"]\nskip = ["iam"]\n',
                     "{config}: no check left to run: audit.checks = ['iam']; "
                     "audit.skip = ['iam']",
                     id="config check finds a selection that leaves nothing"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_and_nothing_is_stored(
        tmp_path: Path, args: tuple[str, ...], config: str | None, message: str) -> None:
    if config is not None:
        write_config(tmp_path, config, CONFIG)
    result = irready(*args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"irready: error: {message.format(config=CONFIG)}\n"
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert stored_runs(tmp_path) == 0
    assert not history_file(tmp_path).exists()  # refused before the store is opened


def test_a_region_newer_than_botocore_is_accepted_when_describe_regions_lists_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.awsfacts import account

    # botocore here knows no eu-west-1; EC2 DescribeRegions (moto) does
    monkeypatch.setattr(account, "partition_regions", lambda: frozenset({"us-east-1"}))
    result = irready(*AUDIT, "--regions", "us-east-1,eu-west-1", "--check", "iam.root_mfa",
                     "--no-history")
    assert result.exit_code in (ExitCode.OK, ExitCode.FAILED, ExitCode.INCOMPLETE)
    assert result.stderr == ""


def test_botocore_decides_when_describe_regions_cannot_be_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.ec2.models import EC2Backend

    def denied(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("DescribeRegions is not available here")

    monkeypatch.setattr(EC2Backend, "describe_regions", denied)
    result = irready(*AUDIT, "--regions", "us-eest-1")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == ("irready: error: --regions: 'us-eest-1' is not an AWS region "
                             "(did you mean 'us-east-1' or 'us-west-1'?)\n")
