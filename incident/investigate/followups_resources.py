"""Follow-ups of the attacker's changes outside IAM: bucket policies, ACLs and public
access blocks, security group ingress, shared snapshots and images, alternate contacts
and contact information, stopped or deleted trails and their event selectors, GuardDuty
detectors, and Lambda functions, code and permissions."""

from __future__ import annotations

import json
from typing import Any

from incident.investigate.followup_call import Call, FollowUpKind, q
from incident.investigate.model import FollowUp
from incident.investigate.record_fields import (
    event_name,
    mapping,
    text,
)


def _bucket(call: Call) -> str:
    return text(call.request.get("bucketName"))


def bucket_policy(call: Call) -> FollowUp | None:
    bucket = _bucket(call)
    if not bucket:
        return None
    return call.follow_up(
        FollowUpKind.BUCKET_POLICY, bucket,
        f"aws s3api delete-bucket-policy --bucket {q(bucket)}{call.region_option}",
        f"review it first (aws s3api get-bucket-policy --bucket {q(bucket)}) and put the "
        "bucket's own policy back if it had one; on a trail's bucket, restore CloudTrail's "
        "statements instead of deleting, or the trail stops delivering")


def bucket_acl(call: Call) -> FollowUp | None:
    bucket = _bucket(call)
    if not bucket:
        return None
    return call.follow_up(
        FollowUpKind.BUCKET_ACL, bucket,
        f"aws s3api put-bucket-acl --bucket {q(bucket)} --acl private{call.region_option}",
        f"review the grants first: aws s3api get-bucket-acl --bucket {q(bucket)}")


_BLOCK_ALL = ("BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
              "RestrictPublicBuckets=true")


def public_access_block(call: Call) -> FollowUp | None:
    bucket = _bucket(call)
    if bucket:
        return call.follow_up(
            FollowUpKind.PUBLIC_ACCESS_BLOCK, bucket,
            f"aws s3api put-public-access-block --bucket {q(bucket)} "
            f"--public-access-block-configuration {_BLOCK_ALL}{call.region_option}")
    account = text(call.request.get("accountId")) or text(call.record.get("recipientAccountId"))
    if not account:
        return None
    return call.follow_up(
        FollowUpKind.PUBLIC_ACCESS_BLOCK, f"account {account}",
        f"aws s3control put-public-access-block --account-id {q(account)} "
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


def security_group_ingress(call: Call) -> FollowUp | None:
    group_id, group_name = text(call.request.get("groupId")), text(call.request.get("groupName"))
    permissions = ip_permissions(call.request)
    if not (group_id or group_name) or not permissions:
        return None
    group = f"--group-id {q(group_id)}" if group_id else f"--group-name {q(group_name)}"
    document = json.dumps(permissions, sort_keys=True, separators=(",", ":"))
    return call.follow_up(
        FollowUpKind.SECURITY_GROUP_INGRESS, group_id or group_name,
        f"aws ec2 revoke-security-group-ingress {group} --ip-permissions {q(document)}"
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
    options = f" --user-ids {' '.join(q(user) for user in users)}" if users else ""
    if groups:
        options += f" {group_option} {' '.join(q(group) for group in groups)}"
    return options


def snapshot_permission(call: Call) -> FollowUp | None:
    snapshot = text(call.request.get("snapshotId"))
    users, groups = _shared_with(call.request.get("createVolumePermission"))
    if not snapshot or not (users or groups):
        return None
    return call.follow_up(
        FollowUpKind.SNAPSHOT_PERMISSION, snapshot,
        f"aws ec2 modify-snapshot-attribute --snapshot-id {q(snapshot)} --attribute "
        f"createVolumePermission --operation-type remove"
        f"{_share_options(users, groups, '--group-names')}{call.region_option}",
        f"shared with {', '.join(users + groups)}: a copy made meanwhile is theirs")


def image_permission(call: Call) -> FollowUp | None:
    image = text(call.request.get("imageId"))
    users, groups = _shared_with(call.request.get("launchPermission"))
    if not image or not (users or groups):
        return None
    return call.follow_up(
        FollowUpKind.IMAGE_PERMISSION, image,
        f"aws ec2 modify-image-attribute --image-id {q(image)} --attribute launchPermission "
        f"--operation-type remove{_share_options(users, groups, '--user-groups')}"
        f"{call.region_option}",
        f"shared with {', '.join(users + groups)}: a copy made meanwhile is theirs")


def db_snapshot_permission(call: Call) -> FollowUp | None:
    snapshot = text(call.request.get("dBSnapshotIdentifier"))
    added = call.request.get("valuesToAdd")
    accounts = [value for value in added if isinstance(value, str) and value] \
        if isinstance(added, list) else []
    if not snapshot or not accounts:
        return None
    return call.follow_up(
        FollowUpKind.DB_SNAPSHOT_PERMISSION, snapshot,
        f"aws rds modify-db-snapshot-attribute --db-snapshot-identifier {q(snapshot)} "
        f"--attribute-name restore --values-to-remove "
        f"{' '.join(q(account) for account in accounts)}{call.region_option}",
        f"shared with {', '.join(accounts)}")


def alternate_contact(call: Call) -> FollowUp | None:
    kind = text(call.request.get("alternateContactType"))
    if not kind:
        return None
    verb = "changed" if event_name(call.record) == "PutAlternateContact" else "deleted"
    return call.follow_up(
        FollowUpKind.ALTERNATE_CONTACT, kind,
        f"aws account get-alternate-contact --alternate-contact-type {q(kind)}",
        f"the attacker {verb} it; put the right one back with aws account "
        f"put-alternate-contact --alternate-contact-type {q(kind)} --name NAME "
        "--title TITLE --email-address EMAIL --phone-number PHONE")


def contact_information(call: Call) -> FollowUp:
    return call.follow_up(
        FollowUpKind.CONTACT_INFORMATION, "account", "aws account get-contact-information",
        "the attacker changed the account's primary contact; put the right one back with "
        "aws account put-contact-information")


def _trail(call: Call) -> tuple[str, str]:
    """(name or arn, region option): a trail is managed in its home region, which its
    arn names and the call's region otherwise is."""
    name = text(call.request.get("name")) or text(call.request.get("trailName"))
    parts = name.split(":")
    region = parts[3] if name.startswith("arn:") and len(parts) > 5 and parts[3] \
        else call.region
    return name, f" --region {q(region)}" if region else ""


def stop_logging(call: Call) -> FollowUp | None:
    name, region = _trail(call)
    if not name:
        return None
    return call.follow_up(FollowUpKind.TRAIL_LOGGING, name,
                          f"aws cloudtrail start-logging --name {q(name)}{region}",
                          "nothing was logged while it was stopped")


def delete_trail(call: Call) -> FollowUp | None:
    name, region = _trail(call)
    if not name:
        return None
    return call.follow_up(
        FollowUpKind.TRAIL, name, "irready audit",
        f"the trail {name} was deleted: recreate it with its bucket (aws cloudtrail "
        f"create-trail --name {q(name)} --s3-bucket-name BUCKET --is-multi-region-trail"
        f"{region}, then start-logging) and run irready audit to confirm")


def event_selectors(call: Call) -> FollowUp | None:
    name, region = _trail(call)
    if not name:
        return None
    selectors = '[{"IncludeManagementEvents":true,"ReadWriteType":"All"}]'
    return call.follow_up(
        FollowUpKind.EVENT_SELECTORS, name,
        f"aws cloudtrail put-event-selectors --trail-name {q(name)} "
        f"--event-selectors {q(selectors)}{region}",
        "this logs every management event again; add back the data-event selectors the "
        f"trail had (aws cloudtrail get-event-selectors --trail-name {q(name)}{region})")


def delete_detector(call: Call) -> FollowUp:
    detector = text(call.request.get("detectorId"))
    return call.follow_up(FollowUpKind.DETECTOR, detector or call.region,
                          f"aws guardduty create-detector --enable{call.region_option}",
                          "GuardDuty was off in this region from this moment")


def update_detector(call: Call) -> FollowUp | None:
    detector = text(call.request.get("detectorId"))
    enable = call.request.get("enable")
    if not detector or not (enable is False or enable == "false"):
        return None
    return call.follow_up(
        FollowUpKind.DETECTOR, detector,
        f"aws guardduty update-detector --detector-id {q(detector)} --enable"
        f"{call.region_option}", "GuardDuty was disabled in this region from this moment")


def _function_name(call: Call) -> str:
    return text(call.request.get("functionName"))


def create_function(call: Call) -> FollowUp | None:
    function = _function_name(call)
    if not function:
        return None
    return call.follow_up(
        FollowUpKind.LAMBDA_FUNCTION, function,
        f"aws lambda delete-function --function-name {q(function)}{call.region_option}",
        f"its role ({text(call.request.get('role')) or 'unknown'}) may be what it was for")


def function_code(call: Call) -> FollowUp | None:
    function = _function_name(call)
    if not function:
        return None
    return call.follow_up(
        FollowUpKind.LAMBDA_CODE, function,
        f"aws lambda get-function --function-name {q(function)}{call.region_option}",
        "the attacker replaced its code: redeploy the known good code or publish a "
        f"previous version (aws lambda list-versions-by-function --function-name "
        f"{q(function)})")


def function_permission(call: Call) -> FollowUp | None:
    function, statement = _function_name(call), text(call.request.get("statementId"))
    if not function or not statement:
        return None
    return call.follow_up(
        FollowUpKind.LAMBDA_PERMISSION, f"{function}: {statement}",
        f"aws lambda remove-permission --function-name {q(function)} "
        f"--statement-id {q(statement)}{call.region_option}")
