"""The audit as JUnit XML, so a CI system shows it like a test run: each check is a
test case (a FAIL is a failure, an ERROR an error, N/A and WAIVED are skipped), the
resources and the fix go in the failure's text. Built with ElementTree, which escapes
everything; characters XML cannot carry are dropped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from auditor.models import AuditRun, Status
from reports.summary import CheckGroup, group_by_check

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
LISTED_PER_CHECK = 200


def clean(text: str) -> str:
    return NOT_XML.sub("", text)


def _body(group: CheckGroup, status: Status) -> str:
    hits = [f for f in group.findings if f.status is status]
    lines = [f"{f.region} {f.resource}: {f.message}" for f in hits[:LISTED_PER_CHECK]]
    if len(hits) > LISTED_PER_CHECK:
        lines.append(f"... and {len(hits) - LISTED_PER_CHECK} more")
    if status is Status.FAIL:
        lines.append(f"Fix: {group.remediation}")
    return clean("\n".join(lines))


def _case(suite: ET.Element, group: CheckGroup, seconds: float) -> None:
    case = ET.SubElement(suite, "testcase", {
        "classname": f"irready.{group.check_id.split('.')[0]}",
        "name": clean(f"{group.check_id}: {group.title}"),
        "time": f"{seconds:.3f}",
    })
    hits = {status: sum(1 for f in group.findings if f.status is status) for status in Status}
    if group.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", {
            "type": group.severity.label,
            "message": clean(f"{hits[Status.FAIL]} resource(s) fail: {group.title}"),
        })
        failure.text = _body(group, Status.FAIL)
    elif group.status is Status.ERROR:
        error = ET.SubElement(case, "error", {
            "type": "ERROR",
            "message": clean(next(f.message for f in group.findings
                                  if f.status is Status.ERROR)),
        })
        error.text = _body(group, Status.ERROR)
    elif group.status is Status.WAIVED:
        reason = next((f.waived_by.text for f in group.findings if f.waived_by), "")
        ET.SubElement(case, "skipped", {"message": clean(f"waived: {reason}")})
    elif group.status is Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": clean(group.findings[0].message)})


def render_junit(run: AuditRun) -> str:
    groups = sorted(group_by_check(run.findings), key=lambda g: g.check_id)
    duration = max((run.finished_at - run.started_at).total_seconds(), 0.0)
    counts = {status: sum(1 for g in groups if g.status is status) for status in Status}
    totals = {
        "tests": str(len(groups)),
        "failures": str(counts[Status.FAIL]),
        "errors": str(counts[Status.ERROR]),
        "skipped": str(counts[Status.WAIVED] + counts[Status.NOT_APPLICABLE]),
        "time": f"{duration:.3f}",
    }
    root = ET.Element("testsuites", {"name": "irready", **totals})
    suite = ET.SubElement(root, "testsuite", {
        "name": f"irready audit of {run.account_id}",
        **totals,
        "timestamp": run.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in (("account_id", run.account_id), ("run_id", str(run.run_id or "")),
                        ("score", f"{run.score:g}"),
                        ("score_covers", f"{run.coverage.evaluated}/{run.coverage.selected}"),
                        ("irready_version", run.version),
                        ("caller_arn", run.caller_arn)):
        ET.SubElement(properties, "property", {"name": name, "value": clean(value)})
    for group in groups:
        # the run times the whole audit, not each check; 0 keeps CI totals honest
        _case(suite, group, 0.0)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
