"""Bad input to the organization audit and its reports: each row is one `irready: error:`
line and its documented exit code, refused before any account is audited and before the
history store is created."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import irready
from orgkit import MANAGEMENT, Organization

from auditor.errors import ExitCode

ORG = ("audit", "--org", "--regions", "us-east-1", "--format", "json")
OTHER = "111122223333"
COMPLIANCE = ("report", "compliance", "--org", "--output", "org.pdf")


def history_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg-data" / "irready" / "history.sqlite3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("audit", "--org-role", "irready-audit"),
                     "--org-role is an option of the organization audit: add --org",
                     id="an organization option without --org"),
        pytest.param(("audit", "--accounts", MANAGEMENT),
                     "--accounts is an option of the organization audit: add --org",
                     id="--accounts without --org would audit one account silently"),
        pytest.param((*ORG, "--accounts", "1234"),
                     "--accounts: '1234' is not an AWS account id (twelve digits)",
                     id="an account id that is not twelve digits"),
        pytest.param((*ORG, "--accounts", " , "), "--accounts: no account id named",
                     id="an empty --accounts is not every account"),
        pytest.param((*ORG, "--exclude", "12345678901x"),
                     "--exclude: '12345678901x' is not an AWS account id (twelve digits)",
                     id="a bad id in --exclude"),
        pytest.param((*ORG, "--ou", "prod"),
                     "--ou: 'prod' is not an OU id (like ou-ab12-cd34ef56) or a root id "
                     "(like r-ab12)",
                     id="an OU's name instead of its id"),
        pytest.param((*ORG, "--ou", "ou-ab12-cd34ef56", "--accounts", MANAGEMENT),
                     "--ou and --accounts both choose the accounts: pass one of them",
                     id="--ou and --accounts together"),
        pytest.param((*ORG, "--accounts", MANAGEMENT, "--exclude", MANAGEMENT),
                     f"--exclude: {MANAGEMENT} is also in --accounts",
                     id="an account both named and excluded"),
        pytest.param((*ORG, "--org-role", "no spaces allowed"),
                     "--org-role: 'no spaces allowed' is not an IAM role name",
                     id="a role name IAM would refuse"),
        pytest.param((*ORG, "--external-id", "x"),
                     "--external-id: 2 to 1224 characters of letters, digits and +=,.@:/-_",
                     id="an external id too short"),
        pytest.param((*ORG, "--parallel", "65"), "--parallel: 65 is not between 1 and 64",
                     id="more accounts at once than the APIs allow"),
        pytest.param(("audit", "--org", "--format", "pdf", "--output", "org.pdf"),
                     "--format pdf: the organization audit writes terminal or json (each "
                     "account's run is stored: `irready report audit --run ID` renders it "
                     "in any format)",
                     id="a format the organization audit does not write"),
        pytest.param((*ORG, "--accounts", OTHER),
                     f"--accounts: {OTHER} is not an account of the organization",
                     id="an account of another organization"),
        pytest.param((*ORG, "--exclude", OTHER),
                     f"--exclude: {OTHER} is not an account of the organization",
                     id="a typo in --exclude would audit the account meant to be left out"),
        pytest.param((*ORG, "--ou", "ou-ab12-cd34ef56"),
                     "--ou: ParentNotFoundException: no such OU in this organization",
                     id="an OU of no organization"),
        pytest.param(("policy", "audit", "--org", "--cloudformation"),
                     "--org prints the caller's policy and --cloudformation the members' role: "
                     "pass one of them",
                     id="policy: two documents at once"),
        pytest.param(("policy", "audit", "--org-role", "x"),
                     "--org-role names the organization's audit role: add --org or "
                     "--cloudformation",
                     id="policy: a role name for the single-account policy"),
        pytest.param(("history", "--org", "--account", MANAGEMENT),
                     "--account lists one account's runs; --org the organization runs: pass "
                     "one of them",
                     id="history: one account and the organization at once"),
        pytest.param(("report", "audit", "--org", "--format", "csv"),
                     "--format csv: an organization run is json or terminal (each account's "
                     "run: `irready report audit --run ID`)",
                     id="report audit --org: a format it does not render"),
        pytest.param((*COMPLIANCE, "--account", MANAGEMENT),
                     "--account chooses one account's report; --org the organization edition: "
                     "pass one of them",
                     id="report compliance: one account and the organization at once"),
        pytest.param((*COMPLIANCE, "--quarter", "2026Q4"),
                     "--quarter: the organization edition reports one organization run, and "
                     "there is no organization trend across runs yet: leave it out (--run "
                     "ORG-RUN chooses the run)",
                     id="report compliance --org: a quarter would be a trend across org runs"),
        pytest.param((*COMPLIANCE, "--since", "2026-10-01"),
                     "--since: the organization edition reports one organization run, and "
                     "there is no organization trend across runs yet: leave it out (--run "
                     "ORG-RUN chooses the run)",
                     id="report compliance --org: a period start"),
        pytest.param((*COMPLIANCE, "--alias", "prod"),
                     "--alias is an option of one account's report, not of --org",
                     id="report compliance --org: one account's alias on the cover"),
        pytest.param(("report", "compliance", "--run", "1", "--output", "org.pdf"),
                     "--run names an organization run: add --org (one account's report covers "
                     "a period: --since or --quarter)",
                     id="report compliance: --run without --org"),
        pytest.param((*COMPLIANCE[:-2], "--output", "org.docx"),
                     "--output org.docx: the name must end in .pdf or .html",
                     id="report compliance --org: a name that is neither pdf nor html"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(organization: Organization, tmp_path: Path,
                                          args: tuple[str, ...], message: str) -> None:
    result = irready(*args)

    assert result.stderr == f"irready: error: {message}\n"
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert not history_file(tmp_path).exists()  # refused before the store is created


def test_outside_an_organization_is_exit_3(aws: object, tmp_path: Path) -> None:
    result = irready(*ORG)

    assert result.exit_code == ExitCode.UNAVAILABLE
    # AWS answers AWSOrganizationsNotInUseException (said as such); moto lists no account
    assert result.stderr == ("irready: error: the organization lists no account: is this "
                             "account in an AWS Organization (its management account or a "
                             "delegated administrator)?\n")
    assert not history_file(tmp_path).exists()


def test_report_of_no_organization_run(tmp_path: Path) -> None:
    from auditor.store import HistoryStore

    HistoryStore(history_file(tmp_path), create_folder=True).close()
    result = irready("report", "audit", "--org")

    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (f"irready: error: no organization runs in {history_file(tmp_path)}"
                             ": run `irready audit --org` first\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param((*COMPLIANCE[:-1], "{tmp}/org.pdf"),
                     "no organization runs in {history}: run `irready audit --org` first",
                     id="report compliance --org: no organization run stored yet"),
        pytest.param((*COMPLIANCE[:-1], "{tmp}/org.pdf", "--run", "1"),
                     f"run 1 is an audit run of account {MANAGEMENT}, not an organization run "
                     "(`irready history --org` lists them)",
                     id="report compliance --org: --run names one account's audit run"),
        pytest.param((*COMPLIANCE[:-1], "{tmp}/org.pdf", "--run", "7"),
                     "no organization run 7 in {history} (`irready history --org` lists them)",
                     id="report compliance --org: --run names no run at all"),
        pytest.param(("report", "audit", "--org", "--run", "1"),
                     f"run 1 is an audit run of account {MANAGEMENT}, not an organization run "
                     "(`irready history --org` lists them)",
                     id="report audit --org: --run names one account's audit run"),
    ],
)
def test_an_organization_run_the_store_does_not_hold(tmp_path: Path, args: tuple[str, ...],
                                                     message: str) -> None:
    from datetime import UTC, datetime

    from auditor.models import AuditRun
    from auditor.store import HistoryStore

    moment = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    with HistoryStore(history_file(tmp_path), create_folder=True) as store:
        store.save_run(AuditRun(account_id=MANAGEMENT, started_at=moment, finished_at=moment,
                                findings=()))
    result = irready(*(arg.format(tmp=tmp_path) for arg in args))

    assert result.stderr == ("irready: error: "
                             f"{message.format(history=history_file(tmp_path))}\n")
    assert result.exit_code == ExitCode.USAGE
    assert not (tmp_path / "org.pdf").exists()
