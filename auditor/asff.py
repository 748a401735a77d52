"""irready's findings in the AWS Security Finding Format (ASFF), as Security Hub's
BatchImportFindings takes them from a custom integration. It lives in the core, not in
reports/, because the Security Hub import (auditor/securityhub.py) sends exactly these
findings and the core imports no renderer; `irready audit --format asff` renders them.

Limits are AWS's (AwsSecurityFinding in the Security Hub API reference): Title at most
256 characters, Description 1,024, Remediation.Recommendation.Text 512, at most 32
RelatedRequirements and 50 ProductFields (keys 128, values 2,048 characters), and a
finding under 240 KB. Texts are cut to fit, never refused."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from auditor.clock import iso
from auditor.diff import RunDiff
from auditor.finding_resources import delivery_region, partition_of_region, resource_ref
from auditor.models import AuditRun, Finding, Severity, Status

SCHEMA_VERSION = "2018-10-08"
PRODUCT_NAME = COMPANY_NAME = "irready"
CIS_STANDARD = "CIS AWS Foundations Benchmark v5.0.0"
TYPE_CIS = ("Software and Configuration Checks/Industry and Regulatory Standards/"
            "CIS AWS Foundations Benchmark")
TYPE_BEST_PRACTICE = "Software and Configuration Checks/AWS Security Best Practices"
TITLE_MAX, DESCRIPTION_MAX, RECOMMENDATION_MAX = 256, 1024, 512
REQUIREMENTS_MAX, PRODUCT_FIELDS_MAX, FIELD_KEY_MAX, FIELD_VALUE_MAX = 32, 50, 128, 2048
FINDING_BYTES_MAX = 240 * 1024
ELLIPSIS = "…"


class ComplianceStatus(StrEnum):
    PASSED = "PASSED"
    WARNING = "WARNING"  # some information is missing: the check could not read it
    FAILED = "FAILED"
    NOT_AVAILABLE = "NOT_AVAILABLE"  # the check does not apply here


class RecordState(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


# What needs attention stays ACTIVE; a PASS or a check that does not apply is archived,
# so Security Hub's default view (ACTIVE) shows irready's open findings only. A WAIVED
# finding still fails: ACTIVE and FAILED, its waiver in Description and ProductFields
# (Workflow is left alone: BatchImportFindings ignores it on an existing finding, so a
# SUPPRESSED set once could never be lifted when the waiver expires).
COMPLIANCE: Mapping[Status, tuple[ComplianceStatus, RecordState]] = {
    Status.FAIL: (ComplianceStatus.FAILED, RecordState.ACTIVE),
    Status.WAIVED: (ComplianceStatus.FAILED, RecordState.ACTIVE),
    Status.ERROR: (ComplianceStatus.WARNING, RecordState.ACTIVE),
    Status.PASS: (ComplianceStatus.PASSED, RecordState.ARCHIVED),
    Status.NOT_APPLICABLE: (ComplianceStatus.NOT_AVAILABLE, RecordState.ARCHIVED),
}
SEVERITY_LABELS: Mapping[Severity, str] = {
    Severity.LOW: "LOW", Severity.MEDIUM: "MEDIUM", Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRITICAL",
}
INFORMATIONAL = "INFORMATIONAL"  # the label of whatever passed: nothing to act on


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, an ellipsis where it was cut; never empty
    (AWS refuses an empty or blank string)."""
    text = text.strip() or "-"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def product_arn(region: str, account_id: str) -> str:
    """The ARN Security Hub gives a custom integration: the account's own 'default'."""
    return (f"arn:{partition_of_region(region)}:securityhub:{region}:{account_id}:"
            f"product/{account_id}/default")


def finding_id(finding: Finding) -> str:
    """Stable across runs (the finding's key), so a re-import updates the same finding."""
    return f"irready/{finding.check_id}/{finding.key}"


def related_requirements(references: Iterable[str]) -> list[str]:
    """"CIS 1.13" -> "CIS AWS Foundations Benchmark v5.0.0/1.13" (Security Hub's own
    spelling of a CIS requirement); a Security Hub control id "IAM.3" stays as it is."""
    found = [f"{CIS_STANDARD}/{ref.removeprefix('CIS').strip()}" if ref.startswith("CIS ")
             else ref for ref in references]
    return [cut(item, 256) for item in found][:REQUIREMENTS_MAX]


def asff_finding(finding: Finding, *, run: AuditRun, home: str, fixed: bool = False
                 ) -> dict[str, Any]:
    """One finding in ASFF. `fixed`: it failed in the previous run and is not found in
    this one (its resource is gone, or it no longer fails): sent once more as PASSED and
    ARCHIVED, so Security Hub closes it."""
    region = delivery_region(finding, home)
    compliance, state = COMPLIANCE[finding.status]
    label = SEVERITY_LABELS[finding.severity]
    description = finding.message
    if fixed:
        compliance, state = ComplianceStatus.PASSED, RecordState.ARCHIVED
        description = f"No longer failing as of {iso(run.finished_at)}. Was: {finding.message}"
    if compliance in (ComplianceStatus.PASSED, ComplianceStatus.NOT_AVAILABLE):
        label = INFORMATIONAL
    if finding.waived_by is not None:
        description += f" Waived: {finding.waived_by.text}."
    severity = {"Label": label, "Original": finding.severity.label}
    types = [TYPE_CIS if any(r.startswith("CIS ") for r in finding.references)
             else TYPE_BEST_PRACTICE]
    resource = resource_ref(finding, home)
    target: dict[str, Any] = {"Type": resource.type, "Id": cut(resource.id, 512),
                              "Partition": resource.partition,
                              "Region": resource.region or region}
    document: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(finding),
        "ProductArn": product_arn(region, finding.account_id),
        "ProductName": PRODUCT_NAME,
        "CompanyName": COMPANY_NAME,
        "GeneratorId": finding.check_id,
        "AwsAccountId": finding.account_id,
        "Region": region,
        "Types": types,
        "CreatedAt": iso(run.started_at),
        "UpdatedAt": iso(run.finished_at),
        "LastObservedAt": iso(run.finished_at),
        "Severity": severity,
        # what a provider updates Severity and Types through once a finding exists
        "FindingProviderFields": {"Severity": dict(severity), "Types": list(types)},
        "Title": cut(finding.title, TITLE_MAX),
        "Description": cut(description, DESCRIPTION_MAX),
        "Remediation": {"Recommendation": {"Text": cut(finding.remediation,
                                                       RECOMMENDATION_MAX)}},
        "Resources": [target],
        "Compliance": {"Status": compliance.value},
        "RecordState": state.value,
        "ProductFields": product_fields(finding, run, fixed=fixed),
    }
    requirements = related_requirements(finding.references)
    if requirements:
        document["Compliance"]["RelatedRequirements"] = requirements
    return fitted(document)


def product_fields(finding: Finding, run: AuditRun, *, fixed: bool) -> dict[str, str]:
    fields = {
        "ProviderName": PRODUCT_NAME,
        "ProviderVersion": run.version or "unknown",
        "irready/CheckId": finding.check_id,
        "irready/Status": "FIXED" if fixed else finding.status.value,
        "irready/Key": finding.key,
        "irready/Resource": finding.resource,
    }
    if run.run_id is not None:
        fields["irready/RunId"] = str(run.run_id)
    if finding.waived_by is not None:
        fields["irready/Waiver"] = finding.waived_by.text
    if finding.references:
        fields["irready/References"] = ", ".join(finding.references)
    for name, value in sorted(finding.evidence.items()):
        if len(fields) >= PRODUCT_FIELDS_MAX:
            break
        fields[cut(f"irready/evidence/{name}", FIELD_KEY_MAX)] = value
    return {key: cut(value, FIELD_VALUE_MAX) for key, value in fields.items()}


def size_of(document: Mapping[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")).encode())


def fitted(document: dict[str, Any]) -> dict[str, Any]:
    """Under 240 KB: the evidence goes first (the message, title and remediation are
    already cut to their limits, so nothing else can be that large)."""
    fields: dict[str, str] = document["ProductFields"]
    evidence = [key for key in fields if key.startswith("irready/evidence/")]
    while evidence and size_of(document) >= FINDING_BYTES_MAX:
        del fields[evidence.pop()]
    return document


def asff_findings(run: AuditRun, diff: RunDiff | None, home: str) -> list[dict[str, Any]]:
    """Every finding of the run, then the fixed ones it no longer has (from the previous
    run, archived). A fixed finding the run still has (now PASS) is among the first."""
    present = {finding.key for finding in run.findings}
    documents = [asff_finding(finding, run=run, home=home) for finding in run.findings]
    if diff is not None:
        documents += [asff_finding(finding, run=run, home=home, fixed=True)
                      for finding in diff.fixed if finding.key not in present]
    return documents


def region_of(document: Mapping[str, Any]) -> str:
    """The region a finding must be imported into: its product ARN's."""
    return str(document["ProductArn"]).split(":")[3]
