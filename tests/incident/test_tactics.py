"""The tactics catalogue: every entry is sound, the issue's events carry their tactic,
the conditions decide as they say, a broken file is refused with a clear error, and
permission probing is found in bursts of denied calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from demo.cloudtrail_records import assumed_role, event, iam_user
from incident.investigate.model import Tactic
from incident.investigate.tactics import (
    CONDITIONS,
    SCHEMA,
    CatalogueError,
    load_catalogue,
    probing_bursts,
)

ACCOUNT = "123456789012"
WHEN = datetime(2026, 12, 1, 12, 11, 5, tzinfo=UTC)
LEAKED = "AKIAIOSFODNN7EXAMPLE"
ALICE = iam_user("alice", ACCOUNT)
CATALOGUE = load_catalogue()
SHIPPED = Path(__file__).resolve().parents[2] / "incident" / "investigate" / "tactics.json"


def tactics(name: str, source: str, request: dict[str, Any] | None = None,
            trail_buckets: tuple[str, ...] = (), **options: Any) -> tuple[Tactic, ...]:
    record = event(name, source, WHEN, principal=ALICE, key=LEAKED, request=request,
                   **options)
    return CATALOGUE.tactics_of(record, trail_buckets)


def test_every_entry_is_sound() -> None:
    seen: set[tuple[str, str, str]] = set()
    for entry in CATALOGUE.entries:
        assert isinstance(entry.tactic, Tactic)
        assert entry.tactic is not Tactic.PERMISSION_PROBING
        assert entry.reference.startswith("https://"), entry
        assert entry.condition in CONDITIONS, entry
        assert entry.event_source.endswith(".amazonaws.com"), entry
        key = (entry.event_source, entry.event_name, entry.condition)
        assert key not in seen, entry
        seen.add(key)


def test_the_file_is_sorted_one_entry_a_line() -> None:
    lines = [line for line in SHIPPED.read_text(encoding="utf-8").splitlines()
             if line.strip().startswith('{"')]
    rows = [json.loads(line.rstrip(",")) for line in lines]
    assert len(rows) == len(CATALOGUE.entries)
    keys = [(row["source"], row["event"], row["when"]) for row in rows]
    assert keys == sorted(keys)


def test_every_tactic_but_probing_has_entries() -> None:
    listed = {entry.tactic for entry in CATALOGUE.entries}
    assert listed == set(Tactic) - {Tactic.PERMISSION_PROBING}


def test_every_condition_is_used() -> None:
    assert {entry.condition for entry in CATALOGUE.entries} == set(CONDITIONS)


ISSUE_EVENTS = [
    ("GetCallerIdentity", "sts", Tactic.RECONNAISSANCE),
    ("GetAccountAuthorizationDetails", "iam", Tactic.RECONNAISSANCE),
    ("ListUsers", "iam", Tactic.RECONNAISSANCE),
    ("ListBuckets", "s3", Tactic.RECONNAISSANCE),
    ("CreateUser", "iam", Tactic.PERSISTENCE),
    ("CreateLoginProfile", "iam", Tactic.PERSISTENCE),
    ("UpdateLoginProfile", "iam", Tactic.PERSISTENCE),
    ("AttachUserPolicy", "iam", Tactic.PERSISTENCE),
    ("AttachGroupPolicy", "iam", Tactic.PERSISTENCE),
    ("AttachRolePolicy", "iam", Tactic.PERSISTENCE),
    ("PutUserPolicy", "iam", Tactic.PERSISTENCE),
    ("PutGroupPolicy", "iam", Tactic.PERSISTENCE),
    ("PutRolePolicy", "iam", Tactic.PERSISTENCE),
    ("AddUserToGroup", "iam", Tactic.PERSISTENCE),
    ("CreateRole", "iam", Tactic.PERSISTENCE),
    ("UpdateAssumeRolePolicy", "iam", Tactic.PERSISTENCE),
    ("CreateFunction20150331", "lambda", Tactic.PERSISTENCE),
    ("UpdateFunctionCode20150331v2", "lambda", Tactic.PERSISTENCE),
    ("AddPermission20150331v2", "lambda", Tactic.PERSISTENCE),
    ("PublishLayerVersion20181031", "lambda", Tactic.PERSISTENCE),
    ("CreatePolicyVersion", "iam", Tactic.PRIVILEGE_ESCALATION),
    ("SetDefaultPolicyVersion", "iam", Tactic.PRIVILEGE_ESCALATION),
    ("GetSessionToken", "sts", Tactic.TEMPORARY_CREDENTIALS),
    ("GetFederationToken", "sts", Tactic.TEMPORARY_CREDENTIALS),
    ("AssumeRole", "sts", Tactic.TEMPORARY_CREDENTIALS),
    ("AssumeRoleWithSAML", "sts", Tactic.TEMPORARY_CREDENTIALS),
    ("AssumeRoleWithWebIdentity", "sts", Tactic.TEMPORARY_CREDENTIALS),
    ("GetSecretValue", "secretsmanager", Tactic.CREDENTIAL_ACCESS),
    ("GetPasswordData", "ec2", Tactic.CREDENTIAL_ACCESS),
    ("StopLogging", "cloudtrail", Tactic.DEFENSE_EVASION),
    ("DeleteTrail", "cloudtrail", Tactic.DEFENSE_EVASION),
    ("UpdateTrail", "cloudtrail", Tactic.DEFENSE_EVASION),
    ("PutEventSelectors", "cloudtrail", Tactic.DEFENSE_EVASION),
    ("DeleteDetector", "guardduty", Tactic.DEFENSE_EVASION),
    ("DeleteFlowLogs", "ec2", Tactic.DEFENSE_EVASION),
    ("LeaveOrganization", "organizations", Tactic.DEFENSE_EVASION),
    ("DisableSecurityHub", "securityhub", Tactic.DEFENSE_EVASION),
    ("StopConfigurationRecorder", "config", Tactic.DEFENSE_EVASION),
    ("DeleteConfigurationRecorder", "config", Tactic.DEFENSE_EVASION),
    ("PutAlternateContact", "account", Tactic.ACCOUNT_MANIPULATION),
    ("DeleteAlternateContact", "account", Tactic.ACCOUNT_MANIPULATION),
    ("PutContactInformation", "account", Tactic.ACCOUNT_MANIPULATION),
    ("UpdateAccountPasswordPolicy", "iam", Tactic.ACCOUNT_MANIPULATION),
    ("DeleteAccountPasswordPolicy", "iam", Tactic.ACCOUNT_MANIPULATION),
    ("AuthorizeSecurityGroupIngress", "ec2", Tactic.EXPOSURE),
    ("CreateVpcPeeringConnection", "ec2", Tactic.EXPOSURE),
    ("AcceptVpcPeeringConnection", "ec2", Tactic.EXPOSURE),
    ("PutBucketPolicy", "s3", Tactic.EXPOSURE),
    ("PutBucketAcl", "s3", Tactic.EXPOSURE),
    ("DeletePublicAccessBlock", "s3", Tactic.EXPOSURE),
    ("ModifySnapshotAttribute", "ec2", Tactic.EXPOSURE),
    ("ModifyImageAttribute", "ec2", Tactic.EXPOSURE),
    ("ModifyDBSnapshotAttribute", "rds", Tactic.EXPOSURE),
    ("DeleteBucket", "s3", Tactic.IMPACT),
    ("TerminateInstances", "ec2", Tactic.IMPACT),
    ("DeleteDBInstance", "rds", Tactic.IMPACT),
]


@pytest.mark.parametrize(("name", "source", "tactic"), ISSUE_EVENTS,
                         ids=[name for name, _, _ in ISSUE_EVENTS])
def test_the_issue_s_events_carry_their_tactic(name: str, source: str,
                                               tactic: Tactic) -> None:
    assert tactic in tactics(name, source)


def test_an_event_of_another_service_with_a_listed_name_carries_nothing() -> None:
    assert tactics("DeleteTrail", "s3") == ()
    assert tactics("DescribeInstances", "ec2") == ()


def test_a_failed_call_still_carries_its_tactic() -> None:
    assert tactics("CreateUser", "iam", {"userName": "x"},
                   error=("AccessDenied", "no")) == (Tactic.PERSISTENCE,)


def test_tactics_are_sorted_and_unique_and_the_references_follow() -> None:
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    to_role = event("AttachRolePolicy", "iam", WHEN, principal=ALICE, key=LEAKED,
                    request={"roleName": "deploy", "policyArn": admin})
    assert CATALOGUE.tactics_of(to_role) == (Tactic.PERSISTENCE,
                                             Tactic.PRIVILEGE_ESCALATION)
    references = CATALOGUE.reference(to_role)
    assert len(references) == 2
    assert references == tuple(sorted(references))
    # Both of AttachUserPolicy's entries cite the same page: it is named once.
    to_user = event("AttachUserPolicy", "iam", WHEN, principal=ALICE, key=LEAKED,
                    request={"userName": "alice", "policyArn": admin})
    assert len(CATALOGUE.tactics_of(to_user)) == 2
    assert len(CATALOGUE.reference(to_user)) == 1


def test_a_record_without_a_tactic_has_no_reference() -> None:
    record = event("DescribeInstances", "ec2", WHEN, principal=ALICE, key=LEAKED)
    assert CATALOGUE.reference(record) == ()


@pytest.mark.parametrize(("request_parameters", "expected"), [
    pytest.param({"userName": "backdoor"}, (Tactic.PERSISTENCE,), id="for another user"),
    pytest.param({"userName": "alice"}, (), id="for the caller by name"),
    pytest.param({}, (), id="for the caller, no userName"),
    pytest.param(None, (), id="null requestParameters"),
])
def test_create_access_key_is_persistence_for_another_user_only(
        request_parameters: dict[str, Any] | None, expected: tuple[Tactic, ...]) -> None:
    assert tactics("CreateAccessKey", "iam", request_parameters) == expected


def test_create_access_key_by_a_role_session_for_a_user_is_persistence() -> None:
    session = assumed_role("deploy", "attacker", ACCOUNT, WHEN)
    record = event("CreateAccessKey", "iam", WHEN, principal=session,
                   key="ASIAEXAMPLESESSION01", request={"userName": "alice"})
    assert CATALOGUE.tactics_of(record) == (Tactic.PERSISTENCE,)


@pytest.mark.parametrize("name", ["GetParameter", "GetParameters", "GetParametersByPath"])
@pytest.mark.parametrize(("decryption", "expected"), [
    (True, (Tactic.CREDENTIAL_ACCESS,)), ("true", (Tactic.CREDENTIAL_ACCESS,)),
    (False, ()), (None, ())])
def test_ssm_parameters_are_credential_access_with_decryption_only(
        name: str, decryption: Any, expected: tuple[Tactic, ...]) -> None:
    request_parameters = {"name": "/prod/db"}
    if decryption is not None:
        request_parameters["withDecryption"] = decryption
    assert tactics(name, "ssm", request_parameters) == expected


@pytest.mark.parametrize(("enable", "expected"), [
    (False, (Tactic.DEFENSE_EVASION,)), ("false", (Tactic.DEFENSE_EVASION,)),
    (True, ()), (None, ())])
def test_update_detector_is_evasion_when_it_disables(enable: Any,
                                                     expected: tuple[Tactic, ...]) -> None:
    request_parameters: dict[str, Any] = {"detectorId": "d-1"}
    if enable is not None:
        request_parameters["enable"] = enable
    assert tactics("UpdateDetector", "guardduty", request_parameters) == expected


@pytest.mark.parametrize(("name", "bucket", "expected"), [
    ("PutBucketLifecycle", "trail-logs", (Tactic.DEFENSE_EVASION,)),
    ("PutBucketLifecycle", "app-data", ()),
    ("DeleteBucket", "trail-logs", (Tactic.DEFENSE_EVASION, Tactic.IMPACT)),
    ("DeleteBucket", "app-data", (Tactic.IMPACT,)),
    ("DeleteBucketPolicy", "trail-logs", (Tactic.DEFENSE_EVASION,)),
])
def test_the_trail_s_bucket_is_evasion(name: str, bucket: str,
                                       expected: tuple[Tactic, ...]) -> None:
    assert tactics(name, "s3", {"bucketName": bucket},
                   trail_buckets=("trail-logs",)) == expected


def test_lifecycle_without_trail_buckets_is_nothing() -> None:
    assert tactics("PutBucketLifecycle", "s3", {"bucketName": "trail-logs"}) == ()


@pytest.mark.parametrize(("policy", "expected"), [
    ("arn:aws:iam::aws:policy/AdministratorAccess",
     (Tactic.PERSISTENCE, Tactic.PRIVILEGE_ESCALATION)),
    ("arn:aws:iam::aws:policy/IAMFullAccess",
     (Tactic.PERSISTENCE, Tactic.PRIVILEGE_ESCALATION)),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", (Tactic.PERSISTENCE,)),
    (f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess", (Tactic.PERSISTENCE,)),
])
def test_attaching_an_admin_policy_is_escalation(policy: str,
                                                 expected: tuple[Tactic, ...]) -> None:
    assert tactics("AttachRolePolicy", "iam",
                   {"roleName": "r", "policyArn": policy}) == expected


@pytest.mark.parametrize(("request_parameters", "expected"), [
    pytest.param({"instanceType": "t3.micro",
                  "instancesSet": {"items": [{"imageId": "ami-1", "maxCount": 1}]}},
                 (), id="one small instance"),
    pytest.param({"instanceType": "t3.micro", "iamInstanceProfile": {"name": "admin"},
                  "instancesSet": {"items": [{"imageId": "ami-1", "maxCount": 1}]}},
                 (Tactic.PRIVILEGE_ESCALATION,), id="with an instance profile"),
    pytest.param({"instanceType": "c5.large",
                  "instancesSet": {"items": [{"imageId": "ami-1", "maxCount": 20}]}},
                 (Tactic.IMPACT,), id="twenty instances"),
    pytest.param({"instanceType": "p3.16xlarge",
                  "instancesSet": {"items": [{"imageId": "ami-1", "maxCount": 1}]}},
                 (Tactic.IMPACT,), id="a GPU instance"),
    pytest.param({"instanceType": "gp.odd", "instancesSet": "odd"}, (), id="odd shapes"),
])
def test_run_instances(request_parameters: dict[str, Any],
                       expected: tuple[Tactic, ...]) -> None:
    assert tactics("RunInstances", "ec2", request_parameters) == expected


# A broken catalogue is refused with the file and the entry named.
GOOD = {"source": "iam.amazonaws.com", "event": "CreateUser", "when": "always",
        "tactic": "persistence", "reference": "https://example.org/create-user"}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "tactics.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document),
                    encoding="utf-8")
    return path


def test_a_custom_catalogue_loads_and_when_defaults_to_always(tmp_path: Path) -> None:
    entry = {key: value for key, value in GOOD.items() if key != "when"}
    catalogue = load_catalogue(write(tmp_path, {"schema": SCHEMA, "entries": [entry]}))
    assert [item.condition for item in catalogue.entries] == ["always"]
    assert load_catalogue(tmp_path / "tactics.json") is catalogue  # read once


@pytest.mark.parametrize(("change", "message"), [
    pytest.param({"when": "on_tuesdays"}, "unknown condition 'on_tuesdays'",
                 id="an unknown condition"),
    pytest.param({"tactic": "mischief"}, "unknown tactic 'mischief'", id="an unknown tactic"),
    pytest.param({"tactic": "permission_probing"}, "computed", id="probing listed"),
    pytest.param({"reference": "http://example.org"}, "https", id="a plain http reference"),
    pytest.param({"reference": ""}, "'reference' must be", id="no reference"),
    pytest.param({"source": "iam"}, "not an eventSource", id="a short source"),
    pytest.param({"event": "create user"}, "not an event name", id="a bad event name"),
    pytest.param({"extra": 1}, "unknown field(s) extra", id="an unknown field"),
    pytest.param({"event": None}, "'event' must be", id="a null event"),
])
def test_a_bad_entry_is_refused(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = write(tmp_path, {"schema": SCHEMA, "entries": [GOOD, {**GOOD, **change}]})
    with pytest.raises(CatalogueError, match=r"tactics\.json: entry 2") as raised:
        load_catalogue(path)
    assert message in str(raised.value)


@pytest.mark.parametrize(("document", "message"), [
    pytest.param("{not json", "not valid JSON", id="broken JSON"),
    pytest.param({"entries": [GOOD]}, "not a tactics catalogue", id="no schema"),
    pytest.param([GOOD], "not a tactics catalogue", id="a list"),
    pytest.param({"schema": SCHEMA, "entries": []}, "non-empty list", id="no entries"),
    pytest.param({"schema": SCHEMA, "entries": [GOOD, "x"]}, "entry 2: not an object",
                 id="a string entry"),
    pytest.param({"schema": SCHEMA, "entries": [GOOD, GOOD]}, "listed twice",
                 id="a duplicate"),
])
def test_a_broken_file_is_refused(tmp_path: Path, document: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=r"tactics\.json") as raised:
        load_catalogue(write(tmp_path, document))
    assert message in str(raised.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path / "tactics.json")


# Permission probing: five or more denied calls by one key within five minutes.
def denied(seconds: float, key: str = LEAKED, code: str = "AccessDenied",
           event_id: str = "") -> dict[str, Any]:
    return event("ListUsers", "iam", WHEN + timedelta(seconds=seconds), principal=ALICE,
                 key=key, error=(code, "not authorized"), event_id=event_id)


def ids(records: list[dict[str, Any]]) -> set[str]:
    return {record["eventID"] for record in records}


def test_four_denied_calls_are_no_burst() -> None:
    assert probing_bursts([denied(second * 10) for second in range(4)]) == set()


def test_five_denied_calls_within_five_minutes_are_a_burst() -> None:
    records = [denied(second * 60) for second in range(5)]  # 0..4 minutes
    assert probing_bursts(records) == ids(records)


def test_five_denied_calls_spread_over_six_minutes_are_none() -> None:
    assert probing_bursts([denied(second * 90) for second in range(5)]) == set()


def test_a_burst_is_counted_per_key() -> None:
    three = [denied(second, key="AKIAEXAMPLEKEYONE001") for second in range(3)]
    two = [denied(second, key="AKIAEXAMPLEKEYTWO001") for second in range(2)]
    assert probing_bursts(three + two) == set()
    five = [denied(second, key="AKIAEXAMPLEKEYTWO001") for second in range(10, 15)]
    assert probing_bursts(three + five) == ids(five)


def test_calls_signed_without_a_key_are_nobody_s_burst() -> None:
    records = [denied(second) for second in range(5)]
    for record in records:
        del record["userIdentity"]["accessKeyId"]
    assert probing_bursts(records) == set()


def test_successes_and_other_errors_do_not_count_but_every_denial_code_does() -> None:
    codes = ["AccessDenied", "Client.UnauthorizedOperation", "UnauthorizedOperation",
             "AccessDeniedException", "KMS.AccessDeniedException"]
    records = [denied(index, code=code) for index, code in enumerate(codes)]
    assert probing_bursts(records) == ids(records)
    throttled = [denied(index, code="ThrottlingException") for index in range(5)]
    succeeded = [event("ListUsers", "iam", WHEN, principal=ALICE, key=LEAKED)
                 for _ in range(5)]
    assert probing_bursts(throttled + succeeded + records[:4]) == set()


def test_a_long_burst_marks_every_call_and_the_threshold_is_an_argument() -> None:
    burst = [denied(second * 30) for second in range(12)]  # one every 30 s
    stray = denied(3600)
    assert probing_bursts([stray, *reversed(burst)]) == ids(burst)
    assert probing_bursts(burst[:3], threshold=3, window=timedelta(minutes=1)) == ids(
        burst[:3])
