"""`irready audit`, `checks`, `history` and `policy` through the real command line
(typer's CliRunner on auditor.cli.app, against moto): the JSON report, the exit codes of
README's table, and one clear line (never a traceback) for every way a run can go wrong."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from auditkit import AUDIT_POLICY, shipped_policy
from click.testing import Result
from clikit import irready

from auditor.errors import AwsUnavailable, ExitCode
from auditor.registry import discover

REGIONS = "us-east-1,eu-west-1"
FINDING_KEYS = {"check_id", "title", "status", "severity", "account_id", "region", "resource",
                "message", "remediation", "references"}
ALL_CHECKS = sorted(c.id for c in discover(plugins=False))


def audit_json(tmp_path: Path, *args: str, name: str = "audit.json") -> tuple[Result, Any]:
    report = tmp_path / name
    result = irready("audit", "--regions", REGIONS, "--format", "json", "--output", str(report),
                     *args)
    document = json.loads(report.read_text()) if report.exists() else None
    return result, document


def one_line_error(result: Result, code: ExitCode, message: str) -> None:
    assert result.exit_code == code
    assert result.stderr == f"irready: error: {message}\n"
    assert result.stdout == ""


def statuses(document: Any) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in document["findings"]:
        found.setdefault(finding["check_id"], set()).add(finding["status"])
    return found


# -- the JSON report and exit codes ---------------------------------------------------


def test_the_json_report_of_a_seeded_account(seeded: Any, tmp_path: Path) -> None:
    result, document = audit_json(tmp_path)

    assert result.exit_code == ExitCode.FAILED
    assert result.stderr == f"wrote {tmp_path / 'audit.json'}\n"
    assert set(document) >= {"schema", "account_id", "started_at", "finished_at", "score",
                             "findings"}
    assert document["schema"] == "irready.audit/1"
    assert document["account_id"] == "123456789012"
    for stamp in ("started_at", "finished_at"):
        assert document[stamp].endswith("Z")
        assert document[stamp][10] == "T"
    assert document["started_at"] <= document["finished_at"]
    assert 0 < document["score"] < 100
    for finding in document["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["status"] in {"PASS", "FAIL", "ERROR", "NOT_APPLICABLE", "WAIVED"}
        assert finding["severity"] in {"low", "medium", "high", "critical"}
        assert finding["account_id"] == "123456789012"
        assert isinstance(finding["references"], list)
    found = statuses(document)
    assert sorted(found) == ALL_CHECKS
    # the seeded story: two console users without MFA, a 30-day lifecycle on the logs,
    # only a SECURITY contact, a table over the trail, GuardDuty in us-east-1 only
    mfa = [f for f in document["findings"] if f["check_id"] == "iam.console_mfa"]
    assert sorted(f["resource"] for f in mfa) == [
        "arn:aws:iam::123456789012:user/user-0", "arn:aws:iam::123456789012:user/user-2"]
    assert {f["status"] for f in mfa} == {"FAIL"}
    assert found["cloudtrail.bucket_retention"] == {"FAIL"}
    assert found["athena.cloudtrail_table"] == {"PASS"}
    assert found["cloudtrail.enabled"] == {"PASS"}
    guardduty = {f["region"]: f["status"] for f in document["findings"]
                 if f["check_id"] == "guardduty.enabled"}
    assert guardduty == {"us-east-1": "PASS", "eu-west-1": "FAIL"}
    contacts = {f["resource"]: f["status"] for f in document["findings"]
                if f["check_id"] == "account.alternate_contacts"}
    assert sorted(contacts.values()) == ["FAIL", "FAIL", "PASS"]


def readme_json_keys() -> tuple[set[str], set[str]]:
    """The top-level keys of README's JSON table and the finding keys it lists."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## The JSON report", 1)[1].split("\n## ", 1)[0]
    table, finding_text = section.split("Each finding:", 1)
    top = {key for line in table.splitlines() if line.startswith("| `")
           for key in re.findall(r"`([a-z_]+)`", line.split("|")[1])}
    finding = set(re.findall(r"`([a-z_]+)`", finding_text.split("\n\n", 1)[0]))
    return top, finding - {"global"}


def test_the_readme_documents_the_json_keys(seeded: Any, tmp_path: Path) -> None:
    audit_json(tmp_path, name="first.json")
    _result, document = audit_json(tmp_path)  # the second run has "changes"
    top, finding = readme_json_keys()
    assert top == set(document)
    assert finding == set(document["findings"][0])


def test_json_goes_to_stdout_without_output(aws: Any, tmp_path: Path) -> None:
    result = irready("audit", "--check", "iam.quarantine_policy", "--format", "json",
                     "--no-history")
    assert result.exit_code == ExitCode.OK
    assert json.loads(result.stdout)["schema"] == "irready.audit/1"
    assert not (tmp_path / "xdg-data").exists()  # --no-history writes no history store


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(("--check", "iam.quarantine_policy"), ExitCode.OK, id="all pass: 0"),
        pytest.param(("--check", "iam.console_mfa"), ExitCode.FAILED, id="high failure: 1"),
        pytest.param(("--check", "iam.console_mfa", "--fail-on", "high"), ExitCode.FAILED,
                     id="at --fail-on: 1"),
        pytest.param(("--check", "iam.console_mfa", "--fail-on", "critical"), ExitCode.OK,
                     id="below --fail-on: 0"),
        pytest.param(("--check", "drill.recent", "--no-history"), ExitCode.INCOMPLETE,
                     id="an ERROR and no failure: 4"),
        pytest.param(("--check", "drill.recent", "--check", "iam.console_mfa", "--no-history"),
                     ExitCode.FAILED, id="an ERROR and a failure: 1"),
    ],
)
def test_exit_codes(seeded: Any, tmp_path: Path, args: tuple[str, ...], code: ExitCode) -> None:
    result, _document = audit_json(tmp_path, *args)
    assert result.exit_code == code


def test_check_and_skip_select_checks(seeded: Any, tmp_path: Path) -> None:
    _result, document = audit_json(tmp_path, "--check", "iam", "--check", "guardduty.enabled",
                                   "--skip", "iam.key_inventory", "--no-history")
    assert sorted(statuses(document)) == sorted(
        [c for c in ALL_CHECKS if c.startswith("iam.") and c != "iam.key_inventory"]
        + ["guardduty.enabled"])


def test_a_run_records_its_checks_and_whether_it_was_complete(
        seeded: Any, tmp_path: Path) -> None:
    """A --check/--skip run is stored as partial, so that the compliance trend and the
    scheduler's weekly slot can leave it out; naming every area is still a full audit."""
    _full, full = audit_json(tmp_path, name="full.json")
    _some, some = audit_json(tmp_path, "--skip", "iam.key_inventory", name="some.json")
    areas = sorted({check.split(".")[0] for check in ALL_CHECKS})
    _named, named = audit_json(tmp_path, *(arg for area in areas for arg in ("--check", area)),
                               name="named.json")

    assert (full["complete"], full["checks"]) == (True, ALL_CHECKS)
    assert some["complete"] is False
    assert some["checks"] == [c for c in ALL_CHECKS if c != "iam.key_inventory"]
    assert (named["complete"], named["checks"]) == (True, ALL_CHECKS)
    listed = irready("history")
    scores = [line.split()[7] for line in listed.stdout.splitlines() if "123456789012" in line]
    assert [score.endswith("*") for score in scores] == [False, True, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--check", "iam.console_mfaa"),
                     "unknown check id 'iam.console_mfaa'; did you mean 'iam.console_mfa'?",
                     id="typo"),
        pytest.param(("--skip", "nothing"),
                     "unknown check id 'nothing'; 'irready checks' lists them", id="unknown"),
        pytest.param(("--regions", "us-east-1,Frankfurt"),
                     "--regions: 'Frankfurt' is not a region name like us-east-1",
                     id="bad region"),
        pytest.param(("--region", "eu_west_1"),
                     "--region: 'eu_west_1' is not a region name like us-east-1",
                     id="bad home region"),
        pytest.param(("--fail-on", "severe"),
                     "--fail-on: unknown severity 'severe' (expected one of: low, medium, high, "
                     "critical)", id="bad --fail-on"),
    ],
)
def test_usage_errors_are_one_line(aws: Any, args: tuple[str, ...], message: str) -> None:
    one_line_error(irready("audit", "--no-history", *args), ExitCode.USAGE, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("audit", "--format", "xml"),
                     "Invalid value for '--format' / '-f': 'xml' is not one of "
                     "'terminal', 'json', 'html', 'pdf', 'csv', 'markdown', 'junit', 'ocsf', "
                     "'asff', 'sarif' "
                     "(see 'irready audit --help')", id="bad choice"),
        pytest.param(("audit", "--verbos"),
                     "No such option: --verbos (Possible options: --verbose) "
                     "(see 'irready audit --help')", id="misspelt option"),
        pytest.param(("history", "--limit", "many"),
                     "Invalid value for '--limit': not an integer "
                     "(see 'irready history --help')",
                     id="not a number"),
        pytest.param(("config", "check", "a.toml", "b.toml"),
                     "Got unexpected extra argument(s) (b.toml) "
                     "(see 'irready config check --help')", id="nested command"),
        pytest.param(("--bogus",), "No such option: --bogus (see 'irready --help')",
                     id="root option"),
        pytest.param(("audti",),
                     "No such command 'audti'. Did you mean 'audit'? (see 'irready --help')",
                     id="misspelt command"),
    ],
)
def test_option_errors_are_one_line_too(args: tuple[str, ...], message: str) -> None:
    """README: every error is one line on stderr starting with `irready: error:`; typer's
    own parse errors printed a usage block and `Error: ...` instead."""
    one_line_error(irready(*args), ExitCode.USAGE, message)


def test_no_arguments_still_shows_the_help() -> None:
    result = irready()
    assert result.exit_code == 2
    assert "Usage: irready" in result.output
    assert "audit" in result.output


def test_an_output_under_a_file_is_one_line(aws: Any, tmp_path: Path) -> None:
    """A file where the folder should be: was a NotADirectoryError traceback."""
    (tmp_path / "reports").write_text("not a folder")
    target = tmp_path / "reports" / "audit.json"
    result = irready("audit", "--check", "iam.quarantine_policy", "--no-history",
                     "--format", "json", "--output", str(target))
    one_line_error(result, ExitCode.USAGE,
                   f"cannot write {target}: {target.parent} is not a folder")
    written = irready("config", "init", str(target))
    one_line_error(written, ExitCode.USAGE,
                   f"cannot write {target}: {target.parent} is not a folder")


def test_an_unwritable_output_is_one_line(aws: Any, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "audit.json"
    result = irready("audit", "--check", "iam.quarantine_policy", "--no-history",
                     "--format", "json", "--output", str(target))
    one_line_error(result, ExitCode.USAGE,
                   f"cannot write {target}: folder {target.parent} does not exist")


# -- accounts that cannot be audited: exit 3 ------------------------------------------


def test_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role lookup

    one_line_error(irready("audit", "--no-history"), ExitCode.UNAVAILABLE,
                   "no AWS credentials found: set AWS_PROFILE or pass --profile, or run "
                   "'irready demo' to try irready on a simulated account")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there any more: connections are refused


def test_an_endpoint_that_refuses_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # standard retries would back off for seconds
    url = f"http://127.0.0.1:{closed_port()}"

    one_line_error(irready("audit", "--no-history", "--endpoint-url", url),
                   ExitCode.UNAVAILABLE,
                   f'cannot reach {url}: Could not connect to the endpoint URL: "{url}/"')


def test_an_unknown_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    one_line_error(irready("audit", "--no-history", "--profile", "prod-typo"),
                   ExitCode.UNAVAILABLE, "The config profile (prod-typo) could not be found")


def test_sts_rejecting_the_key(aws: Any, monkeypatch: pytest.MonkeyPatch,
                               enforce_iam: Callable[[], AbstractContextManager[None]]) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")  # no such key in moto

    with enforce_iam():
        result = irready("audit", "--no-history")

    one_line_error(result, ExitCode.UNAVAILABLE,
                   "cannot identify the account (InvalidClientTokenId): The security token "
                   "included in the request is invalid.")


def test_sts_denied(ctx: Any) -> None:
    """An SCP can deny sts:GetCallerIdentity (IAM policies cannot, nor can moto)."""
    from botocore.stub import Stubber

    from auditor.audit import perform_audit
    from auditor.config import Config

    with Stubber(ctx.client("sts")) as stubber:
        stubber.add_client_error("get_caller_identity", "AccessDenied", "Denied by an SCP",
                                 http_status_code=403)
        with pytest.raises(AwsUnavailable) as raised:
            perform_audit(ctx, Config(), discover(plugins=False))
    assert str(raised.value) == "sts:GetCallerIdentity was denied (AccessDenied): Denied by an SCP"
    assert raised.value.exit_code == ExitCode.UNAVAILABLE


# -- one read denied or throttled: the audit goes on -----------------------------------


def test_access_denied_on_one_fact(seeded: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   user_with_policy: Callable[[dict[str, Any]], Any],
                                   enforce_iam: Callable[[], AbstractContextManager[None]]) -> None:
    policy = shipped_policy()
    statement = policy["Statement"][0]
    statement["Action"].remove("account:GetAlternateContact")
    credentials = user_with_policy(policy).get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)

    with enforce_iam():
        result, document = audit_json(tmp_path)

    assert result.exit_code == ExitCode.FAILED  # the other checks ran and found failures
    denied = [f for f in document["findings"] if f["check_id"] == "account.alternate_contacts"]
    assert [(f["status"], f["message"]) for f in denied] == [
        ("ERROR", "access denied: needs account:GetAlternateContact")]
    found = statuses(document)
    assert sorted(found) == ALL_CHECKS
    assert [c for c, s in found.items() if "ERROR" in s] == ["account.alternate_contacts"]


THROTTLED = (b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
             b'<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>')


class Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Any:
        yield self.content


def throttle(session: Any, operation: str, times: int) -> list[int]:
    """The first `times` HTTP attempts of `operation` answer 400 Throttling; returns the
    list of attempts seen. A before-send hook runs once per attempt, so botocore's retry
    loop is exercised."""
    from botocore.awsrequest import AWSResponse

    attempts: list[int] = []

    def answer(request: Any, **_: Any) -> Any:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= times:
            request.url = "https://throttled.invalid/"  # moto must not run the call too
            return AWSResponse(request.url, 400, {}, Body(THROTTLED))
        return None

    session.events.register_first(f"before-send.iam.{operation}", answer)
    return attempts


def test_throttling_is_retried_and_the_audit_succeeds(aws: Any) -> None:
    from auditor.audit import perform_audit
    from auditor.config import Config
    from auditor.session import AwsContext

    attempts = throttle(aws, "GetAccountSummary", times=2)
    ctx = AwsContext(session=aws, max_attempts=3)

    run = perform_audit(ctx, Config(), discover(plugins=False),
                        only=("iam.root_access_keys",)).run

    assert attempts == [1, 2, 3]
    assert [f.status.value for f in run.findings] == ["PASS"]


def test_throttling_beyond_the_retries_is_an_error_naming_it(aws: Any) -> None:
    from auditor.audit import perform_audit
    from auditor.config import Config
    from auditor.session import AwsContext

    attempts = throttle(aws, "GetAccountSummary", times=5)
    ctx = AwsContext(session=aws, max_attempts=2)

    run = perform_audit(ctx, Config(), discover(plugins=False),
                        only=("iam.root_access_keys", "iam.quarantine_policy")).run

    assert attempts == [1, 2]
    by_check = {f.check_id: f for f in run.findings}
    assert by_check["iam.root_access_keys"].status.value == "ERROR"
    assert by_check["iam.root_access_keys"].message == (
        "could not read iam.account_summary (Throttling: Rate exceeded)")
    assert by_check["iam.quarantine_policy"].status.value == "PASS"


# -- history, waivers, the comparison with the previous run ----------------------------


def test_new_and_fixed_since_the_previous_run(seeded: Any, tmp_path: Path) -> None:
    _first, before = audit_json(tmp_path, "--check", "iam.console_mfa", name="first.json")
    iam = seeded.client("iam")
    iam.delete_login_profile(UserName="user-0")  # fixed
    iam.create_user(UserName="new-admin")
    iam.create_login_profile(UserName="new-admin", Password="Seeded-Passw0rd!")  # new
    _second, after = audit_json(tmp_path, "--check", "iam.console_mfa", name="second.json")
    terminal = irready("audit", "--check", "iam.console_mfa", "--no-history")

    assert "changes" not in before
    keys = {f["resource"].rsplit("/", 1)[1]: f["key"] for f in before["findings"]
            + after["findings"]}
    assert after["changes"]["previous_run_id"] == before["run_id"]
    assert after["changes"]["new_failures"] == [keys["new-admin"]]
    assert after["changes"]["fixed"] == [keys["user-0"]]
    assert f"Since run {after['run_id']}: score +0, 0 new failure(s), 0 fixed" in (
        terminal.stdout)

    listed = irready("history")
    assert listed.exit_code == 0
    rows = [line for line in listed.stdout.splitlines() if "123456789012" in line]
    assert len(rows) == 2
    assert rows[0].split()[1] == str(after["run_id"])  # newest first


def test_what_was_not_evaluated_is_not_fixed(
        seeded: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        user_with_policy: Callable[[dict[str, Any]], Any],
        enforce_iam: Callable[[], AbstractContextManager[None]]) -> None:
    """A failure is fixed when the check ran and no longer finds it: not when this run
    skipped the check (--check), nor when the read behind it is now denied."""
    audit_json(tmp_path, name="full.json")
    _subset, subset = audit_json(tmp_path, "--check", "iam.quarantine_policy",
                                 name="subset.json")
    policy = shipped_policy()
    policy["Statement"][0]["Action"].remove("iam:GetCredentialReport")
    credentials = user_with_policy(policy).get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    with enforce_iam():
        _denied, denied = audit_json(tmp_path, "--check", "iam.console_mfa",
                                     name="denied.json")

    assert subset["changes"]["fixed"] == []
    assert {f["status"] for f in denied["findings"]} == {"ERROR"}
    assert denied["changes"]["fixed"] == []


def test_a_region_left_out_is_not_fixed(seeded: Any, tmp_path: Path) -> None:
    _full, full = audit_json(tmp_path, "--check", "guardduty", name="full.json")
    result = irready("audit", "--regions", "us-east-1", "--check", "guardduty",
                     "--format", "json")
    narrowed = json.loads(result.stdout)

    assert any(f["status"] == "FAIL" and f["region"] == "eu-west-1" for f in full["findings"])
    assert narrowed["changes"]["fixed"] == []


def test_a_quick_subset_run_makes_no_failure_new_in_the_next_full_run(
        seeded: Any, tmp_path: Path) -> None:
    """The weekly audit compares with the latest run: a `--check` run in between must not
    turn every other failure into a "new failure" (the scheduler notifies those)."""
    audit_json(tmp_path, name="monday.json")
    audit_json(tmp_path, "--check", "iam.quarantine_policy", name="wednesday.json")
    _next, monday_again = audit_json(tmp_path, name="next-monday.json")

    assert monday_again["changes"]["new_failures"] == []
    assert monday_again["changes"]["fixed"] == []


def test_history_with_no_runs(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    result = irready("history", "--history", str(path))
    assert (result.exit_code, result.stdout) == (0, f"no audit runs in {path}\n")


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_history_limit_must_be_positive(tmp_path: Path, limit: str) -> None:
    """--limit 0 answered "no audit runs", and -1 meant no limit at all (SQLite)."""
    result = irready("history", "--history", str(tmp_path / "h.sqlite3"), "--limit", limit)
    one_line_error(result, ExitCode.USAGE,
                   "Invalid value for '--limit': must be greater than or equal to 1 "
                   "(see 'irready history --help')")


def write_config(tmp_path: Path, waiver: str) -> Path:
    path = tmp_path / "irready.toml"
    path.write_text(f'[[waivers]]\ncheck = "iam.console_mfa"\n'
                    f'resource = "*:user/user-0"\nreason = "break-glass user"\n{waiver}')
    return path


def test_a_live_waiver(seeded: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, "expires = 2999-12-31\n")
    result, document = audit_json(tmp_path, "--check", "iam.console_mfa", "--config",
                                  str(config))
    mfa = {f["resource"].rsplit("/", 1)[1]: f for f in document["findings"]}
    assert mfa["user-0"]["status"] == "WAIVED"
    assert mfa["user-0"]["waiver"] == "break-glass user (until 2999-12-31)"
    assert mfa["user-2"]["status"] == "FAIL"
    assert result.exit_code == ExitCode.FAILED


def test_an_expired_waiver(seeded: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, "expires = 2020-01-31\n")
    _result, document = audit_json(tmp_path, "--check", "iam.console_mfa", "--config",
                                   str(config))
    mfa = {f["resource"].rsplit("/", 1)[1]: f for f in document["findings"]}
    assert mfa["user-0"]["status"] == "FAIL"
    assert mfa["user-0"]["message"].endswith(" (waiver expired on 2020-01-31)")
    assert mfa["user-0"]["waiver"] is None


def test_a_waiver_without_expiry(aws: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    one_line_error(irready("audit", "--config", str(config)), ExitCode.USAGE,
                   f"{config}: waivers[0]: a waiver needs an expiry date (expires = YYYY-MM-DD)")


# -- the catalogue and the policy -------------------------------------------------------


def test_checks_lists_the_catalogue() -> None:
    table = irready("checks")
    listed = irready("checks", "--format", "json")

    assert table.exit_code == listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [row["id"] for row in rows] == ALL_CHECKS
    assert all(row["severity"] and row["title"] and row["remediation"] for row in rows)
    for check_id in ALL_CHECKS:
        assert check_id in table.stdout  # ids are never folded across lines


def test_checks_with_a_bad_format() -> None:
    one_line_error(irready("checks", "--format", "yaml"), ExitCode.USAGE,
                   "--format: unknown value 'yaml' (expected table or json)")


def test_policy_audit_prints_the_shipped_policy() -> None:
    result = irready("policy", "audit")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(AUDIT_POLICY.read_text())
    assert json.loads(result.stdout)["Statement"][0]["Effect"] == "Allow"
