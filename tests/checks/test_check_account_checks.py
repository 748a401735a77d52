"""account.alternate_contacts, guardduty.enabled and drill.recent: logic on fact values,
contacts and detectors read from moto, drills read from a real history store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest
from factbuilders import ACCOUNT, OTHER_ACCOUNT, days_ago, evaluate, only, statuses

from auditor.awsfacts.account import ALTERNATE_CONTACTS, CONTACT_TYPES, Contact
from auditor.awsfacts.guardduty import DETECTORS, RegionDetectors
from auditor.config import AuditSettings, Config
from auditor.facts import Facts
from auditor.models import Severity, Status
from auditor.runner import run_check
from auditor.store import DrillRecord, HistoryStore
from checks import contacts, drills, guardduty

# -- account.alternate_contacts -------------------------------------------------------

SEVERITY = {"SECURITY": Severity.HIGH, "OPERATIONS": Severity.MEDIUM,
            "BILLING": Severity.MEDIUM}


def contact(kind: str, email: str = "") -> Contact:
    return Contact(kind, f"{kind.title()} Team", email or f"{kind.lower()}@example.com",
                   "+1-555-0100")


ALL_SET = {kind: contact(kind) for kind in CONTACT_TYPES}


def contact_findings(values: Mapping[str, Contact | None]) -> dict[str, Any]:
    findings = evaluate(contacts.alternate_contacts, {ALTERNATE_CONTACTS: values})
    return {f.resource.removeprefix("alternate-contact/"): f for f in findings}


def test_all_three_contacts_set() -> None:
    findings = contact_findings(ALL_SET)
    assert {kind: (f.status, f.severity) for kind, f in findings.items()} == {
        kind: (Status.PASS, SEVERITY[kind]) for kind in CONTACT_TYPES}
    assert findings["SECURITY"].message == (
        "Security contact: Security Team <security@example.com>.")


@pytest.mark.parametrize("kind", CONTACT_TYPES)
def test_absent_contact_fails_at_its_own_severity(kind: str) -> None:
    findings = contact_findings({**ALL_SET, kind: None})
    assert findings[kind].status is Status.FAIL
    assert findings[kind].severity is SEVERITY[kind]
    assert findings[kind].message == f"No {kind.lower()} contact is set."
    assert [k for k, f in findings.items() if f.status is Status.PASS] == [
        k for k in CONTACT_TYPES if k != kind]


def test_only_a_billing_contact_as_in_the_story() -> None:
    findings = contact_findings({"SECURITY": None, "OPERATIONS": None,
                                 "BILLING": contact("BILLING")})
    assert {k: (f.status, f.severity) for k, f in findings.items()} == {
        "SECURITY": (Status.FAIL, Severity.HIGH),
        "OPERATIONS": (Status.FAIL, Severity.MEDIUM),
        "BILLING": (Status.PASS, Severity.MEDIUM),
    }


def test_a_security_contact_without_email_reaches_no_one() -> None:
    findings = contact_findings({**ALL_SET, "SECURITY": contact("SECURITY", email=" ")})
    assert (findings["SECURITY"].status, findings["SECURITY"].severity) == (
        Status.FAIL, Severity.HIGH)
    assert "has no email address" in findings["SECURITY"].message


def test_contacts_read_from_moto(aws: Any, live_facts: Callable[..., Facts]) -> None:
    account = aws.client("account")
    for kind in ("SECURITY", "BILLING"):
        account.put_alternate_contact(AlternateContactType=kind, Name=f"{kind} desk",
                                      EmailAddress=f"{kind.lower()}@example.com",
                                      PhoneNumber="+1-555-0100", Title="Desk")
    facts = live_facts()
    read = facts.get(ALTERNATE_CONTACTS)
    assert read["OPERATIONS"] is None
    assert read["SECURITY"] == Contact("SECURITY", "SECURITY desk", "security@example.com",
                                       "+1-555-0100")
    findings = run_check(contacts.alternate_contacts, facts, facts.config)
    assert statuses(findings) == [Status.PASS, Status.FAIL, Status.PASS]


def test_contacts_read_denied_names_the_permission(aws: Any, live_facts: Callable[..., Facts],
                                                   deny: Any) -> None:
    deny("account", "GetAlternateContact", code="403", status=403)
    finding = only(run_check(contacts.alternate_contacts, live_facts(), Config()))
    assert (finding.status, finding.message) == (
        Status.ERROR, "access denied: needs account:GetAlternateContact")


# -- guardduty.enabled ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("region", "expected", "words"),
    [
        pytest.param(RegionDetectors("eu-west-1", ("d1",), ()), Status.PASS,
                     "Detector d1 is enabled in eu-west-1.", id="an enabled detector"),
        pytest.param(RegionDetectors("eu-west-1", (), ("d1",)), Status.FAIL,
                     "Detector d1 exists in eu-west-1 but is disabled.",
                     id="a disabled GuardDuty detector"),
        pytest.param(RegionDetectors("eu-west-1", (), ()), Status.FAIL,
                     "No GuardDuty detector in eu-west-1.", id="no detector"),
        pytest.param(RegionDetectors("eu-west-1", ("d2",), ("d1",)), Status.PASS,
                     "Detector d2 is enabled in eu-west-1.",
                     id="an old disabled detector beside an enabled one"),
        pytest.param(RegionDetectors("eu-west-1", (), (), "access denied: needs "
                                     "guardduty:ListDetectors, guardduty:GetDetector"),
                     Status.ERROR, "needs guardduty:ListDetectors",
                     id="a region that cannot be read"),
    ],
)
def test_guardduty_per_region(region: RegionDetectors, expected: Status, words: str) -> None:
    findings = evaluate(guardduty.enabled, {DETECTORS: (
        RegionDetectors("us-east-1", ("d0",), ()), region)})
    assert [(f.region, f.status) for f in findings] == [
        ("us-east-1", Status.PASS), ("eu-west-1", expected)]
    assert words in findings[1].message
    assert findings[1].resource == "guardduty/eu-west-1"


def test_guardduty_read_from_moto(aws: Any, live_facts: Callable[..., Facts],
                                  config: Config) -> None:
    enabled = aws.client("guardduty", region_name="us-east-1").create_detector(Enable=True)
    disabled = aws.client("guardduty", region_name="eu-west-1").create_detector(Enable=False)
    facts = live_facts(config)  # us-east-1 and eu-west-1
    assert facts.get(DETECTORS) == (
        RegionDetectors("us-east-1", (enabled["DetectorId"],), ()),
        RegionDetectors("eu-west-1", (), (disabled["DetectorId"],)),
    )
    findings = run_check(guardduty.enabled, facts, config)
    assert [(f.region, f.status) for f in findings] == [
        ("us-east-1", Status.PASS), ("eu-west-1", Status.FAIL)]


def test_guardduty_denied_in_one_region_only_points_at_an_scp(
        aws: Any, live_facts: Callable[..., Facts]) -> None:
    from botocore.awsrequest import AWSResponse

    def deny_eu_west_1(context: dict[str, Any], **_: Any) -> Any:
        if context.get("client_region") != "eu-west-1":
            return None
        return (AWSResponse("https://denied.invalid/", 403, {}, None),
                {"Error": {"Code": "AccessDeniedException", "Message": "explicit deny"},
                 "ResponseMetadata": {"HTTPStatusCode": 403}})

    aws.events.register("before-call.guardduty.ListDetectors", deny_eu_west_1)
    config = replace(Config(), audit=AuditSettings(regions=("eu-west-1", "us-east-1")))
    findings = run_check(guardduty.enabled, live_facts(config), config)
    assert [(f.region, f.status) for f in findings] == [("eu-west-1", Status.ERROR),
                                                        ("us-east-1", Status.FAIL)]
    assert findings[0].message == (
        "access denied: needs guardduty:ListDetectors, guardduty:GetDetector; allowed in "
        "other regions: if a service control policy denies this one, leave it out with "
        "--regions or audit.regions")


def test_guardduty_denied_is_error_per_region(aws: Any, live_facts: Callable[..., Facts],
                                              deny: Any) -> None:
    aws.client("guardduty").create_detector(Enable=True)
    deny("guardduty", "GetDetector")
    finding = only(run_check(guardduty.enabled, live_facts(), Config()))
    assert finding.status is Status.ERROR
    assert finding.message == (
        "access denied: needs guardduty:ListDetectors, guardduty:GetDetector")


# -- drill.recent ---------------------------------------------------------------------

def drill(drill_id: str, *, age_days: float = 10, minutes: float | None = 6,
          status: str = "SUCCEEDED", account: str = ACCOUNT) -> DrillRecord:
    started = days_ago(age_days)
    seconds = minutes * 60 if minutes is not None else None
    return DrillRecord(
        drill_id=drill_id, account_id=account, user="drill-user",
        target="secretsmanager:demo/drill-app/aws-credentials", status=status,
        started_at=started, finished_at=started if seconds is None else None,
        rotation_seconds=seconds, target_seconds=15 * 60,
    )


def drill_finding(store: HistoryStore, *records: DrillRecord,
                  config: Config | None = None) -> Any:
    for record in records:
        store.save_drill(record)
    config = config or Config()
    facts = Facts(None, config, history=store, account_id=ACCOUNT)
    return only(run_check(drills.recent, facts, config))


@pytest.mark.parametrize(
    ("records", "expected", "words"),
    [
        pytest.param((), Status.FAIL, "No successful rotation drill is recorded",
                     id="no drill"),
        pytest.param((drill("d-1", status="FAILED"),), Status.FAIL,
                     "No successful rotation drill", id="only a failed drill"),
        pytest.param((drill("d-1", age_days=120),), Status.FAIL,
                     "The last successful drill was 120 days ago (every 100 days",
                     id="an old drill"),
        pytest.param((drill("d-1", minutes=40),), Status.FAIL,
                     "rotated in 40 min; the target is 15 min", id="a slow drill"),
        pytest.param((drill("d-1", age_days=10, minutes=6),), Status.PASS,
                     "Drill d-1 (10 days ago) rotated drill-user's key in 6 min (target 15 min)",
                     id="a good drill"),
        pytest.param((drill("d-1", age_days=30, minutes=5), drill("d-2", age_days=2, minutes=35)),
                     Status.FAIL, "rotated in 35 min",
                     id="the newest drill was slow although an older one was fast"),
        pytest.param((drill("d-1", age_days=5), drill("d-2", age_days=1, status="FAILED")),
                     Status.PASS, "Drill d-1",
                     id="a failed drill after a good one"),
        pytest.param((drill("d-1", account=OTHER_ACCOUNT),), Status.FAIL,
                     "No successful rotation drill", id="a drill of another account"),
        pytest.param((drill("d-1", minutes=None),), Status.FAIL, "recorded no rotation time",
                     id="a drill that recorded no rotation time"),
    ],
)
def test_drill_recent(store: HistoryStore, records: tuple[DrillRecord, ...], expected: Status,
                      words: str) -> None:
    finding = drill_finding(store, *records)
    assert finding.status is expected
    assert words in finding.message


def test_drill_thresholds_come_from_config(store: HistoryStore) -> None:
    config = replace(Config(), audit=AuditSettings(drill_interval_days=7,
                                                   rotation_target_minutes=60))
    assert drill_finding(store, drill("d-1", age_days=10, minutes=40),
                         config=config).status is Status.FAIL
    store.save_drill(drill("d-2", age_days=3, minutes=40))
    assert drill_finding(store, config=config).status is Status.PASS


def test_drill_without_history_store_is_error() -> None:
    facts = Facts(None, Config(), account_id=ACCOUNT)
    finding = only(run_check(drills.recent, facts, facts.config))
    assert finding.status is Status.ERROR
    assert "no history store is open" in finding.message


# -- the regions an audit covers ------------------------------------------------------

def test_regions_come_from_the_account_unless_configured(aws: Any,
                                                         live_facts: Callable[..., Facts]) -> None:
    from auditor.awsfacts.account import REGIONS

    enabled = live_facts(Config()).get(REGIONS)
    assert {"us-east-1", "eu-west-1"} <= set(enabled)
    assert list(enabled) == sorted(enabled)
    narrowed = replace(Config(), audit=AuditSettings(regions=("eu-west-1",)))
    assert live_facts(narrowed).get(REGIONS) == ("eu-west-1",)


def test_a_configured_region_not_enabled_for_the_account(aws: Any,
                                                         live_facts: Callable[..., Facts]) -> None:
    """A region not opted in answers every call with an invalid-token error (and a typo
    such as us-east-7 has no endpoint at all): say so once, naming the region."""
    from auditor.awsfacts.account import REGIONS

    def not_opted_in(parsed: dict[str, Any], **_: Any) -> None:
        # real AWS leaves regions not opted in out of DescribeRegions; moto lists them
        parsed["Regions"] = [r for r in parsed["Regions"] if r["RegionName"] != "ap-east-1"]

    aws.events.register("after-call.ec2.DescribeRegions", not_opted_in)
    config = replace(Config(), audit=AuditSettings(regions=("eu-west-1", "ap-east-1")))
    facts = live_facts(config)
    error = facts.error_of(REGIONS)
    assert error is not None
    assert error.describe() == (
        "could not read ec2.regions (RegionNotEnabled: ap-east-1 is not enabled for this "
        "account: opt in to it, or remove it from --regions / audit.regions)")
    finding = only(run_check(guardduty.enabled, facts, config))
    assert (finding.status, finding.message) == (Status.ERROR, error.describe())


def test_configured_regions_stand_when_describe_regions_is_denied(
        aws: Any, live_facts: Callable[..., Facts], deny: Any) -> None:
    from auditor.awsfacts.account import REGIONS

    deny("ec2", "DescribeRegions")
    narrowed = replace(Config(), audit=AuditSettings(regions=("eu-west-1",)))
    assert live_facts(narrowed).get(REGIONS) == ("eu-west-1",)
    assert live_facts(Config()).error_of(REGIONS) is not None


def test_a_region_listed_twice_is_audited_once(live_facts: Callable[..., Facts]) -> None:
    """Twice listed, GuardDuty made two findings with one key for the same region."""
    from auditor.awsfacts.account import REGIONS

    twice = replace(Config(), audit=AuditSettings(regions=("eu-west-1", "us-east-1",
                                                           "eu-west-1")))
    facts = live_facts(twice)
    assert facts.get(REGIONS) == ("eu-west-1", "us-east-1")
    findings = run_check(guardduty.enabled, facts, twice)
    assert [f.region for f in findings] == ["eu-west-1", "us-east-1"]
