"""The JSON audit report, schema `irready.audit/1` (documented in README). Keys are
sorted and times are ISO-8601 UTC so that two renders of one run are byte-identical."""

from __future__ import annotations

import json
from typing import Any

from auditor.clock import iso
from auditor.diff import RunDiff
from auditor.models import AuditRun, Finding

SCHEMA = "irready.audit/1"


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "key": finding.key,
        "check_id": finding.check_id,
        "title": finding.title,
        "status": finding.status.value,
        "severity": finding.severity.label,
        "account_id": finding.account_id,
        "region": finding.region,
        "resource": finding.resource,
        "message": finding.message,
        "remediation": finding.remediation,
        "references": list(finding.references),
        "evidence": dict(finding.evidence),
        "waiver": finding.waived_by.text if finding.waived_by else None,
    }


def audit_dict(run: AuditRun, diff: RunDiff | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "irready", "version": run.version},
        "run_id": run.run_id,
        "account_id": run.account_id,
        "caller_arn": run.caller_arn,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "regions": list(run.regions),
        "checks": list(run.checks),
        "complete": run.complete,
        "score": run.score,
        "score_covers": {"evaluated": run.coverage.evaluated,
                         "selected": run.coverage.selected},
        "summary": run.counts(),
        "findings": [finding_dict(f) for f in sort_findings(run.findings)],
    }
    if diff is not None and diff.previous_run_id is not None:
        document["changes"] = {
            "previous_run_id": diff.previous_run_id,
            "previous_score": diff.previous_score,
            "score_change": diff.score_change,
            "score_compared_controls": diff.compared_controls,
            "new_failures": [f.key for f in diff.new_failures],
            "fixed": [f.key for f in diff.fixed],
        }
    return document


def sort_findings(findings: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    """Worst first, then by check and resource: stable for the same data."""
    order = {"FAIL": 0, "ERROR": 1, "WAIVED": 2, "PASS": 3, "NOT_APPLICABLE": 4}
    return sorted(findings, key=lambda f: (order[f.status.value], -f.severity, f.check_id,
                                           f.region, f.resource))


def render_json(run: AuditRun, diff: RunDiff | None = None) -> str:
    return json.dumps(audit_dict(run, diff), indent=2, sort_keys=True) + "\n"
