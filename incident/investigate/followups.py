"""What the attacker left behind, each with the command that undoes or contains it:
the users, keys, login profiles, roles, policies, bucket settings, shared snapshots,
contacts, stopped trails and detectors their successful calls created or changed, and
every session they minted, which deactivating the leaked key does not end.

A table maps each event name to the function that writes its follow-up, so a reader
sees at a glance which changes are covered; every value that reaches a command is
quoted with shlex, since it comes from the attacker's own request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from incident.investigate.followup_call import Call, FollowUpKind, Writer, q
from incident.investigate.followups_iam import (
    add_user_to_group,
    attach_policy,
    create_access_key,
    create_policy_version,
    create_role,
    create_user,
    login_profile,
    put_policy,
    set_default_policy_version,
    trust_policy,
)
from incident.investigate.followups_resources import (
    alternate_contact,
    bucket_acl,
    bucket_policy,
    contact_information,
    create_function,
    db_snapshot_permission,
    delete_detector,
    delete_trail,
    event_selectors,
    function_code,
    function_permission,
    image_permission,
    public_access_block,
    security_group_ingress,
    snapshot_permission,
    stop_logging,
    update_detector,
)
from incident.investigate.minted import Minted
from incident.investigate.model import CredentialKind, FollowUp
from incident.investigate.record_fields import (
    caller_user_name,
    event_name,
    event_time,
    iso,
    request,
    response,
    succeeded,
    text,
)

REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"  # the name the IAM console uses

WRITERS: dict[str, Writer] = {
    "CreateUser": create_user,
    "CreateAccessKey": create_access_key,
    "CreateLoginProfile": login_profile,
    "UpdateLoginProfile": login_profile,
    "CreateRole": create_role,
    "UpdateAssumeRolePolicy": trust_policy,
    "AttachUserPolicy": attach_policy,
    "AttachGroupPolicy": attach_policy,
    "AttachRolePolicy": attach_policy,
    "PutUserPolicy": put_policy,
    "PutGroupPolicy": put_policy,
    "PutRolePolicy": put_policy,
    "AddUserToGroup": add_user_to_group,
    "CreatePolicyVersion": create_policy_version,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "PutBucketPolicy": bucket_policy,
    "PutBucketAcl": bucket_acl,
    "DeletePublicAccessBlock": public_access_block,
    "AuthorizeSecurityGroupIngress": security_group_ingress,
    "ModifySnapshotAttribute": snapshot_permission,
    "ModifyImageAttribute": image_permission,
    "ModifyDBSnapshotAttribute": db_snapshot_permission,
    "PutAlternateContact": alternate_contact,
    "DeleteAlternateContact": alternate_contact,
    "PutContactInformation": contact_information,
    "StopLogging": stop_logging,
    "DeleteTrail": delete_trail,
    "PutEventSelectors": event_selectors,
    "DeleteDetector": delete_detector,
    "UpdateDetector": update_detector,
    "CreateFunction": create_function,
    "UpdateFunctionCode": function_code,
    "AddPermission": function_permission,
}


def follow_up_of(record: dict[str, Any]) -> FollowUp | None:
    """The follow-up one successful call calls for; None for calls that changed nothing
    we know how to undo, failed calls and records too odd to read."""
    writer = WRITERS.get(event_name(record))
    moment = event_time(record)
    if writer is None or moment is None or not succeeded(record):
        return None
    return writer(Call(record, request(record), response(record),
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
    command = (f"aws iam put-{word}-policy --{word}-name {q(name)} --policy-name "
               f"{REVOKE_POLICY_NAME} --policy-document {q(revoke_sessions_policy(now))}")
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
