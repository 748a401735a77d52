"""The audit as SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning and
others that read SARIF): a team that keeps its infrastructure code in a repository sees
the account's readiness gaps beside its other alerts, and an alert closes when the next
upload no longer carries it.

SARIF was made for source files, so a few choices are irready's own (README, "SARIF"):
- Results are what needs someone: FAIL, WAIVED (as a suppressed result, with the
  waiver's reason) and ERROR (kind "review": the check could not look, which must not
  look like a pass). PASS and NOT_APPLICABLE are absent, as code scanning expects of
  what is fixed; the run's properties still count every status and say whether the
  audit was complete.
- A result's location is a path that names the account, the region and the check
  (`aws/123456789012/global/iam.root_access_keys`): code scanning requires a
  physical location; the resource itself is a logical location.
- `partialFingerprints` carries the finding's stable key, so the same gap is the same
  alert run after run; `automationDetails.id` is per account, so the accounts of an
  organization are separate analyses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from auditor.models import AuditRun, Finding, Severity, Status

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "irreadyFinding/v1"
REPORTED = (Status.FAIL, Status.WAIVED, Status.ERROR)

# SARIF's level, and the 0-10 "security-severity" code scanning sorts alerts by
LEVEL: Mapping[Severity, str] = {
    Severity.LOW: "note", Severity.MEDIUM: "warning", Severity.HIGH: "error",
    Severity.CRITICAL: "error",
}
SECURITY_SEVERITY: Mapping[Severity, str] = {
    Severity.LOW: "3.0", Severity.MEDIUM: "5.5", Severity.HIGH: "8.0",
    Severity.CRITICAL: "9.5",
}


def render_sarif(run: AuditRun) -> str:
    reported = [f for f in run.findings if f.status in REPORTED]
    rules = _rules(run.findings)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    errors = [f for f in run.findings if f.status is Status.ERROR]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "irready",
                "version": run.version or "unknown",
                "rules": rules,
            }},
            "automationDetails": {"id": f"irready/audit/{run.account_id}/"},
            "invocations": [{
                # a check that could not look is a run that did not succeed entirely
                "executionSuccessful": not errors,
                "startTimeUtc": _utc(run.started_at.isoformat()),
                "endTimeUtc": _utc(run.finished_at.isoformat()),
            }],
            "results": [_result(f, index[f.check_id]) for f in reported],
            "properties": {
                "account": run.account_id,
                "score": round(run.score, 1),
                "complete": run.complete and not errors,
                "counts": run.counts(),
                "regions": list(run.regions),
                "runId": run.run_id,
            },
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _rules(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    """One rule per check that produced a finding, in the audit's order, at the worst
    severity any of its findings carries."""
    worst: dict[str, Finding] = {}
    for finding in findings:
        seen = worst.get(finding.check_id)
        if seen is None or finding.severity > seen.severity:
            worst[finding.check_id] = finding
    return [_rule(finding) for finding in worst.values()]


def _rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.check_id,
        "shortDescription": {"text": finding.title},
        "help": {"text": finding.remediation or finding.title},
        "defaultConfiguration": {"level": LEVEL[finding.severity]},
        "properties": {
            "tags": ["security", "aws", *finding.references],
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "precision": "very-high",
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    message = finding.message
    if finding.status is Status.ERROR:
        message = f"not evaluated: {message}"
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "kind": "review" if finding.status is Status.ERROR else "fail",
        "level": "warning" if finding.status is Status.ERROR else LEVEL[finding.severity],
        "message": {"text": f"{finding.resource}: {message}"},
        "locations": [{
            "physicalLocation": {"artifactLocation": {
                "uri": f"aws/{finding.account_id}/{finding.region}/{finding.check_id}"}},
            "logicalLocations": [{"fullyQualifiedName": finding.resource,
                                  "kind": "resource"}],
        }],
        "partialFingerprints": {FINGERPRINT: f"{finding.account_id}:{finding.key}"},
        "properties": {
            "status": finding.status.value,
            "severity": finding.severity.label,
            "account": finding.account_id,
            "region": finding.region,
            "resource": finding.resource,
            "remediation": finding.remediation,
            "references": list(finding.references),
        },
    }
    if finding.waived_by is not None:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": finding.waived_by.text}]
    return result


def _utc(stamp: str) -> str:
    """SARIF's times are UTC with a Z."""
    return stamp.replace("+00:00", "Z")
