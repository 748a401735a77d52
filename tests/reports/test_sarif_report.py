"""`--format sarif`: a real audit (moto) and the seeded runs hold to SARIF 2.1.0 (the
subset in tests/reports/sarif/) and to what GitHub code scanning requires of an upload;
each irready status lands where README ("SARIF, for code-scanning dashboards") says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_seed import ACCOUNT
from schema_check import errors

from auditor.models import AuditRun, Status
from auditor.store import HistoryStore
from reports.formats import AuditFormat, render_audit

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).parent / "sarif" / "sarif-2.1.0-subset.schema.json").read_text())


def sarif(run: AuditRun) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_audit(run, None, AuditFormat.SARIF))
    assert errors(document, SCHEMA) == []
    return document


def code_scanning_problems(document: dict[str, Any]) -> list[str]:
    """What GitHub code scanning refuses or mis-files: a result without a non-empty,
    relative file location, a rule index that points elsewhere, a missing severity."""
    problems = []
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for number, result in enumerate(run["results"]):
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        if not uri or "://" in uri or uri.startswith("/"):
            problems.append(f"result {number}: location {uri!r}")
        if rules[result["ruleIndex"]]["id"] != result["ruleId"]:
            problems.append(f"result {number}: ruleIndex points to another rule")
    problems += [f"rule {rule['id']}: security-severity" for rule in rules
                 if not 0 < float(rule["properties"]["security-severity"]) <= 10]
    return problems


@pytest.fixture
def audited(aws: Any, run_audit: Any) -> AuditRun:
    from demo.account import seed_story

    seed_story(aws)
    run: AuditRun = run_audit()
    return run


def test_a_real_audit_is_sarif_that_code_scanning_takes(audited: AuditRun) -> None:
    document = sarif(audited)
    assert code_scanning_problems(document) == []
    run = document["runs"][0]
    results = run["results"]
    needs_someone = [f for f in audited.findings
                     if f.status in (Status.FAIL, Status.WAIVED, Status.ERROR)]
    assert len(results) == len(needs_someone) > 0
    assert {r["properties"]["status"] for r in results} <= {"FAIL", "WAIVED", "ERROR"}
    fingerprints = [r["partialFingerprints"]["irreadyFinding/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    assert run["properties"]["counts"] == audited.counts()
    assert run["automationDetails"]["id"] == f"irready/audit/{audited.account_id}/"
    mfa = [r for r in results if r["ruleId"] == "iam.console_mfa"]
    assert mfa
    assert mfa[0]["level"] == "error"  # a high-severity check
    assert mfa[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        f"aws/{audited.account_id}/global/iam.console_mfa")
    assert mfa[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
        f"arn:aws:iam::{audited.account_id}:user/")


def test_each_status_lands_where_readme_says(store: HistoryStore, run_ids: list[int]) -> None:
    document = sarif(store.load_run(run_ids[-1]))
    run = document["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    waived = by_rule["account.alternate_contacts"]
    assert (waived["kind"], waived["suppressions"]) == ("fail", [{
        "kind": "external", "status": "accepted",
        "justification": "finance handles billing mail (until 2027-03-31)"}])
    error = by_rule["guardduty.enabled"]
    assert (error["kind"], error["level"]) == ("review", "warning")
    assert error["message"]["text"] == (
        "account: not evaluated: access denied: needs guardduty:ListDetectors")
    # a check that could not look: the run says it was not complete, never a clean pass
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["properties"]["complete"] is False
    # what passed or does not apply is no result: its alert closes
    assert "cloudtrail.enabled" not in by_rule
    assert "athena.cloudtrail_table" not in by_rule
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["cloudtrail.enabled"]["properties"]["security-severity"] == "9.5"
    assert rules["iam.console_mfa"]["properties"]["tags"] == [
        "security", "aws", "CIS 1.9", "IAM.5"]
    assert rules["iam.console_mfa"]["help"]["text"] == "fix iam.console_mfa now"


def test_an_expired_waiver_is_an_open_alert(store: HistoryStore, run_ids: list[int]) -> None:
    run = sarif(store.load_run(run_ids[-1]))["runs"][0]
    expired = [r for r in run["results"] if r["ruleId"] == "cloudtrail.bucket_access_logging"]
    assert [(r["kind"], r["level"], "suppressions" in r) for r in expired] == [
        ("fail", "note", False)]


def test_the_same_gap_is_the_same_alert_run_after_run(
        store: HistoryStore, run_ids: list[int]) -> None:
    def fingerprints(run_id: int) -> dict[str, str]:
        results = sarif(store.load_run(run_id))["runs"][0]["results"]
        return {r["properties"]["resource"]: r["partialFingerprints"]["irreadyFinding/v1"]
                for r in results if r["ruleId"] == "iam.console_mfa"}

    first, last = fingerprints(run_ids[-3]), fingerprints(run_ids[-1])
    shared = first.keys() & last.keys()
    assert shared
    assert {first[r] for r in shared} == {last[r] for r in shared}
    assert all(value.startswith(f"{ACCOUNT}:") for value in last.values())


def test_report_audit_writes_sarif_by_its_extension(
        store: HistoryStore, run_ids: list[int], tmp_path: Path) -> None:
    from clikit import irready

    written = irready("report", "audit", "--history", store.path, "-o", tmp_path / "a.sarif")
    assert written.exit_code == 0, written.stderr
    document = json.loads((tmp_path / "a.sarif").read_text())
    assert errors(document, SCHEMA) == []
    assert document["runs"][0]["properties"]["runId"] == run_ids[-1]
