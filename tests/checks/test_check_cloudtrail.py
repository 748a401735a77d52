"""cloudtrail.enabled, multi_region, org_trail and log_validation: the logic on fact
values, and the trails fact read from a moto account (status, selectors, shadow trails,
a denied read)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from factbuilders import OTHER_ACCOUNT, evaluate, only, statuses, trail

from auditor.awsfacts.account import ORGANIZATION, Organization
from auditor.awsfacts.cloudtrail import TRAILS, Trail, management_events
from auditor.facts import FactError, Facts
from auditor.models import Status
from auditor.runner import run_check
from checks import cloudtrail

DENIED_STATUS = "access denied: needs cloudtrail:GetTrailStatus"
IN_ORG = Organization(id="o-abc123defg", management_account_id=OTHER_ACCOUNT)


# -- cloudtrail.enabled --------------------------------------------------------------

@pytest.mark.parametrize(
    ("trails", "expected", "words"),
    [
        pytest.param((trail(),), Status.PASS, "logs management events, read and write",
                     id="a logging trail records reads and writes"),
        pytest.param((), Status.FAIL, "No CloudTrail trail exists",
                     id="no trail at all"),
        pytest.param((trail(logging=False),), Status.FAIL, "exist but are not logging",
                     id="a stopped trail"),
        pytest.param((trail(read=False),), Status.FAIL, "main records write management events only",
                     id="a write-only trail misses the reconnaissance"),
        pytest.param((trail(read=False, write=False),), Status.FAIL,
                     "records no management events", id="a trail of data events only"),
        pytest.param((trail("reads", write=False), trail("writes", read=False)), Status.FAIL,
                     "No logging trail records both",
                     id="a read-only and a write-only trail are not one complete trail"),
        pytest.param((trail("old", logging=False), trail("new")), Status.PASS, "Trail new",
                     id="a stopped trail next to a complete one"),
        pytest.param((trail(logging=None, status_error=DENIED_STATUS),), Status.ERROR,
                     DENIED_STATUS, id="trail status read denied"),
        pytest.param((trail(read=None, write=None,
                            selectors_error="access denied: needs cloudtrail:GetEventSelectors"),),
                     Status.ERROR, "cloudtrail:GetEventSelectors",
                     id="event selectors read denied on a logging trail"),
        pytest.param((trail(logging=None, read=False, status_error=DENIED_STATUS),),
                     Status.FAIL, "records write management events only",
                     id="status unknown but its selectors can never be complete"),
        pytest.param((trail(logging=False), trail("org", logging=None, account=OTHER_ACCOUNT,
                                                  status_error=DENIED_STATUS)),
                     Status.ERROR, "Cannot tell whether trail org",
                     id="a stopped trail next to one whose status is unknown"),
    ],
)
def test_enabled(trails: tuple[Trail, ...], expected: Status, words: str) -> None:
    finding = only(evaluate(cloudtrail.enabled, {TRAILS: trails}))
    assert finding.status is expected
    assert words in finding.message


# -- cloudtrail.multi_region ----------------------------------------------------------

@pytest.mark.parametrize(
    ("trails", "expected", "words"),
    [
        pytest.param((trail(),), Status.PASS, "is multi-region", id="multi-region trail logging"),
        pytest.param((trail(multi_region=False, region="eu-west-1"),), Status.FAIL,
                     "cover only their home region (eu-west-1)",
                     id="trail logging but single-region"),
        pytest.param((trail(logging=False),), Status.FAIL, "No logging trail",
                     id="the multi-region trail is stopped"),
        pytest.param((trail("single", multi_region=False), trail("wide", logging=False)),
                     Status.FAIL, "single", id="single-region logging, multi-region stopped"),
        pytest.param((trail(multi_region=False), trail("org", logging=None,
                                                        status_error=DENIED_STATUS)),
                     Status.ERROR, DENIED_STATUS,
                     id="multi-region trail whose status cannot be read"),
        pytest.param((), Status.FAIL, "No logging trail", id="no trail at all"),
        pytest.param((trail("regional", multi_region=False),
                      trail("s3-data", read=False, write=False)),
                     Status.FAIL, "s3-data records no management events",
                     id="the multi-region trail records data events only"),
        pytest.param((trail("wide", write=False),), Status.FAIL,
                     "wide records read management events only",
                     id="the multi-region trail misses writes"),
        pytest.param((trail("wide", read=None, write=None,
                            selectors_error="access denied: needs cloudtrail:GetEventSelectors"),),
                     Status.ERROR, "cloudtrail:GetEventSelectors",
                     id="multi-region trail whose selectors cannot be read"),
        pytest.param((trail("wide", logging=None, read=False, write=False,
                            status_error=DENIED_STATUS),),
                     Status.FAIL, "wide records no management events",
                     id="status unknown but its selectors can never cover management events"),
    ],
)
def test_multi_region(trails: tuple[Trail, ...], expected: Status, words: str) -> None:
    finding = only(evaluate(cloudtrail.multi_region, {TRAILS: trails}))
    assert finding.status is expected
    assert words in finding.message


# -- cloudtrail.org_trail --------------------------------------------------------------

ORG_TRAIL = trail("org-trail", account=OTHER_ACCOUNT, organization=True)


@pytest.mark.parametrize(
    ("organization", "trails", "expected", "words"),
    [
        pytest.param(None, (trail(),), Status.NOT_APPLICABLE, "not in an AWS Organization",
                     id="an account outside any Organization"),
        pytest.param(IN_ORG, (ORG_TRAIL,), Status.PASS, "Organization trail org-trail is logging",
                     id="organization trail seen from a member account"),
        pytest.param(IN_ORG, (trail(),), Status.FAIL, "No organization trail is visible",
                     id="in an Organization with only an account trail"),
        pytest.param(IN_ORG, (trail("org-trail", organization=True, logging=False),),
                     Status.FAIL, "exists but is not logging",
                     id="a stopped organization trail"),
        pytest.param(IN_ORG, (trail("org-trail", account=OTHER_ACCOUNT, organization=True,
                                    logging=None, status_error=DENIED_STATUS),),
                     Status.ERROR, DENIED_STATUS,
                     id="organization trail whose status the member cannot read"),
    ],
)
def test_org_trail(organization: Organization | None, trails: tuple[Trail, ...],
                   expected: Status, words: str) -> None:
    finding = only(evaluate(cloudtrail.org_trail, {ORGANIZATION: organization, TRAILS: trails}))
    assert finding.status is expected
    assert words in finding.message


# -- cloudtrail.log_validation ---------------------------------------------------------

def test_log_validation_judges_each_trail_that_may_log() -> None:
    trails = (
        trail("validated"),
        trail("unvalidated", validation=False),
        trail("stopped", validation=False, logging=False),
        trail("org", account=OTHER_ACCOUNT, organization=True, validation=False,
              logging=None, status_error=DENIED_STATUS),
    )
    findings = evaluate(cloudtrail.log_validation, {TRAILS: trails})
    by_trail = {f.resource.rsplit("/", 1)[-1]: f for f in findings}
    assert {name: f.status for name, f in by_trail.items()} == {
        "validated": Status.PASS, "unvalidated": Status.FAIL, "org": Status.FAIL,
    }
    assert f"owned by account {OTHER_ACCOUNT}" in by_trail["org"].message


@pytest.mark.parametrize(
    "trails",
    [pytest.param((), id="no trail"), pytest.param((trail(logging=False),), id="stopped trail")],
)
def test_log_validation_without_a_logging_trail(trails: tuple[Trail, ...]) -> None:
    assert statuses(evaluate(cloudtrail.log_validation, {TRAILS: trails})) == [
        Status.NOT_APPLICABLE
    ]


# -- which selectors record management events -----------------------------------------

def advanced(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"AdvancedEventSelectors": [{"Name": "s", "FieldSelectors": list(fields)}]}


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        pytest.param({}, (False, False), id="no selectors at all"),
        pytest.param({"EventSelectors": [{"ReadWriteType": "All",
                                          "IncludeManagementEvents": True}]},
                     (True, True), id="basic selector, all management events"),
        pytest.param({"EventSelectors": [{}]}, (True, True),
                     id="basic selector with AWS defaults"),
        pytest.param({"EventSelectors": [{"ReadWriteType": "WriteOnly"}]}, (False, True),
                     id="basic write-only selector"),
        pytest.param({"EventSelectors": [{"ReadWriteType": "All",
                                          "IncludeManagementEvents": False}]},
                     (False, False), id="basic selector of data events only"),
        pytest.param(advanced(MANAGEMENT), (True, True),
                     id="advanced selector, all management events"),
        pytest.param(advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}),
                     (False, True), id="advanced selector, writes only"),
        pytest.param(advanced(MANAGEMENT, {"Field": "readOnly", "NotEquals": ["true"]}),
                     (False, True), id="advanced selector excluding reads with NotEquals"),
        pytest.param(advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}),
                     (True, False), id="advanced selector, reads only"),
        pytest.param(advanced(MANAGEMENT, {"Field": "eventSource",
                                           "NotEquals": ["kms.amazonaws.com"]}),
                     (True, True), id="advanced selector excluding KMS noise"),
        pytest.param(advanced({"Field": "eventCategory", "Equals": ["Data"]},
                              {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}),
                     (False, False), id="advanced selector of S3 data events"),
        pytest.param({"AdvancedEventSelectors": [
            {"FieldSelectors": [MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}]},
            {"FieldSelectors": [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}]},
        ]}, (True, True), id="two advanced selectors, one for reads, one for writes"),
    ],
)
def test_management_events(selectors: dict[str, Any], expected: tuple[bool, bool]) -> None:
    assert management_events(selectors) == expected


# -- the trails fact, read from moto ---------------------------------------------------

def make_trail(aws: Any, name: str, *, region: str = "us-east-1", multi_region: bool = True,
               start: bool = True, selectors: dict[str, Any] | None = None,
               validation: bool = False, bucket: str = "trail-logs-bucket") -> str:
    s3 = aws.client("s3", region_name="us-east-1")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    client = aws.client("cloudtrail", region_name=region)
    arn: str = client.create_trail(Name=name, S3BucketName=bucket,
                                   IsMultiRegionTrail=multi_region,
                                   EnableLogFileValidation=validation)["TrailARN"]
    client.put_event_selectors(TrailName=name, **(selectors or {
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}))
    if start:
        client.start_logging(Name=name)
    return arn


def test_trails_fact_reads_status_and_selectors(aws: Any, live_facts: Callable[..., Facts],
                                                config: Any) -> None:
    make_trail(aws, "everywhere", validation=True)
    make_trail(aws, "stopped-trail", region="eu-west-1", multi_region=False, start=False)
    make_trail(aws, "writes-only", selectors=advanced(
        MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}))

    facts = live_facts(config)  # us-east-1 and eu-west-1
    trails = {t.name: t for t in facts.get(TRAILS)}

    assert sorted(trails) == ["everywhere", "stopped-trail", "writes-only"], (
        "a multi-region trail is seen once, not once per region")
    assert trails["everywhere"].logging is True
    assert trails["everywhere"].records_management
    assert trails["everywhere"].log_validation
    assert trails["stopped-trail"].logging is False
    assert trails["stopped-trail"].home_region == "eu-west-1"
    assert not trails["stopped-trail"].multi_region
    assert (trails["writes-only"].management_read, trails["writes-only"].management_write) == (
        False, True)
    assert trails["everywhere"].log_location == "s3://trail-logs-bucket/AWSLogs/"
    assert only(run_check(cloudtrail.enabled, facts, facts.config)).status is Status.PASS


def test_stopped_trail_read_from_moto_fails(aws: Any, live_facts: Callable[..., Facts]) -> None:
    make_trail(aws, "main-trail")
    aws.client("cloudtrail").stop_logging(Name="main-trail")
    facts = live_facts()
    finding = only(run_check(cloudtrail.enabled, facts, facts.config))
    assert finding.status is Status.FAIL
    assert finding.message == "Trail(s) main-trail exist but are not logging."


def test_trail_status_read_denied_is_error(aws: Any, live_facts: Callable[..., Facts],
                                           deny: Any) -> None:
    make_trail(aws, "main-trail")
    deny("cloudtrail", "GetTrailStatus", code="AccessDeniedException", status=400)
    facts = live_facts()

    (seen,) = facts.get(TRAILS)
    assert seen.logging is None
    assert seen.status_error == "access denied: needs cloudtrail:GetTrailStatus"
    assert seen.records_management, "the other per-trail read still happened"

    for check in (cloudtrail.enabled, cloudtrail.multi_region):
        finding = only(run_check(check, facts, facts.config))
        assert finding.status is Status.ERROR, check.id
        assert "needs cloudtrail:GetTrailStatus" in finding.message


def test_describe_trails_denied_names_the_permission(aws: Any, live_facts: Callable[..., Facts],
                                                     deny: Any) -> None:
    deny("cloudtrail", "DescribeTrails")
    facts = live_facts()
    finding = only(run_check(cloudtrail.enabled, facts, facts.config))
    assert finding.status is Status.ERROR
    assert finding.resource == "account"
    assert finding.message.startswith("access denied: needs cloudtrail:DescribeTrails")


def test_describe_trails_denied_in_some_regions_names_them(
        aws: Any, live_facts: Callable[..., Facts]) -> None:
    """An SCP that denies a region (common in Organizations) denies DescribeTrails there
    while the audit's role holds the permission: name the region, not only the action."""
    from dataclasses import replace

    from botocore.awsrequest import AWSResponse

    from auditor.config import AuditSettings, Config

    def deny_eu_west_1(context: dict[str, Any], **_: Any) -> Any:
        if context.get("client_region") != "eu-west-1":
            return None
        return (AWSResponse("https://denied.invalid/", 403, {}, None),
                {"Error": {"Code": "AccessDenied",
                           "Message": "explicit deny in a service control policy"},
                 "ResponseMetadata": {"HTTPStatusCode": 403}})

    aws.events.register("before-call.cloudtrail.DescribeTrails", deny_eu_west_1)
    regions = replace(Config(), audit=AuditSettings(regions=("eu-west-1", "us-east-1")))
    facts = live_facts(regions)
    finding = only(run_check(cloudtrail.enabled, facts, facts.config))
    assert (finding.status, finding.message) == (
        Status.ERROR,
        "access denied: needs cloudtrail:DescribeTrails; denied in eu-west-1 only (allowed in "
        "us-east-1): if a service control policy denies that region, leave it out with "
        "--regions or audit.regions")


def test_no_trail_in_moto_fails_every_trail_check(aws: Any,
                                                  live_facts: Callable[..., Facts]) -> None:
    facts = live_facts()
    results = {c.id: only(run_check(c, facts, facts.config)).status
               for c in (cloudtrail.enabled, cloudtrail.multi_region, cloudtrail.log_validation)}
    assert results == {"cloudtrail.enabled": Status.FAIL,
                       "cloudtrail.multi_region": Status.FAIL,
                       "cloudtrail.log_validation": Status.NOT_APPLICABLE}


def test_an_unreadable_trail_fact_reaches_every_trail_check() -> None:
    error = FactError("cloudtrail.trails", "AccessDenied", "",
                      ("cloudtrail:DescribeTrails",))
    for check in (cloudtrail.enabled, cloudtrail.multi_region, cloudtrail.log_validation):
        finding = only(evaluate(check, {TRAILS: error}))
        assert (finding.status, finding.message) == (
            Status.ERROR, "access denied: needs cloudtrail:DescribeTrails"), check.id
