"""An organization trail seen from a member account, audited for real: moto Organizations
with a management and a member account, the organization trail created in the
management account, and the audit run from a role assumed in the member account."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from auditor.audit import perform_audit
from auditor.awsfacts.account import ORGANIZATION
from auditor.awsfacts.cloudtrail import TRAILS
from auditor.config import AuditSettings, Config
from auditor.facts import Facts
from auditor.models import AuditRun, Finding, Status
from auditor.registry import discover
from auditor.session import AwsContext

MANAGEMENT = "123456789012"
ORG_BUCKET = "org-trail-logs"
REGIONS = ("us-east-1", "eu-west-1")
CONFIG = replace(Config(), audit=AuditSettings(regions=REGIONS))


@pytest.fixture
def organization(aws: Any, org_trails_visible: None) -> dict[str, str]:
    """An Organization whose management account runs a logging organization trail."""
    org = aws.client("organizations").create_organization(FeatureSet="ALL")["Organization"]
    member = aws.client("organizations").create_account(
        AccountName="workloads", Email="workloads@example.com")["CreateAccountStatus"]
    aws.client("s3").create_bucket(Bucket=ORG_BUCKET)
    cloudtrail = aws.client("cloudtrail")
    arn = cloudtrail.create_trail(Name="org-trail", S3BucketName=ORG_BUCKET,
                                  IsMultiRegionTrail=True, IsOrganizationTrail=True,
                                  EnableLogFileValidation=True)["TrailARN"]
    cloudtrail.put_event_selectors(TrailName="org-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    cloudtrail.start_logging(Name="org-trail")
    return {"id": org["Id"], "member": member["AccountId"], "trail_arn": arn}


def member_session(aws: Any, account_id: str) -> Any:
    import boto3

    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="irready-audit")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"],
                         region_name="us-east-1")


def audit(session: Any, only: tuple[str, ...] = ("cloudtrail",)) -> AuditRun:
    ctx = AwsContext(session=session, max_attempts=2)
    return perform_audit(ctx, CONFIG, discover(plugins=False), only=only).run


def by_check(run: AuditRun) -> dict[str, Finding]:
    result: dict[str, Finding] = {}
    for finding in run.findings:
        assert finding.check_id not in result, f"one finding per check here: {finding}"
        result[finding.check_id] = finding
    return result


def test_organization_trail_seen_from_a_member_account(aws: Any, organization: dict[str, str],
                                                      deny: Any) -> None:
    session = member_session(aws, organization["member"])
    # in AWS the management account's bucket does not answer the member's reads
    for operation in ("GetBucketLifecycleConfiguration", "GetBucketLogging"):
        deny("s3", operation, session=session, message="Access Denied",
             when=lambda params: params.get("Bucket") == ORG_BUCKET)

    run = audit(session)
    findings = by_check(run)

    assert run.account_id == organization["member"]
    assert findings["cloudtrail.enabled"].status is Status.PASS
    assert findings["cloudtrail.enabled"].resource == organization["trail_arn"]
    assert findings["cloudtrail.multi_region"].status is Status.PASS
    assert findings["cloudtrail.org_trail"].status is Status.PASS
    assert findings["cloudtrail.org_trail"].message == (
        f"Organization trail org-trail is logging (organization {organization['id']}).")
    assert findings["cloudtrail.log_validation"].status is Status.PASS
    assert f"owned by account {MANAGEMENT}" in findings["cloudtrail.log_validation"].message

    retention = findings["cloudtrail.bucket_retention"]
    assert retention.status is Status.ERROR, "a bucket we cannot read is not a failing bucket"
    assert retention.message == (
        f"Cannot read bucket {ORG_BUCKET}: access denied: needs s3:GetLifecycleConfiguration; "
        f"it is the bucket of trail org-trail of account {MANAGEMENT}, read from account "
        f"{organization['member']}: audit account {MANAGEMENT}, or grant this account read "
        "access to the bucket's configuration.")
    assert findings["cloudtrail.bucket_access_logging"].status is Status.ERROR


def test_member_account_sees_the_trail_once_with_its_status(aws: Any,
                                                           organization: dict[str, str]) -> None:
    ctx = AwsContext(session=member_session(aws, organization["member"]), max_attempts=2)
    facts = Facts(ctx, CONFIG, account_id=organization["member"])
    (trail,) = facts.get(TRAILS)
    assert (trail.organization, trail.logging, trail.records_management) == (True, True, True)
    assert trail.account_id == MANAGEMENT
    assert facts.get(ORGANIZATION) is not None
    assert facts.get(ORGANIZATION).management_account_id == MANAGEMENT  # type: ignore[union-attr]


def test_management_account_passes_its_own_organization_trail(
        aws: Any, organization: dict[str, str]) -> None:
    findings = by_check(audit(aws, only=("cloudtrail.org_trail", "cloudtrail.bucket_retention")))
    assert findings["cloudtrail.org_trail"].status is Status.PASS
    assert findings["cloudtrail.bucket_retention"].status is Status.PASS


def test_member_whose_organization_trail_is_stopped_fails(aws: Any,
                                                         organization: dict[str, str]) -> None:
    aws.client("cloudtrail").stop_logging(Name="org-trail")
    findings = by_check(audit(member_session(aws, organization["member"]),
                              only=("cloudtrail.enabled", "cloudtrail.org_trail")))
    assert findings["cloudtrail.enabled"].status is Status.FAIL
    assert findings["cloudtrail.org_trail"].status is Status.FAIL
    assert "exists but is not logging" in findings["cloudtrail.org_trail"].message


def test_an_account_outside_any_organization(aws: Any) -> None:
    finding = by_check(audit(aws, only=("cloudtrail.org_trail",)))["cloudtrail.org_trail"]
    assert finding.status is Status.NOT_APPLICABLE


def test_organization_read_denied_is_error(aws: Any, deny: Any) -> None:
    deny("organizations", "DescribeOrganization", code="AccessDeniedException", status=400)
    finding = by_check(audit(aws, only=("cloudtrail.org_trail",)))["cloudtrail.org_trail"]
    assert (finding.status, finding.message) == (
        Status.ERROR, "access denied: needs organizations:DescribeOrganization")


def test_member_that_cannot_read_the_organization_trail_status_gets_error(
        aws: Any, organization: dict[str, str], deny: Any) -> None:
    session = member_session(aws, organization["member"])
    deny("cloudtrail", "GetTrailStatus", session=session, code="CloudTrailARNInvalidException",
         status=400, message="AccountID in ARN is wrong")
    findings = by_check(audit(session, only=("cloudtrail.enabled", "cloudtrail.org_trail",
                                             "cloudtrail.log_validation")))
    for check_id in ("cloudtrail.enabled", "cloudtrail.org_trail"):
        assert findings[check_id].status is Status.ERROR, check_id
        assert findings[check_id].message.endswith(
            "(CloudTrailARNInvalidException: AccountID in ARN is wrong); trail org-trail "
            f"belongs to account {MANAGEMENT}: audit that account to read it."), check_id
    assert findings["cloudtrail.log_validation"].status is Status.PASS, (
        "its validation setting is known from DescribeTrails")
