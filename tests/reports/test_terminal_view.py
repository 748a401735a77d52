"""The terminal view of an audit, read as plain text the way cron mail shows it: grouped
findings still say which resource each line is about."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from auditor.models import AuditRun, Finding, Severity, Status
from reports.terminal import print_audit

ACCOUNT = "123456789012"


def finding(resource: str, message: str, check_id: str = "guardduty.enabled") -> Finding:
    return Finding(check_id=check_id, title="GuardDuty is enabled in every audited region",
                   status=Status.FAIL, severity=Severity.MEDIUM, account_id=ACCOUNT,
                   region=resource.rsplit("/", 1)[-1], resource=resource, message=message,
                   remediation="aws guardduty create-detector --enable --region REGION")


def render(*findings: Finding) -> str:
    moment = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    run = AuditRun(account_id=ACCOUNT, started_at=moment, finished_at=moment,
                   findings=findings)
    buffer = io.StringIO()
    print_audit(Console(file=buffer, width=200, color_system=None), run)
    return buffer.getvalue()


def test_grouped_findings_name_their_resource() -> None:
    text = render(finding("guardduty/eu-west-1", "No detector here."),
                  finding("guardduty/us-east-1", "No detector here."))
    assert "guardduty.enabled: GuardDuty is enabled in every audited region (2 resources)" in text
    assert "guardduty/eu-west-1: No detector here." in text
    assert "guardduty/us-east-1: No detector here." in text


def test_a_message_that_names_its_resource_is_not_prefixed() -> None:
    text = render(
        finding(f"arn:aws:iam::{ACCOUNT}:user/admin-user", "admin-user has no MFA.",
                check_id="iam.console_mfa"),
        finding(f"arn:aws:iam::{ACCOUNT}:user/ops", "ops has no MFA.", check_id="iam.console_mfa"),
    )
    assert "       admin-user has no MFA." in text
    assert "       ops has no MFA." in text
    assert "user/ops:" not in text
