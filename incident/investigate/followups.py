"""What the attacker left behind, each with the command that undoes or contains it:
the users, keys, login profiles, roles, policies, bucket settings, shared snapshots,
contacts, stopped trails and detectors their successful calls created or changed, and
every session they minted, which deactivating the leaked key does not end.

A table maps each event name to the function that writes its follow-up, so a reader
sees at a glance which changes are covered; every value that reaches a command is
quoted with shlex, since it comes from the attacker's own request."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident.investigate.minted import Minted
from incident.investigate.model import CredentialKind, FollowUp
from incident.investigate.record_fields import (
    caller_user_name,
    event_name,
    event_time,
    iso,
    mapping,
    request,
    response,
    succeeded,
    text,
)

REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"  # the name the IAM console uses


class FollowUpKind(StrEnum):
    """What a follow-up is about: the `kind` of model.FollowUp, one per thing to undo."""

    USER = "user"
    ACCESS_KEY = "access_key"
    LOGIN_PROFILE = "login_profile"
    ROLE = "role"
    TRUST_POLICY = "trust_policy"
    POLICY_ATTACHMENT = "policy_attachment"
    INLINE_POLICY = "inline_policy"
    GROUP_MEMBERSHIP = "group_membership"
    POLICY_VERSION = "policy_version"
    BUCKET_POLICY = "bucket_policy"
    BUCKET_ACL = "bucket_acl"
    PUBLIC_ACCESS_BLOCK = "public_access_block"
    SECURITY_GROUP_INGRESS = "security_group_ingress"
    SNAPSHOT_PERMISSION = "snapshot_permission"
    IMAGE_PERMISSION = "image_permission"
    DB_SNAPSHOT_PERMISSION = "db_snapshot_permission"
    ALTERNATE_CONTACT = "alternate_contact"
    CONTACT_INFORMATION = "contact_information"
    TRAIL_LOGGING = "trail_logging"
    TRAIL = "trail"
    EVENT_SELECTORS = "event_selectors"
    DETECTOR = "detector"
    LAMBDA_FUNCTION = "lambda_function"
    LAMBDA_CODE = "lambda_code"
    LAMBDA_PERMISSION = "lambda_permission"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class _Call:
    """The parts of a successful record every follow-up writer needs."""

    record: dict[str, Any]
    request: dict[str, Any]
    response: dict[str, Any]
    region: str
    event_id: str
    event_time: datetime

    def follow_up(self, kind: FollowUpKind, resource: str, command: str,
                  note: str = "") -> FollowUp:
        return FollowUp(kind, resource, self.event_id, self.event_time, command, note)

    @property
    def region_option(self) -> str:
        return f" --region {shlex.quote(self.region)}" if self.region else ""


def _q(value: str) -> str:
    return shlex.quote(value)


def _create_user(call: _Call) -> FollowUp | None:
    user = text(call.request.get("userName"))
    if not user:
        return None
    name = _q(user)
    return call.follow_up(
        FollowUpKind.USER, user, f"aws iam delete-user --user-name {name}",
        "IAM refuses to delete a user that still has access keys, a login profile, MFA "
        "devices, group memberships or policies: list them with aws iam list-access-keys, "
        "list-groups-for-user, list-attached-user-policies, list-user-policies and "
        f"list-mfa-devices --user-name {name}, remove each, then delete the user")


def _create_access_key(call: _Call) -> FollowUp | None:
    access_key = mapping(call.response.get("accessKey"))
    key = text(access_key.get("accessKeyId"))
    user = (text(access_key.get("userName")) or text(call.request.get("userName"))
            or caller_user_name(call.record))
    if not key or not user:
        return None
    return call.follow_up(
        FollowUpKind.ACCESS_KEY, key,
        f"aws iam update-access-key --user-name {_q(user)} --access-key-id {_q(key)} "
        "--status Inactive",
        f"then delete it: aws iam delete-access-key --user-name {_q(user)} "
        f"--access-key-id {_q(key)}")


def _login_profile(call: _Call) -> FollowUp | None:
    user = text(call.request.get("userName")) or caller_user_name(call.record)
    if not user:
        return None
    note = ("the attacker set this user's console password" if event_name(call.record)
            == "UpdateLoginProfile" else "the attacker gave this user console access")
    return call.follow_up(FollowUpKind.LOGIN_PROFILE, user,
                          f"aws iam delete-login-profile --user-name {_q(user)}", note)


def _create_role(call: _Call) -> FollowUp | None:
    role = text(call.request.get("roleName"))
    if not role:
        return None
    name = _q(role)
    return call.follow_up(
        FollowUpKind.ROLE, role, f"aws iam delete-role --role-name {name}",
        "first detach and delete its policies (aws iam list-attached-role-policies, "
        f"list-role-policies --role-name {name}) and remove it from instance profiles "
        f"(aws iam list-instance-profiles-for-role --role-name {name})")


def _trust_policy(call: _Call) -> FollowUp | None:
    role = text(call.request.get("roleName"))
    if not role:
        return None
    return call.follow_up(
        FollowUpKind.TRUST_POLICY, role, f"aws iam get-role --role-name {_q(role)}",
        "review AssumeRolePolicyDocument: the attacker replaced who may assume the role; "
        f"restore it with aws iam update-assume-role-policy --role-name {_q(role)} "
        "--policy-document file://trust.json")


_PRINCIPALS = {"User": ("user", "userName"), "Group": ("group", "groupName"),
               "Role": ("role", "roleName")}


def _principal(call: _Call, event: str) -> tuple[str, str, str] | None:
    """(cli word, option, name) of the user, group or role an event names."""
    for suffix, (word, field) in _PRINCIPALS.items():
        if event.endswith(f"{suffix}Policy"):
            name = text(call.request.get(field))
            return (word, f"--{word}-name", name) if name else None
    return None


def _attach_policy(call: _Call) -> FollowUp | None:
    target = _principal(call, event_name(call.record))
    policy = text(call.request.get("policyArn"))
    if target is None or not policy:
        return None
    word, option, name = target
    return call.follow_up(
        FollowUpKind.POLICY_ATTACHMENT, f"{word}/{name}: {policy}",
        f"aws iam detach-{word}-policy {option} {_q(name)} --policy-arn {_q(policy)}")


def _put_policy(call: _Call) -> FollowUp | None:
    target = _principal(call, event_name(call.record))
    policy = text(call.request.get("policyName"))
    if target is None or not policy:
        return None
    word, option, name = target
    return call.follow_up(
        FollowUpKind.INLINE_POLICY, f"{word}/{name}: {policy}",
        f"aws iam delete-{word}-policy {option} {_q(name)} --policy-name {_q(policy)}")


def _add_user_to_group(call: _Call) -> FollowUp | None:
    group, user = text(call.request.get("groupName")), text(call.request.get("userName"))
    if not group or not user:
        return None
    return call.follow_up(
        FollowUpKind.GROUP_MEMBERSHIP, f"{user} in {group}",
        f"aws iam remove-user-from-group --group-name {_q(group)} --user-name {_q(user)}")


def _create_policy_version(call: _Call) -> FollowUp | None:
    policy = text(call.request.get("policyArn"))
    version = text(mapping(call.response.get("policyVersion")).get("versionId"))
    if not policy or not version:
        return None
    previous = _previous_version(version)
    note = ""
    if previous and call.request.get("setAsDefault") in (True, "true"):
        note = ("it was made the default: first restore the previous one with aws iam "
                f"set-default-policy-version --policy-arn {_q(policy)} --version-id {previous}")
    return call.follow_up(
        FollowUpKind.POLICY_VERSION, f"{policy} {version}",
        f"aws iam delete-policy-version --policy-arn {_q(policy)} --version-id {_q(version)}",
        note)


def _previous_version(version: str) -> str:
    number = version[1:]
    return f"v{int(number) - 1}" if version.startswith("v") and number.isdigit() \
        and int(number) > 1 else ""


def _set_default_policy_version(call: _Call) -> FollowUp | None:
    policy, version = text(call.request.get("policyArn")), text(call.request.get("versionId"))
    if not policy or not version:
        return None
    return call.follow_up(
        FollowUpKind.POLICY_VERSION, f"{policy} {version}",
        f"aws iam list-policy-versions --policy-arn {_q(policy)}",
        f"the attacker made {version} the default: set the version that was in use back "
        f"with aws iam set-default-policy-version --policy-arn {_q(policy)} --version-id VERSION")


def _bucket(call: _Call) -> str:
    return text(call.request.get("bucketName"))


def _bucket_policy(call: _Call) -> FollowUp | None:
    bucket = _bucket(call)
    if not bucket:
        return None
    return call.follow_up(
        FollowUpKind.BUCKET_POLICY, bucket,
        f"aws s3api delete-bucket-policy --bucket {_q(bucket)}{call.region_option}",
        f"review it first (aws s3api get-bucket-policy --bucket {_q(bucket)}) and put the "
        "bucket's own policy back if it had one; on a trail's bucket, restore CloudTrail's "
        "statements instead of deleting, or the trail stops delivering")


def _bucket_acl(call: _Call) -> FollowUp | None:
    bucket = _bucket(call)
    if not bucket:
        return None
    return call.follow_up(
        FollowUpKind.BUCKET_ACL, bucket,
        f"aws s3api put-bucket-acl --bucket {_q(bucket)} --acl private{call.region_option}",
        f"review the grants first: aws s3api get-bucket-acl --bucket {_q(bucket)}")


_BLOCK_ALL = ("BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
              "RestrictPublicBuckets=true")


def _public_access_block(call: _Call) -> FollowUp | None:
    bucket = _bucket(call)
    if bucket:
        return call.follow_up(
            FollowUpKind.PUBLIC_ACCESS_BLOCK, bucket,
            f"aws s3api put-public-access-block --bucket {_q(bucket)} "
            f"--public-access-block-configuration {_BLOCK_ALL}{call.region_option}")
    account = text(call.request.get("accountId")) or text(call.record.get("recipientAccountId"))
    if not account:
        return None
    return call.follow_up(
        FollowUpKind.PUBLIC_ACCESS_BLOCK, f"account {account}",
        f"aws s3control put-public-access-block --account-id {_q(account)} "
        f"--public-access-block-configuration {_BLOCK_ALL}{call.region_option}")


# requestParameters spell ingress rules as EC2's query API does; the CLI wants the
# shape of its --ip-permissions JSON.
_RULE_LISTS = {"ipRanges": ("IpRanges", {"cidrIp": "CidrIp", "description": "Description"}),
               "ipv6Ranges": ("Ipv6Ranges", {"cidrIpv6": "CidrIpv6",
                                             "description": "Description"}),
               "groups": ("UserIdGroupPairs", {"groupId": "GroupId", "userId": "UserId",
                                               "groupName": "GroupName"}),
               "prefixListIds": ("PrefixListIds", {"prefixListId": "PrefixListId"})}


def ip_permissions(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """AuthorizeSecurityGroupIngress's logged ipPermissions as the CLI's --ip-permissions."""
    items = mapping(parameters.get("ipPermissions")).get("items")
    permissions: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        rule = mapping(item)
        permission: dict[str, Any] = {"IpProtocol": str(rule.get("ipProtocol", "-1"))}
        for logged, cli in (("fromPort", "FromPort"), ("toPort", "ToPort")):
            if isinstance(rule.get(logged), int) and not isinstance(rule.get(logged), bool):
                permission[cli] = rule[logged]
        for logged, (cli, fields) in _RULE_LISTS.items():
            entries = mapping(rule.get(logged)).get("items")
            converted = [{fields[key]: value for key, value in mapping(entry).items()
                          if key in fields} for entry in entries or []
                         ] if isinstance(entries, list) else []
            if converted:
                permission[cli] = converted
        permissions.append(permission)
    return permissions


def _security_group_ingress(call: _Call) -> FollowUp | None:
    group_id, group_name = text(call.request.get("groupId")), text(call.request.get("groupName"))
    permissions = ip_permissions(call.request)
    if not (group_id or group_name) or not permissions:
        return None
    group = f"--group-id {_q(group_id)}" if group_id else f"--group-name {_q(group_name)}"
    document = json.dumps(permissions, sort_keys=True, separators=(",", ":"))
    return call.follow_up(
        FollowUpKind.SECURITY_GROUP_INGRESS, group_id or group_name,
        f"aws ec2 revoke-security-group-ingress {group} --ip-permissions {_q(document)}"
        f"{call.region_option}")


def _shared_with(permission: Any) -> tuple[list[str], list[str]]:
    """(account ids, groups) an EC2 attribute change added."""
    items = mapping(mapping(permission).get("add")).get("items")
    users, groups = [], []
    for item in items if isinstance(items, list) else []:
        if text(mapping(item).get("userId")):
            users.append(text(mapping(item).get("userId")))
        if text(mapping(item).get("group")):
            groups.append(text(mapping(item).get("group")))
    return users, groups


def _share_options(users: list[str], groups: list[str], group_option: str) -> str:
    options = f" --user-ids {' '.join(_q(user) for user in users)}" if users else ""
    if groups:
        options += f" {group_option} {' '.join(_q(group) for group in groups)}"
    return options


def _snapshot_permission(call: _Call) -> FollowUp | None:
    snapshot = text(call.request.get("snapshotId"))
    users, groups = _shared_with(call.request.get("createVolumePermission"))
    if not snapshot or not (users or groups):
        return None
    return call.follow_up(
        FollowUpKind.SNAPSHOT_PERMISSION, snapshot,
        f"aws ec2 modify-snapshot-attribute --snapshot-id {_q(snapshot)} --attribute "
        f"createVolumePermission --operation-type remove"
        f"{_share_options(users, groups, '--group-names')}{call.region_option}",
        f"shared with {', '.join(users + groups)}: a copy made meanwhile is theirs")


def _image_permission(call: _Call) -> FollowUp | None:
    image = text(call.request.get("imageId"))
    users, groups = _shared_with(call.request.get("launchPermission"))
    if not image or not (users or groups):
        return None
    return call.follow_up(
        FollowUpKind.IMAGE_PERMISSION, image,
        f"aws ec2 modify-image-attribute --image-id {_q(image)} --attribute launchPermission "
        f"--operation-type remove{_share_options(users, groups, '--user-groups')}"
        f"{call.region_option}",
        f"shared with {', '.join(users + groups)}: a copy made meanwhile is theirs")


def _db_snapshot_permission(call: _Call) -> FollowUp | None:
    snapshot = text(call.request.get("dBSnapshotIdentifier"))
    added = call.request.get("valuesToAdd")
    accounts = [value for value in added if isinstance(value, str) and value] \
        if isinstance(added, list) else []
    if not snapshot or not accounts:
        return None
    return call.follow_up(
        FollowUpKind.DB_SNAPSHOT_PERMISSION, snapshot,
        f"aws rds modify-db-snapshot-attribute --db-snapshot-identifier {_q(snapshot)} "
        f"--attribute-name restore --values-to-remove "
        f"{' '.join(_q(account) for account in accounts)}{call.region_option}",
        f"shared with {', '.join(accounts)}")


def _alternate_contact(call: _Call) -> FollowUp | None:
    kind = text(call.request.get("alternateContactType"))
    if not kind:
        return None
    verb = "changed" if event_name(call.record) == "PutAlternateContact" else "deleted"
    return call.follow_up(
        FollowUpKind.ALTERNATE_CONTACT, kind,
        f"aws account get-alternate-contact --alternate-contact-type {_q(kind)}",
        f"the attacker {verb} it; put the right one back with aws account "
        f"put-alternate-contact --alternate-contact-type {_q(kind)} --name NAME "
        "--title TITLE --email-address EMAIL --phone-number PHONE")


def _contact_information(call: _Call) -> FollowUp:
    return call.follow_up(
        FollowUpKind.CONTACT_INFORMATION, "account", "aws account get-contact-information",
        "the attacker changed the account's primary contact; put the right one back with "
        "aws account put-contact-information")


def _trail(call: _Call) -> tuple[str, str]:
    """(name or arn, region option): a trail is managed in its home region, which its
    arn names and the call's region otherwise is."""
    name = text(call.request.get("name")) or text(call.request.get("trailName"))
    parts = name.split(":")
    region = parts[3] if name.startswith("arn:") and len(parts) > 5 and parts[3] \
        else call.region
    return name, f" --region {_q(region)}" if region else ""


def _stop_logging(call: _Call) -> FollowUp | None:
    name, region = _trail(call)
    if not name:
        return None
    return call.follow_up(FollowUpKind.TRAIL_LOGGING, name,
                          f"aws cloudtrail start-logging --name {_q(name)}{region}",
                          "nothing was logged while it was stopped")


def _delete_trail(call: _Call) -> FollowUp | None:
    name, region = _trail(call)
    if not name:
        return None
    return call.follow_up(
        FollowUpKind.TRAIL, name, "irready audit",
        f"the trail {name} was deleted: recreate it with its bucket (aws cloudtrail "
        f"create-trail --name {_q(name)} --s3-bucket-name BUCKET --is-multi-region-trail"
        f"{region}, then start-logging) and run irready audit to confirm")


def _event_selectors(call: _Call) -> FollowUp | None:
    name, region = _trail(call)
    if not name:
        return None
    selectors = '[{"IncludeManagementEvents":true,"ReadWriteType":"All"}]'
    return call.follow_up(
        FollowUpKind.EVENT_SELECTORS, name,
        f"aws cloudtrail put-event-selectors --trail-name {_q(name)} "
        f"--event-selectors {_q(selectors)}{region}",
        "this logs every management event again; add back the data-event selectors the "
        f"trail had (aws cloudtrail get-event-selectors --trail-name {_q(name)}{region})")


def _delete_detector(call: _Call) -> FollowUp:
    detector = text(call.request.get("detectorId"))
    return call.follow_up(FollowUpKind.DETECTOR, detector or call.region,
                          f"aws guardduty create-detector --enable{call.region_option}",
                          "GuardDuty was off in this region from this moment")


def _update_detector(call: _Call) -> FollowUp | None:
    detector = text(call.request.get("detectorId"))
    enable = call.request.get("enable")
    if not detector or not (enable is False or enable == "false"):
        return None
    return call.follow_up(
        FollowUpKind.DETECTOR, detector,
        f"aws guardduty update-detector --detector-id {_q(detector)} --enable"
        f"{call.region_option}", "GuardDuty was disabled in this region from this moment")


def _function_name(call: _Call) -> str:
    return text(call.request.get("functionName"))


def _create_function(call: _Call) -> FollowUp | None:
    function = _function_name(call)
    if not function:
        return None
    return call.follow_up(
        FollowUpKind.LAMBDA_FUNCTION, function,
        f"aws lambda delete-function --function-name {_q(function)}{call.region_option}",
        f"its role ({text(call.request.get('role')) or 'unknown'}) may be what it was for")


def _function_code(call: _Call) -> FollowUp | None:
    function = _function_name(call)
    if not function:
        return None
    return call.follow_up(
        FollowUpKind.LAMBDA_CODE, function,
        f"aws lambda get-function --function-name {_q(function)}{call.region_option}",
        "the attacker replaced its code: redeploy the known good code or publish a "
        f"previous version (aws lambda list-versions-by-function --function-name "
        f"{_q(function)})")


def _function_permission(call: _Call) -> FollowUp | None:
    function, statement = _function_name(call), text(call.request.get("statementId"))
    if not function or not statement:
        return None
    return call.follow_up(
        FollowUpKind.LAMBDA_PERMISSION, f"{function}: {statement}",
        f"aws lambda remove-permission --function-name {_q(function)} "
        f"--statement-id {_q(statement)}{call.region_option}")


Writer = Callable[[_Call], FollowUp | None]

WRITERS: dict[str, Writer] = {
    "CreateUser": _create_user,
    "CreateAccessKey": _create_access_key,
    "CreateLoginProfile": _login_profile,
    "UpdateLoginProfile": _login_profile,
    "CreateRole": _create_role,
    "UpdateAssumeRolePolicy": _trust_policy,
    "AttachUserPolicy": _attach_policy,
    "AttachGroupPolicy": _attach_policy,
    "AttachRolePolicy": _attach_policy,
    "PutUserPolicy": _put_policy,
    "PutGroupPolicy": _put_policy,
    "PutRolePolicy": _put_policy,
    "AddUserToGroup": _add_user_to_group,
    "CreatePolicyVersion": _create_policy_version,
    "SetDefaultPolicyVersion": _set_default_policy_version,
    "PutBucketPolicy": _bucket_policy,
    "PutBucketAcl": _bucket_acl,
    "DeletePublicAccessBlock": _public_access_block,
    "AuthorizeSecurityGroupIngress": _security_group_ingress,
    "ModifySnapshotAttribute": _snapshot_permission,
    "ModifyImageAttribute": _image_permission,
    "ModifyDBSnapshotAttribute": _db_snapshot_permission,
    "PutAlternateContact": _alternate_contact,
    "DeleteAlternateContact": _alternate_contact,
    "PutContactInformation": _contact_information,
    "StopLogging": _stop_logging,
    "DeleteTrail": _delete_trail,
    "PutEventSelectors": _event_selectors,
    "DeleteDetector": _delete_detector,
    "UpdateDetector": _update_detector,
    "CreateFunction": _create_function,
    "UpdateFunctionCode": _function_code,
    "AddPermission": _function_permission,
}


def follow_up_of(record: dict[str, Any]) -> FollowUp | None:
    """The follow-up one successful call calls for; None for calls that changed nothing
    we know how to undo, failed calls and records too odd to read."""
    writer = WRITERS.get(event_name(record))
    moment = event_time(record)
    if writer is None or moment is None or not succeeded(record):
        return None
    return writer(_Call(record, request(record), response(record),
                        text(record.get("awsRegion")), text(record.get("eventID")), moment))


def revoke_sessions_policy(now: datetime) -> str:
    """The policy the IAM console's "Revoke active sessions" attaches: deny everything
    to credentials issued before now."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": ["*"], "Resource": ["*"],
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": iso(now)}}}]},
        separators=(",", ":"))


def session_follow_up(minted: Minted, now: datetime,
                      minting: dict[str, Any] | None = None) -> FollowUp:
    """A minted session's follow-up. `minting` is the record that minted it, which names
    the IAM user behind a federated session."""
    valid = (f"valid until {iso(minted.expires)}: deactivating the key does not end it"
             if minted.expires else "expiry unknown: deactivating the key does not end it")
    if minted.expires is not None and minted.expires < now:
        return _session(minted, "", f"expired {iso(minted.expires)}")
    target = _session_target(minted, minting)
    if isinstance(target, str):
        return _session(minted, "", f"{valid}; {target}")
    word, name = target
    command = (f"aws iam put-{word}-policy --{word}-name {_q(name)} --policy-name "
               f"{REVOKE_POLICY_NAME} --policy-document {_q(revoke_sessions_policy(now))}")
    elsewhere = ""
    if minting is not None and minted.account_id and minted.account_id != text(
            minting.get("recipientAccountId")):
        elsewhere = f"; run it in account {minted.account_id}, where the {word} lives"
    return _session(minted, command, f"{valid}; this denies every session of the {word} {name} "
                    f"issued before now (long-term keys are not affected){elsewhere}")


def _session(minted: Minted, command: str, note: str) -> FollowUp:
    return FollowUp(FollowUpKind.SESSION, minted.access_key_id, minted.event_id,
                    minted.minted_at, command, note)


def _session_target(minted: Minted, minting: dict[str, Any] | None) -> tuple[str, str] | str:
    """("role" | "user", name) whose sessions to revoke, or why there is no command."""
    resource = minted.principal_arn.split(":", 5)[-1]
    if resource.startswith("assumed-role/") and resource.count("/") >= 1:
        return "role", resource.split("/")[1]
    if resource.startswith("federated-user/"):
        # A federated session acts with the rights of the IAM user who asked for it.
        user = caller_user_name(minting) if minting else ""
        return ("user", user) if user else (
            "revoke it on the IAM user that called GetFederationToken")
    if resource.startswith("user/"):
        return "user", resource.rsplit("/", 1)[-1]
    if resource == "root":
        return ("a root session cannot be revoked by a policy: deactivate the root key "
                "and change the root password")
    return "its principal is unknown: find it in the minting event"


def follow_ups(records: Sequence[dict[str, Any]], minted: Sequence[Minted],
               now: datetime) -> tuple[FollowUp, ...]:
    """Every follow-up of the attacker's records and minted sessions, in time order.
    Created keys come from their CreateAccessKey record, not from `minted`."""
    found = [follow_up for record in records if (follow_up := follow_up_of(record))]
    by_event = {text(record.get("eventID")): record for record in records}
    found.extend(session_follow_up(credential, now, by_event.get(credential.event_id))
                 for credential in minted if credential.kind is CredentialKind.SESSION)
    return tuple(sorted(found, key=lambda item: (item.event_time, item.kind, item.resource)))
