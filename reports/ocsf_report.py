"""The audit as OCSF 1.3.0 Compliance Finding records (class 2003, category Findings), one
JSON object per line, one record per finding: what a security data lake (Amazon Security
Lake, a SIEM reading OCSF) takes without a parser of its own. Attribute names and enum
values are OCSF 1.3.0's; tests/reports/ocsf/ vendors the part of the schema the tests hold
every record to, and README ("Findings in OCSF and ASFF") states the mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from auditor.asff import CIS_STANDARD
from auditor.finding_resources import delivery_region, resource_ref
from auditor.models import AuditRun, Finding, Severity, Status

OCSF_VERSION = "1.3.0"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
CLASS_UID, CLASS_NAME = 2003, "Compliance Finding"
ACTIVITY_CREATE = (1, "Create")  # each run reports its findings afresh
SECURITY_HUB_STANDARD = "AWS Security Hub controls"
OWN_STANDARD = "irready readiness checks"  # a check that cites no standard
AWS_ACCOUNT_TYPE = (10, "AWS Account")
OTHER = 99

# irready's status -> (finding status_id, status), (compliance status_id, status)
# FAIL and ERROR need someone (a fix, a permission); a WAIVED finding still fails but is
# an accepted risk (Suppressed); what passed is Resolved; what does not apply is Other.
STATUS: Mapping[Status, tuple[tuple[int, str], tuple[int, str]]] = {
    Status.FAIL: ((1, "New"), (3, "Fail")),
    Status.ERROR: ((1, "New"), (2, "Warning")),
    Status.WAIVED: ((3, "Suppressed"), (3, "Fail")),
    Status.PASS: ((4, "Resolved"), (1, "Pass")),
    Status.NOT_APPLICABLE: ((OTHER, "Not Applicable"), (OTHER, "Not Applicable")),
}
SEVERITY: Mapping[Severity, tuple[int, str]] = {
    Severity.LOW: (2, "Low"), Severity.MEDIUM: (3, "Medium"), Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
INFORMATIONAL = (1, "Informational")  # the severity of what passed or does not apply


def standards(references: tuple[str, ...]) -> list[str]:
    """The standards a check's references name: CIS for "CIS 1.13", Security Hub's
    controls for an id such as "IAM.3"."""
    found = []
    if any(ref.startswith("CIS ") for ref in references):
        found.append(CIS_STANDARD)
    if any(not ref.startswith("CIS ") for ref in references):
        found.append(SECURITY_HUB_STANDARD)
    return found or [OWN_STANDARD]


def millis(run: AuditRun) -> int:
    return int(run.finished_at.timestamp() * 1000)


def ocsf_record(finding: Finding, run: AuditRun, home: str) -> dict[str, Any]:
    (status_id, status), (compliance_id, compliance_status) = STATUS[finding.status]
    severity_id, severity = (INFORMATIONAL if finding.status in (Status.PASS,
                                                                  Status.NOT_APPLICABLE)
                             else SEVERITY[finding.severity])
    region = delivery_region(finding, home)
    resource = resource_ref(finding, home)
    target: dict[str, Any] = {"uid": resource.id, "name": finding.resource,
                              "type": resource.type, "cloud_partition": resource.partition}
    if resource.region:
        target["region"] = resource.region
    compliance: dict[str, Any] = {
        "control": finding.check_id,
        "standards": standards(finding.references),
        "status_id": compliance_id,
        "status": compliance_status,
        "status_code": finding.status.value,
    }
    if finding.references:
        compliance["requirements"] = list(finding.references)
    if finding.waived_by is not None:
        compliance["status_detail"] = f"waived: {finding.waived_by.text}"
    elif finding.status is Status.ERROR:
        compliance["status_detail"] = finding.message
    run_part = str(run.run_id) if run.run_id is not None else run.started_at.isoformat()
    activity_id, activity = ACTIVITY_CREATE
    record: dict[str, Any] = {
        "activity_id": activity_id,
        "activity_name": activity,
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"{CLASS_NAME}: {activity}",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "time": millis(run),
        "message": finding.message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "irready", "vendor_name": "irready",
                        "version": run.version or "unknown"},
            "uid": f"irready:{finding.account_id}:{run_part}:{finding.key}",
            "profiles": ["cloud"],
        },
        "finding_info": {
            # the account is part of it: an organization's findings share one lake
            "uid": f"irready:{finding.account_id}:{finding.key}",
            "title": finding.title,
            "desc": finding.message,
        },
        "compliance": compliance,
        "resources": [target],
        "cloud": {
            "provider": "AWS",
            "region": region,
            "account": {"uid": finding.account_id, "type_id": AWS_ACCOUNT_TYPE[0],
                        "type": AWS_ACCOUNT_TYPE[1]},
        },
        "remediation": {"desc": finding.remediation},
    }
    if finding.evidence:
        record["unmapped"] = {"evidence": dict(finding.evidence)}
    return record


def ocsf_records(run: AuditRun, home: str) -> list[dict[str, Any]]:
    return [ocsf_record(finding, run, home) for finding in run.findings]


def render_ocsf(run: AuditRun, home: str) -> str:
    """JSON Lines: one record per line, keys sorted; "" for a run without findings."""
    return "".join(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
                   for record in ocsf_records(run, home))
