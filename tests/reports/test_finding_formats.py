"""`--format ocsf` and `--format asff`: every record of a real audit (moto) and of the
seeded run holds to the vendored OCSF 1.3.0 schema and to ASFF (botocore's model and
AWS's documented limits), and each irready status lands where README says it does."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from findings_schemas import OCSF_SCHEMA, asff_errors, ocsf_errors
from report_seed import ACCOUNT, NASTY, finding

from auditor.diff import RunDiff, compare
from auditor.models import AuditRun, Severity, Status, WaiverState
from auditor.store import HistoryStore
from reports.formats import AuditFormat, render_audit


@pytest.fixture
def latest(store: HistoryStore, run_ids: list[int]) -> tuple[AuditRun, RunDiff]:
    run = store.load_run(run_ids[-1])
    return run, compare(store.load_run(run_ids[-2]), run)


@pytest.fixture
def audited(aws: Any, run_audit: Any) -> AuditRun:
    """A real audit of the demo's story account, in moto."""
    from demo.account import seed_story

    seed_story(aws)
    run: AuditRun = run_audit()
    return run


def ocsf_lines(run: AuditRun, diff: RunDiff | None = None, home: str | None = None
               ) -> list[dict[str, Any]]:
    text = render_audit(run, diff, AuditFormat.OCSF, home).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def asff_list(run: AuditRun, diff: RunDiff | None = None, home: str | None = None
              ) -> list[dict[str, Any]]:
    document = json.loads(render_audit(run, diff, AuditFormat.ASFF, home))
    assert list(document) == ["Findings"]
    findings: list[dict[str, Any]] = document["Findings"]
    return findings


def test_the_vendored_schema_is_ocsf_1_3_0_compliance_finding() -> None:
    assert OCSF_SCHEMA["version"] == "1.3.0"
    assert OCSF_SCHEMA["source"]["commit"] == "c8bde8c4cc7e93bb4a36e873623bbe099da22fb5"
    assert (OCSF_SCHEMA["class"]["uid"], OCSF_SCHEMA["class"]["category_uid"]) == (2003, 2)
    required = {name for name, spec in OCSF_SCHEMA["class"]["attributes"].items()
                if spec["requirement"] == "required"}
    assert required >= {"activity_id", "category_uid", "class_uid", "type_uid", "time",
                        "severity_id", "metadata", "finding_info", "compliance", "cloud"}


def test_every_ocsf_record_of_a_real_audit_holds_to_the_schema(audited: AuditRun) -> None:
    records = ocsf_lines(audited)
    assert len(records) == len(audited.findings) > 10
    for record in records:
        assert ocsf_errors(record) == [], record
    statuses = {record["compliance"]["status_code"] for record in records}
    assert {"PASS", "FAIL"} <= statuses
    assert {record["cloud"]["account"]["uid"] for record in records} == {audited.account_id}
    # account-wide findings go to the home region (the session's: us-east-1 here)
    iam = [r for r in records if r["compliance"]["control"] == "iam.console_mfa"]
    assert iam
    assert {r["cloud"]["region"] for r in iam} == {"us-east-1"}
    failing = [r for r in iam if r["compliance"]["status_code"] == "FAIL"]
    assert failing
    assert failing[0]["resources"][0]["type"] == "AwsIamUser"
    assert failing[0]["resources"][0]["uid"].startswith(f"arn:aws:iam::{audited.account_id}:")
    assert failing[0]["compliance"]["standards"] == ["CIS AWS Foundations Benchmark v5.0.0",
                                                     "AWS Security Hub controls"]
    assert failing[0]["compliance"]["requirements"] == ["CIS 1.9", "IAM.5"]


def test_every_asff_finding_of_a_real_audit_holds_to_asff(audited: AuditRun) -> None:
    findings = asff_list(audited, home="eu-west-1")
    assert len(findings) == len(audited.findings)
    for document in findings:
        assert asff_errors(document) == [], document
    assert len({f["Id"] for f in findings}) == len(findings)
    by_check = {f["GeneratorId"]: f for f in findings if f["GeneratorId"] == "iam.root_mfa"}
    assert by_check["iam.root_mfa"]["Region"] == "eu-west-1"  # global: the home region
    assert by_check["iam.root_mfa"]["ProductArn"] == (
        f"arn:aws:securityhub:eu-west-1:{audited.account_id}:product/"
        f"{audited.account_id}/default")
    regional = [f for f in findings if f["GeneratorId"] == "guardduty.enabled"]
    assert {f["Region"] for f in regional} == {"us-east-1", "eu-west-1"}


@pytest.mark.parametrize(
    ("status", "ocsf_status", "ocsf_compliance", "ocsf_severity", "asff"),
    [
        pytest.param(Status.FAIL, (1, "New"), (3, "Fail"), (4, "High"),
                     ("FAILED", "ACTIVE", "HIGH"), id="FAIL: new, fails, its severity"),
        pytest.param(Status.ERROR, (1, "New"), (2, "Warning"), (4, "High"),
                     ("WARNING", "ACTIVE", "HIGH"), id="ERROR: could not tell, a warning"),
        pytest.param(Status.WAIVED, (3, "Suppressed"), (3, "Fail"), (4, "High"),
                     ("FAILED", "ACTIVE", "HIGH"), id="WAIVED: still fails, suppressed"),
        pytest.param(Status.PASS, (4, "Resolved"), (1, "Pass"), (1, "Informational"),
                     ("PASSED", "ARCHIVED", "INFORMATIONAL"), id="PASS: informational"),
        pytest.param(Status.NOT_APPLICABLE, (99, "Not Applicable"), (99, "Not Applicable"),
                     (1, "Informational"), ("NOT_AVAILABLE", "ARCHIVED", "INFORMATIONAL"),
                     id="NOT_APPLICABLE: Other in OCSF, not available in ASFF"),
    ],
)
def test_each_status_maps_as_readme_says(
        status: Status, ocsf_status: tuple[int, str], ocsf_compliance: tuple[int, str],
        ocsf_severity: tuple[int, str], asff: tuple[str, str, str]) -> None:
    waiver = WaiverState("accepted", date(2027, 1, 1)) if status is Status.WAIVED else None
    one = finding("iam.root_mfa", status, Severity.HIGH, references=("CIS 1.4", "IAM.9"),
                  waiver=waiver)
    run = AuditRun(ACCOUNT, *_times(), findings=(one,), regions=("us-east-1",), run_id=7,
                   version="0.1.0")
    record = ocsf_lines(run)[0]
    assert ocsf_errors(record) == []
    assert (record["status_id"], record["status"]) == ocsf_status
    compliance = record["compliance"]
    assert (compliance["status_id"], compliance["status"]) == ocsf_compliance
    assert (record["severity_id"], record["severity"]) == ocsf_severity
    document = asff_list(run)[0]
    assert asff_errors(document) == []
    assert (document["Compliance"]["Status"], document["RecordState"],
            document["Severity"]["Label"]) == asff
    assert document["Severity"]["Original"] == "high"
    # Security Hub takes a provider's later changes to these from FindingProviderFields
    assert document["FindingProviderFields"] == {"Severity": document["Severity"],
                                                 "Types": document["Types"]}
    assert document["Compliance"]["RelatedRequirements"] == [
        "CIS AWS Foundations Benchmark v5.0.0/1.4", "IAM.9"]
    if waiver is not None:
        assert document["Description"].endswith("Waived: accepted (until 2027-01-01).")
        assert document["ProductFields"]["irready/Waiver"] == "accepted (until 2027-01-01)"
        assert compliance["status_detail"] == "waived: accepted (until 2027-01-01)"


def _times() -> tuple[datetime, datetime]:
    return datetime(2026, 11, 29, 6, 0, tzinfo=UTC), datetime(2026, 11, 29, 6, 1, tzinfo=UTC)


def test_the_seeded_run_renders_every_status_and_escapes_nothing(
        latest: tuple[AuditRun, RunDiff]) -> None:
    run, diff = latest
    records = ocsf_lines(run, diff)
    assert {r["compliance"]["status_code"] for r in records} == {s.value for s in Status}
    for record in records:
        assert ocsf_errors(record) == [], record
    assert NASTY in [r["message"] for r in records]  # JSON carries it as the text it is
    findings = asff_list(run, diff)
    for document in findings:
        assert asff_errors(document) == [], document


def test_a_fixed_finding_that_is_gone_is_archived_from_the_previous_run(
        latest: tuple[AuditRun, RunDiff]) -> None:
    run, diff = latest
    gone = diff.fixed[0]
    without = replace(run, findings=tuple(f for f in run.findings if f.key != gone.key))
    findings = asff_list(without, diff)
    archived = [f for f in findings if f["ProductFields"]["irready/Status"] == "FIXED"]
    assert [f["Id"] for f in archived] == [f"irready/{gone.check_id}/{gone.key}"]
    assert archived[0]["Compliance"]["Status"] == "PASSED"
    assert archived[0]["RecordState"] == "ARCHIVED"
    assert archived[0]["Description"].startswith("No longer failing as of ")
    assert asff_errors(archived[0]) == []


def test_long_texts_are_cut_to_asff_limits_and_the_finding_stays_under_240_kb() -> None:
    huge = "x" * 5000
    one = replace(finding("iam.root_mfa", Status.FAIL, Severity.CRITICAL, message=huge,
                          evidence={f"item{i:03}": huge for i in range(200)}),
                  title=huge, remediation=huge,
                  references=tuple(f"CIS 1.{i}" for i in range(40)))
    run = AuditRun(ACCOUNT, *_times(), findings=(one,))
    document = asff_list(run)[0]
    assert asff_errors(document) == []
    assert len(document["Title"]) == 256
    assert document["Title"].endswith("…")
    assert len(document["Description"]) == 1024
    assert len(document["Compliance"]["RelatedRequirements"]) == 32
    assert len(document["ProductFields"]) == 50
    record = ocsf_lines(run)[0]
    assert ocsf_errors(record) == []
    assert record["message"] == huge  # OCSF sets no limit: the whole text


def test_the_ocsf_check_catches_a_wrong_record(latest: tuple[AuditRun, RunDiff]) -> None:
    record = ocsf_lines(*latest)[0]
    record["compliance"]["status_id"] = 4
    record["severity_id"], record["severity"] = 4, "Severe"
    del record["cloud"]["provider"]
    record["resources"] = {"uid": "x"}
    del record["finding_info"]
    assert ocsf_errors(record) == [
        "$: missing 'finding_info'",
        "$.cloud: missing 'provider'",
        "$.compliance.status_id: 4 not in ['0', '1', '2', '3', '99']",
        f"$.compliance.status: {record['compliance']['status']!r} is not the caption of "
        "status_id 4 (None)",
        "$.resources: {'uid': 'x'} is not an array",
        "$.severity: 'Severe' is not the caption of severity_id 4 ('High')",
    ]


def test_the_asff_check_catches_a_wrong_finding(latest: tuple[AuditRun, RunDiff]) -> None:
    document = asff_list(*latest)[0]
    del document["Title"]
    document["Compliance"]["Status"] = "OK"
    document["Resources"] = [{"Id": "x"}]
    problems = asff_errors(document)
    assert "missing Title" in problems
    assert "Compliance.Status 'OK'" in problems
    assert any(p.startswith("botocore: ") and "Type" in p for p in problems)


def test_report_audit_renders_a_stored_run_with_its_home_region(
        store: HistoryStore, run_ids: list[int], tmp_path: Any) -> None:
    from clikit import irready

    ocsf = irready("report", "audit", "--history", store.path, "--format", "ocsf",
                   "--region", "eu-central-1")
    assert ocsf.exit_code == 0, ocsf.stderr
    records = [json.loads(line) for line in ocsf.stdout.splitlines()]
    assert records
    # every seeded finding is account-wide: all go to the home region given
    assert {r["cloud"]["region"] for r in records} == {"eu-central-1"}
    written = irready("report", "audit", "--history", store.path, "-o", tmp_path / "r.jsonl")
    assert written.exit_code == 0, written.stderr
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert [json.loads(line)["class_uid"] for line in lines] == [2003] * len(records)
    asff = irready("report", "audit", "--history", store.path, "--format", "asff")
    assert asff.exit_code == 0, asff.stderr
    # no --region: the run audited us-east-1, so that is where account-wide ones go
    assert {f["Region"] for f in json.loads(asff.stdout)["Findings"]} == {"us-east-1"}
