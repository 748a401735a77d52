"""`irready audit --security-hub`: findings reach Security Hub (moto stores what
BatchImportFindings sends) in their own region, 100 per call; a fixed finding is
imported again as PASSED and ARCHIVED; a region that refuses (denied, Security Hub not
enabled) is one error line naming the region and the permission, and a clean audit then
exits 4. `irready policy securityhub` prints the one write, which the read-only audit
policy does not hold."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from auditkit import shipped_policy
from clikit import irready

from auditor.asff import asff_findings
from auditor.errors import ExitCode
from auditor.models import AuditRun, Finding, Severity, Status
from auditor.securityhub import BATCH_SIZE, PERMISSION, import_findings
from auditor.session import AwsContext

ACCOUNT = "123456789012"
AUDIT = ("audit", "--format", "json", "--regions", "us-east-1,eu-west-1")
NOT_SUBSCRIBED = f"Account {ACCOUNT} is not subscribed to AWS Security Hub"


@pytest.fixture(autouse=True)
def hub_must_be_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """As AWS does and moto does not: a region where Security Hub is not enabled refuses
    BatchImportFindings with InvalidAccessException (moto says so for its other calls)."""
    from moto.securityhub.exceptions import SecurityHubClientError as RESTError
    from moto.securityhub.models import SecurityHubBackend

    original = SecurityHubBackend.batch_import_findings

    def refuse_unless_enabled(self: Any, findings: list[dict[str, Any]]) -> Any:
        if not self.enabled:
            raise RESTError("InvalidAccessException",
                            f"Account {self.account_id} is not subscribed to AWS Security Hub")
        return original(self, findings)

    monkeypatch.setattr(SecurityHubBackend, "batch_import_findings", refuse_unless_enabled)


def enable(aws: Any, *regions: str) -> None:
    for region in regions:
        aws.client("securityhub", region_name=region).enable_security_hub()


def stored(aws: Any, region: str) -> dict[str, dict[str, Any]]:
    """What Security Hub holds in `region`, by finding id."""
    client = aws.client("securityhub", region_name=region)
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_findings").paginate():
        found.update({f["Id"]: f for f in page["Findings"]})
    return found


@pytest.fixture
def story(aws: Any) -> Any:
    from demo.account import seed_story

    seed_story(aws)
    return aws


def test_findings_go_to_their_regions_and_global_ones_to_the_home_region(story: Any) -> None:
    enable(story, "us-east-1", "eu-west-1")
    result = irready(*AUDIT, "--security-hub")

    assert result.exit_code == ExitCode.FAILED  # the audit's own code
    report = json.loads(result.stdout)
    east, west = stored(story, "us-east-1"), stored(story, "eu-west-1")
    expected_west = [f for f in report["findings"] if f["region"] == "eu-west-1"]
    assert len(west) == len(expected_west) > 0
    assert len(east) + len(west) == len(report["findings"])
    for finding in report["findings"]:
        held = (west if finding["region"] == "eu-west-1" else east)[
            f"irready/{finding['check_id']}/{finding['key']}"]
        assert held["AwsAccountId"] == ACCOUNT
        assert held["GeneratorId"] == finding["check_id"]
        expected = {"FAIL": "FAILED", "PASS": "PASSED", "ERROR": "WARNING",
                    "WAIVED": "FAILED", "NOT_APPLICABLE": "NOT_AVAILABLE"}[finding["status"]]
        assert held["Compliance"]["Status"] == expected
    assert result.stderr == (f"imported {len(report['findings'])} findings into "
                             f"Security Hub of {ACCOUNT} (eu-west-1: {len(west)} imported, "
                             f"us-east-1: {len(east)} imported)\n")


def test_a_finding_that_no_longer_fails_is_imported_again_passed_and_archived(
        story: Any) -> None:
    enable(story, "us-east-1")
    check = ("--check", "iam.console_mfa", "--regions", "us-east-1")
    first = irready("audit", "--format", "json", *check, "--security-hub")
    assert first.exit_code == ExitCode.FAILED
    failing = [f for f in json.loads(first.stdout)["findings"] if f["status"] == "FAIL"]
    assert [f["resource"] for f in failing] == [f"arn:aws:iam::{ACCOUNT}:user/admin-user"]
    finding_id = f"irready/iam.console_mfa/{failing[0]['key']}"
    before = stored(story, "us-east-1")[finding_id]
    assert (before["Compliance"]["Status"], before["RecordState"]) == ("FAILED", "ACTIVE")

    story.client("iam").delete_login_profile(UserName="admin-user")  # fixed: no console
    second = irready("audit", "--format", "json", *check, "--security-hub")

    assert second.exit_code == ExitCode.OK
    assert json.loads(second.stdout)["changes"]["fixed"] == [failing[0]["key"]]
    after = stored(story, "us-east-1")[finding_id]
    assert (after["Compliance"]["Status"], after["RecordState"]) == ("PASSED", "ARCHIVED")
    assert after["Severity"]["Label"] == "INFORMATIONAL"
    assert after["ProductFields"]["irready/Status"] == "FIXED"
    assert after["UpdatedAt"] > before["UpdatedAt"]


def many_findings(count: int, region: str = "us-east-1") -> AuditRun:
    moment = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    findings = tuple(
        Finding("iam.console_mfa", "Every console user has MFA", Status.FAIL, Severity.HIGH,
                ACCOUNT, region, f"arn:aws:iam::{ACCOUNT}:user/user-{n:04}",
                f"user-{n:04} has no MFA.", "enable MFA", ("CIS 1.9", "IAM.5"))
        for n in range(count))
    return AuditRun(ACCOUNT, moment, moment, findings, regions=(region,), version="0.1.0")


def test_250_findings_go_in_batches_of_100(aws: Any, api_calls: list[str]) -> None:
    enable(aws, "us-east-1")
    run = many_findings(250)
    report = import_findings(AwsContext(session=aws, max_attempts=2), ACCOUNT,
                             asff_findings(run, None, "us-east-1"))

    assert api_calls.count("securityhub:BatchImportFindings") == 3 == -(-250 // BATCH_SIZE)
    assert report.complete
    assert report.imported == 250
    assert len(stored(aws, "us-east-1")) == 250


def test_findings_of_another_account_are_not_imported_from_this_one(aws: Any) -> None:
    run = many_findings(1)
    other = [{**asff_findings(run, None, "us-east-1")[0], "AwsAccountId": "111122223333"}]
    with pytest.raises(ValueError, match="each account imports its own"):
        import_findings(AwsContext(session=aws, max_attempts=2), ACCOUNT, other)


def test_a_region_without_security_hub_is_one_error_line_and_the_others_import(
        story: Any) -> None:
    enable(story, "us-east-1")  # not eu-west-1
    result = irready(*AUDIT, "--security-hub")

    assert result.exit_code == ExitCode.FAILED  # failures decide, as without the import
    west = [f for f in json.loads(result.stdout)["findings"] if f["region"] == "eu-west-1"]
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"imported {len(stored(story, 'us-east-1'))} findings")
    assert lines[1:] == [
        f"irready: error: --security-hub: eu-west-1: {len(west)} of {len(west)} "
        f"finding{'' if len(west) == 1 else 's'} not imported: Security Hub is not enabled "
        f"in eu-west-1 (InvalidAccessException): enable it there; importing also needs "
        f"{PERMISSION}"]


def test_an_undelivered_import_turns_a_clean_audit_into_exit_4(aws: Any) -> None:
    # nothing enabled; the one check passes (moto's root has no access keys)
    result = irready("audit", "--format", "json", "--regions", "us-east-1", "--check",
                     "iam.root_access_keys", "--security-hub")
    summary = json.loads(result.stdout)["summary"]
    assert summary["FAIL"] == summary["ERROR"] == 0
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stderr.startswith("irready: error: --security-hub: us-east-1: ")


def test_the_read_only_audit_role_is_denied_the_import_by_name(
        story: Any, user_with_policy: Callable[[dict[str, Any]], Any],
        enforce_iam: Callable[[], AbstractContextManager[None]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    enable(story, "us-east-1")
    auditor = user_with_policy(shipped_policy())
    credentials = auditor.get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    with enforce_iam():
        result = irready("audit", "--format", "json", "--regions", "us-east-1",
                         "--check", "iam.root_access_keys", "--security-hub")

    summary = json.loads(result.stdout)["summary"]
    assert summary["FAIL"] == summary["ERROR"] == 0
    assert result.exit_code == ExitCode.INCOMPLETE  # the audit passed; delivery failed
    assert result.stderr == (
        "irready: error: --security-hub: us-east-1: 1 of 1 finding not imported: "
        f"AccessDenied: grant {PERMISSION} in us-east-1 "
        "(`irready policy securityhub`)\n")
    assert stored(story, "us-east-1") == {}


def test_policy_securityhub_prints_the_one_write_the_audit_policy_lacks() -> None:
    result = irready("policy", "securityhub")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    actions = [s["Action"] for s in document["Statement"]]
    assert actions == [PERMISSION]
    audit_actions = json.dumps(shipped_policy())
    assert "securityhub" not in audit_actions


@pytest.fixture
def rejected_by_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto rejects a finding one by one (FailedFindings) only for an empty Resources
    list, which irready never sends: reject every finding of one check instead."""
    from moto.securityhub.models import SecurityHubBackend

    original = SecurityHubBackend.batch_import_findings

    def reject_some(self: Any, findings: list[dict[str, Any]]) -> Any:
        for finding in findings:
            if finding["GeneratorId"] == "iam.root_mfa":
                finding["Resources"] = []
        return original(self, findings)

    monkeypatch.setattr(SecurityHubBackend, "batch_import_findings", reject_some)


@pytest.mark.usefixtures("rejected_by_moto")
def test_findings_rejected_one_by_one_are_named_with_the_first_reason(aws: Any) -> None:
    enable(aws, "us-east-1")
    result = irready("audit", "--format", "json", "--regions", "us-east-1", "--check",
                     "iam.root_access_keys", "--check", "iam.root_mfa", "--security-hub")
    lines = result.stderr.splitlines()
    assert lines[0] == f"imported 1 finding into Security Hub of {ACCOUNT}"
    assert lines[1].startswith("irready: error: --security-hub: us-east-1: 1 of 2 findings "
                               "not imported: InvalidInput: ")
    assert "(finding irready/iam.root_mfa/" in lines[1]


def test_no_history_and_no_store_imports_the_current_findings_only(
        story: Any, tmp_path: Any) -> None:
    enable(story, "us-east-1")
    result = irready("audit", "--format", "json", "--regions", "us-east-1", "--check",
                     "iam.console_mfa", "--no-history", "--security-hub")

    assert result.exit_code == ExitCode.FAILED
    report = json.loads(result.stdout)
    assert "changes" not in report  # nothing to compare with: nothing to archive
    held = stored(story, "us-east-1")
    assert sorted(held) == sorted(f"irready/iam.console_mfa/{f['key']}"
                                  for f in report["findings"])
    assert not (tmp_path / "xdg-data" / "irready" / "history.sqlite3").exists()


@pytest.fixture
def not_enabled_in_failed_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other way AWS documents a region without Security Hub: the call succeeds and
    every finding comes back in FailedFindings with InvalidAccess."""
    from moto.securityhub.models import SecurityHubBackend

    def refuse_each(self: Any, findings: list[dict[str, Any]]) -> Any:
        failed = [{"Id": f["Id"], "ErrorCode": "InvalidAccess",
                   "ErrorMessage": NOT_SUBSCRIBED} for f in findings]
        return len(findings), 0, failed

    monkeypatch.setattr(SecurityHubBackend, "batch_import_findings", refuse_each)


@pytest.mark.usefixtures("not_enabled_in_failed_findings")
def test_not_enabled_told_in_failed_findings_is_the_same_one_line(aws: Any) -> None:
    result = irready("audit", "--format", "json", "--regions", "us-east-1", "--check",
                     "iam.root_access_keys", "--security-hub")
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stderr == (
        "irready: error: --security-hub: us-east-1: 1 of 1 finding not imported: Security "
        f"Hub is not enabled in us-east-1 (InvalidAccess): enable it there; importing also "
        f"needs {PERMISSION}\n")
