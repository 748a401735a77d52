"""Follow-ups of the attacker's IAM changes: users, access keys, login profiles, roles
and their trust policies, policy attachments, inline policies, group memberships and
policy versions, each with the command that undoes it."""

from __future__ import annotations

from incident.investigate.followup_call import Call, FollowUpKind, q
from incident.investigate.model import FollowUp
from incident.investigate.record_fields import (
    caller_user_name,
    event_name,
    mapping,
    text,
)


def create_user(call: Call) -> FollowUp | None:
    user = text(call.request.get("userName"))
    if not user:
        return None
    name = q(user)
    return call.follow_up(
        FollowUpKind.USER, user, f"aws iam delete-user --user-name {name}",
        "IAM refuses to delete a user that still has access keys, a login profile, MFA "
        "devices, group memberships or policies: list them with aws iam list-access-keys, "
        "list-groups-for-user, list-attached-user-policies, list-user-policies and "
        f"list-mfa-devices --user-name {name}, remove each, then delete the user")


def create_access_key(call: Call) -> FollowUp | None:
    access_key = mapping(call.response.get("accessKey"))
    key = text(access_key.get("accessKeyId"))
    user = (text(access_key.get("userName")) or text(call.request.get("userName"))
            or caller_user_name(call.record))
    if not key or not user:
        return None
    return call.follow_up(
        FollowUpKind.ACCESS_KEY, key,
        f"aws iam update-access-key --user-name {q(user)} --access-key-id {q(key)} "
        "--status Inactive",
        f"then delete it: aws iam delete-access-key --user-name {q(user)} "
        f"--access-key-id {q(key)}")


def login_profile(call: Call) -> FollowUp | None:
    user = text(call.request.get("userName")) or caller_user_name(call.record)
    if not user:
        return None
    note = ("the attacker set this user's console password" if event_name(call.record)
            == "UpdateLoginProfile" else "the attacker gave this user console access")
    return call.follow_up(FollowUpKind.LOGIN_PROFILE, user,
                          f"aws iam delete-login-profile --user-name {q(user)}", note)


def create_role(call: Call) -> FollowUp | None:
    role = text(call.request.get("roleName"))
    if not role:
        return None
    name = q(role)
    return call.follow_up(
        FollowUpKind.ROLE, role, f"aws iam delete-role --role-name {name}",
        "first detach and delete its policies (aws iam list-attached-role-policies, "
        f"list-role-policies --role-name {name}) and remove it from instance profiles "
        f"(aws iam list-instance-profiles-for-role --role-name {name})")


def trust_policy(call: Call) -> FollowUp | None:
    role = text(call.request.get("roleName"))
    if not role:
        return None
    return call.follow_up(
        FollowUpKind.TRUST_POLICY, role, f"aws iam get-role --role-name {q(role)}",
        "review AssumeRolePolicyDocument: the attacker replaced who may assume the role; "
        f"restore it with aws iam update-assume-role-policy --role-name {q(role)} "
        "--policy-document file://trust.json")


_PRINCIPALS = {"User": ("user", "userName"), "Group": ("group", "groupName"),
               "Role": ("role", "roleName")}


def _principal(call: Call, event: str) -> tuple[str, str, str] | None:
    """(cli word, option, name) of the user, group or role an event names."""
    for suffix, (word, field) in _PRINCIPALS.items():
        if event.endswith(f"{suffix}Policy"):
            name = text(call.request.get(field))
            return (word, f"--{word}-name", name) if name else None
    return None


def attach_policy(call: Call) -> FollowUp | None:
    target = _principal(call, event_name(call.record))
    policy = text(call.request.get("policyArn"))
    if target is None or not policy:
        return None
    word, option, name = target
    return call.follow_up(
        FollowUpKind.POLICY_ATTACHMENT, f"{word}/{name}: {policy}",
        f"aws iam detach-{word}-policy {option} {q(name)} --policy-arn {q(policy)}")


def put_policy(call: Call) -> FollowUp | None:
    target = _principal(call, event_name(call.record))
    policy = text(call.request.get("policyName"))
    if target is None or not policy:
        return None
    word, option, name = target
    return call.follow_up(
        FollowUpKind.INLINE_POLICY, f"{word}/{name}: {policy}",
        f"aws iam delete-{word}-policy {option} {q(name)} --policy-name {q(policy)}")


def add_user_to_group(call: Call) -> FollowUp | None:
    group, user = text(call.request.get("groupName")), text(call.request.get("userName"))
    if not group or not user:
        return None
    return call.follow_up(
        FollowUpKind.GROUP_MEMBERSHIP, f"{user} in {group}",
        f"aws iam remove-user-from-group --group-name {q(group)} --user-name {q(user)}")


def create_policy_version(call: Call) -> FollowUp | None:
    policy = text(call.request.get("policyArn"))
    version = text(mapping(call.response.get("policyVersion")).get("versionId"))
    if not policy or not version:
        return None
    previous = _previous_version(version)
    note = ""
    if previous and call.request.get("setAsDefault") in (True, "true"):
        note = ("it was made the default: first restore the previous one with aws iam "
                f"set-default-policy-version --policy-arn {q(policy)} --version-id {previous}")
    return call.follow_up(
        FollowUpKind.POLICY_VERSION, f"{policy} {version}",
        f"aws iam delete-policy-version --policy-arn {q(policy)} --version-id {q(version)}",
        note)


def _previous_version(version: str) -> str:
    number = version[1:]
    return f"v{int(number) - 1}" if version.startswith("v") and number.isdigit() \
        and int(number) > 1 else ""


def set_default_policy_version(call: Call) -> FollowUp | None:
    policy, version = text(call.request.get("policyArn")), text(call.request.get("versionId"))
    if not policy or not version:
        return None
    return call.follow_up(
        FollowUpKind.POLICY_VERSION, f"{policy} {version}",
        f"aws iam list-policy-versions --policy-arn {q(policy)}",
        f"the attacker made {version} the default: set the version that was in use back "
        f"with aws iam set-default-policy-version --policy-arn {q(policy)} --version-id VERSION")
