"""The audit as CSV: one row per finding, every finding, for spreadsheets and for the
large accounts whose PDF only summarises. Cells that a spreadsheet would run as a
formula (starting with = + - @) get a leading apostrophe: resource names and messages
come from AWS and are not ours to trust."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from auditor.clock import iso
from auditor.models import AuditRun, Finding
from reports.json_report import sort_findings

COLUMNS = ("run_id", "account_id", "audited_at", "check_id", "title", "status", "severity",
           "region", "resource", "message", "remediation", "references", "waiver",
           "evidence", "key")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def finding_row(run: AuditRun, finding: Finding) -> list[str]:
    return [
        "" if run.run_id is None else str(run.run_id),
        finding.account_id,
        iso(run.started_at),
        finding.check_id,
        cell(finding.title),
        finding.status.value,
        finding.severity.label,
        cell(finding.region),
        cell(finding.resource),
        cell(finding.message),
        cell(finding.remediation),
        "; ".join(finding.references),
        cell(finding.waived_by.text if finding.waived_by else ""),
        json.dumps(dict(finding.evidence), sort_keys=True) if finding.evidence else "",
        finding.key,
    ]


def write_csv(run: AuditRun, out: io.TextIOBase | io.StringIO,
              findings: Iterable[Finding] | None = None) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding in sort_findings(list(run.findings if findings is None else findings)):
        writer.writerow(finding_row(run, finding))


def render_csv(run: AuditRun) -> str:
    buffer = io.StringIO()
    write_csv(run, buffer)
    return buffer.getvalue()
