"""`irready audit --org` against a moto organization: every active account audited (its
own run stored), the suspended one skipped with a note, the two whose role cannot be
assumed ERROR with the reason, the organization trail counted in each member, the exit
code the worst over the accounts, and the roll-up's figures read back from the JSON and
from the history store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clikit import irready
from orgkit import MANAGEMENT, TRAIL_BUCKET, Organization

from auditor.errors import ExitCode
from auditor.store import HistoryStore

SCHEMA = Path(__file__).parents[2] / "reports" / "schemas" / "org-audit.schema.json"
ORG_AUDIT = ("audit", "--org", "--regions", "us-east-1", "--format", "json")


def schema_errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The reports tests' small checker, loaded by path as test_playbook.py does."""
    import importlib.util

    checker = importlib.util.spec_from_file_location(
        "schema_check", Path(__file__).resolve().parents[1] / "reports" / "schema_check.py")
    assert checker is not None
    assert checker.loader is not None
    module = importlib.util.module_from_spec(checker)
    checker.loader.exec_module(module)
    found: list[str] = module.errors(document, schema)
    return found


def history(tmp_path: Path) -> HistoryStore:
    return HistoryStore(tmp_path / "xdg-data" / "irready" / "history.sqlite3")


def by_account(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["account_id"]: item for item in document["accounts"]}


def test_every_account_is_audited_or_says_why(organization: Organization, tmp_path: Path
                                               ) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail", "--fail-on", "medium")

    # two accounts could not be audited: the run is incomplete (4), not failed (3)
    document = json.loads(result.stdout)
    accounts = by_account(document)
    assert document["schema"] == "irready.org-audit/1"
    assert document["complete"] is False
    assert result.exit_code == ExitCode.INCOMPLETE, result.stderr
    assert document["summary"] == {"accounts": 6, "audited": 3, "errors": 2, "skipped": 1,
                                   "blocking_four_hours": 3}
    assert {k for k, v in accounts.items() if v["state"] == "AUDITED"} == {
        MANAGEMENT, organization.workload, organization.nested}
    assert accounts[organization.suspended]["state"] == "SKIPPED"
    assert accounts[organization.suspended]["reason"] == "suspended: not audited"
    no_role = accounts[organization.no_role]
    assert no_role["state"] == "ERROR"
    assert no_role["reason"].startswith(
        f"could not assume arn:aws:iam::{organization.no_role}:role/irready-audit "
        "(AccessDenied (User is not authorized to perform: sts:AssumeRole on resource: ")
    assert "the role is missing, does not trust this account" in no_role["reason"]
    denied = accounts[organization.denied]
    assert denied["state"] == "ERROR"
    assert "(AccessDenied (explicit deny in a service control policy))" in denied["reason"]
    assert accounts[MANAGEMENT]["via"] == "own credentials"
    assert accounts[organization.workload]["via"] == (
        f"arn:aws:iam::{organization.workload}:role/irready-audit")


def test_the_organization_trail_logs_every_member(organization: Organization,
                                                  tmp_path: Path) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail", "--accounts",
                     f"{MANAGEMENT},{organization.workload}")

    assert result.exit_code == ExitCode.FAILED  # the trail's bucket logs no access
    accounts = by_account(json.loads(result.stdout))
    with history(tmp_path) as store:
        member = store.load_run(accounts[organization.workload]["run_id"])
        management = store.load_run(accounts[MANAGEMENT]["run_id"])
    statuses = {f.check_id: f.status.value for f in member.findings}
    assert statuses == {
        "cloudtrail.enabled": "PASS", "cloudtrail.multi_region": "PASS",
        "cloudtrail.org_trail": "PASS", "cloudtrail.log_validation": "PASS",
        # the bucket is checked once, in the account that owns it
        "cloudtrail.bucket_retention": "NOT_APPLICABLE",
        "cloudtrail.bucket_access_logging": "NOT_APPLICABLE"}
    retention = next(f for f in member.findings
                     if f.check_id == "cloudtrail.bucket_retention")
    assert retention.message.endswith(
        f"The organization trail's bucket is checked in account {MANAGEMENT}.")
    logging = next(f for f in management.findings
                   if f.check_id == "cloudtrail.bucket_access_logging")
    assert (logging.status.value, logging.resource) == ("FAIL", f"arn:aws:s3:::{TRAIL_BUCKET}")


def test_an_ou_covers_the_ous_nested_under_it(organization: Organization) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail.enabled", "--ou", organization.ou,
                     "--no-history")

    assert result.exit_code == ExitCode.OK, result.stderr
    assert set(by_account(json.loads(result.stdout))) == {organization.workload,
                                                          organization.nested}


def test_excluded_accounts_are_left_out(organization: Organization) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail.enabled", "--no-history", "--exclude",
                     f"{organization.no_role},{organization.denied},{organization.nested}")

    assert result.exit_code == ExitCode.OK, result.stderr
    assert set(by_account(json.loads(result.stdout))) == {
        MANAGEMENT, organization.workload, organization.suspended}


def test_no_account_audited_is_exit_3(organization: Organization) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail.enabled", "--no-history", "--accounts",
                     f"{organization.no_role},{organization.denied}")

    assert result.exit_code == ExitCode.UNAVAILABLE
    document = json.loads(result.stdout)
    assert document["summary"]["audited"] == 0
    assert {item["state"] for item in document["accounts"]} == {"ERROR"}


def test_the_stored_org_run_reads_back_as_the_json_said(organization: Organization,
                                                        tmp_path: Path) -> None:
    from reports.org_report import org_dict

    output = tmp_path / "org.json"
    result = irready(*ORG_AUDIT, "--check", "cloudtrail", "--output", output)

    assert result.exit_code == ExitCode.FAILED  # the worst over the accounts
    shown = json.loads(output.read_text())
    assert schema_errors(shown, json.loads(SCHEMA.read_text())) == []
    with history(tmp_path) as store:
        assert [summary.org_run_id for summary in store.org_runs()] == [shown["org_run_id"]]
        stored = org_dict(store.load_org_run(shown["org_run_id"]))
        assert len(store.runs()) == 3  # each audited account's run is its own
    assert stored["accounts"] == shown["accounts"]
    assert stored["summary"] == shown["summary"]
    assert stored["worst_findings"] == shown["worst_findings"]


def test_waivers_and_inventory_apply_to_the_accounts_they_name(
        organization: Organization, tmp_path: Path) -> None:
    from clikit import write_config

    config = write_config(tmp_path, f"""
[[waivers]]
check = "cloudtrail.bucket_access_logging"
reason = "the log archive account logs access to it"
expires = "2099-01-01"
account = "{MANAGEMENT}"

[[waivers]]
check = "cloudtrail.log_validation"
reason = "only for the workload account"
expires = "2099-01-01"
account = "{organization.workload}"
""")
    result = irready(*ORG_AUDIT, "--config", config, "--check", "cloudtrail",
                     "--accounts", MANAGEMENT)

    assert result.exit_code == ExitCode.OK, result.stderr
    summary = by_account(json.loads(result.stdout))[MANAGEMENT]["summary"]
    assert (summary["WAIVED"], summary["FAIL"]) == (1, 0)


def test_the_roll_up_and_the_stored_org_run(organization: Organization, tmp_path: Path
                                            ) -> None:
    result = irready("audit", "--org", "--regions", "us-east-1", "--check", "cloudtrail",
                     env={"COLUMNS": "200"})

    assert result.exit_code == ExitCode.FAILED
    assert "3 of 6 accounts audited" in result.stdout
    assert (f"LOW      {MANAGEMENT} cloudtrail.bucket_access_logging: "
            in result.stdout)  # the worst findings across the organization
    assert "Accounts that block the 4-hour answer (3)" in result.stdout
    assert f"skipped {organization.suspended} (suspended): suspended: not audited" in (
        result.stdout)
    assert f"not audited {organization.denied} (denied): could not assume" in result.stdout

    listed = irready("history", "--org", env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if MANAGEMENT in line)
    assert [cell.strip() for cell in row.split("│")[4:8]] == ["6", "3", "2", "1"]

    again = irready("report", "audit", "--org", "--format", "json")
    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)["summary"]
    assert (summary["audited"], summary["errors"], summary["skipped"]) == (3, 2, 1)
    text = irready("report", "audit", "--org")
    assert "3 of 6 accounts audited" in text.stdout


def test_the_roles_secret_is_never_written(organization: Organization, tmp_path: Path,
                                          monkeypatch: Any) -> None:
    import boto3.session

    secrets: list[str] = []

    def keep(parsed: dict[str, Any], **_: Any) -> None:
        if "Credentials" in parsed:
            secrets.append(parsed["Credentials"]["SecretAccessKey"])

    built = boto3.session.Session.__init__

    def watching(self: Any, *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        self.events.register("after-call.sts.AssumeRole", keep)

    monkeypatch.setattr(boto3.session.Session, "__init__", watching)
    output = tmp_path / "org.json"
    result = irready(*ORG_AUDIT, "--check", "cloudtrail", "--output", output, "--debug")
    shown = irready("report", "audit", "--org")

    assert len(secrets) == 2  # one per member whose role could be assumed
    store = tmp_path / "xdg-data" / "irready" / "history.sqlite3"
    artifacts = [result.stdout, result.stderr, shown.stdout, output.read_text(),
                 *(path.read_bytes().decode("latin-1") for path in store.parent.iterdir())]
    for secret in secrets:
        assert all(secret not in text for text in artifacts)


def test_security_hub_gets_each_accounts_findings_from_that_account(
        organization: Organization, aws: Any) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail", "--security-hub", "--no-history",
                     "--accounts", f"{MANAGEMENT},{organization.workload}")

    assert result.exit_code == ExitCode.FAILED, result.stderr
    found = aws.client("securityhub").get_findings(MaxResults=100)["Findings"]
    assert {f["AwsAccountId"] for f in found} == {MANAGEMENT}
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{organization.workload}:role/irready-audit",
        RoleSessionName="check")["Credentials"]
    import boto3

    member = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                           aws_secret_access_key=credentials["SecretAccessKey"],
                           aws_session_token=credentials["SessionToken"],
                           region_name="us-east-1")
    imported = member.client("securityhub").get_findings(MaxResults=100)["Findings"]
    assert imported
    assert {f["AwsAccountId"] for f in imported} == {organization.workload}
