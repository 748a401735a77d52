"""The audit in the AWS Security Finding Format: `{"Findings": [...]}`, the findings
`irready audit --security-hub` imports (auditor/asff.py builds them), for a team that
imports them its own way or reads them in another tool. Keys are sorted so that two
renders of one run are byte-identical."""

from __future__ import annotations

import json

from auditor.asff import asff_findings
from auditor.diff import RunDiff
from auditor.models import AuditRun


def render_asff(run: AuditRun, diff: RunDiff | None, home: str) -> str:
    document = {"Findings": asff_findings(run, diff, home)}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
