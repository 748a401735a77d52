"""Is this user a canary? A detection drill hands it a real key, so it must be a user
that can do nothing with one: no attached or inline policy, no group, no console
password, no key an application relies on (an inventory entry), and room for one more
key. It must be chosen on purpose: listed in `[drill] canaries` or tagged
irready:canary=true. Every refusal is bad input (exit 2) with the reason; a read AWS
refuses is exit 3 naming the call. All of it is read-only and runs before the key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.errors import AwsUnavailable, UsageError
from drills.engine.aws import AWS_ERRORS, describe_error, error_code

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext

CANARY_TAG = "irready:canary"


@dataclass(frozen=True)
class Canary:
    name: str
    arn: str
    keys_before: tuple[str, ...]  # its key ids before the drill (at most one)


def _read(what: str, call: Any, **params: Any) -> Any:
    try:
        return call(**params)
    except AWS_ERRORS as exc:
        if error_code(exc) == "NoSuchEntity":
            raise UsageError(f"--user {params.get('UserName')}: no such IAM user") from None
        raise AwsUnavailable(f"{what} failed ({describe_error(exc)}); the detection drill "
                             "needs the policy that `irready policy detect` prints") from None


def _all(what: str, iam: Any, operation: str, field: str, user: str) -> list[Any]:
    paginator = iam.get_paginator(operation)
    items: list[Any] = []
    try:
        for page in paginator.paginate(UserName=user):
            items += page[field]
    except AWS_ERRORS as exc:
        raise AwsUnavailable(f"{what} failed ({describe_error(exc)}); the detection drill "
                             "needs the policy that `irready policy detect` prints") from None
    return items


def validate_canary(ctx: AwsContext, config: Config, user: str) -> Canary:
    """The canary, or UsageError saying why this user is not one."""
    iam = ctx.client("iam")
    found = _read("iam:GetUser", iam.get_user, UserName=user)["User"]
    tags = _all("iam:ListUserTags", iam, "list_user_tags", "Tags", user)
    tagged = any(t.get("Key") == CANARY_TAG and str(t.get("Value")).lower() == "true"
                 for t in tags)
    if user not in config.drill.canaries and not tagged:
        raise UsageError(f"{user} is not a canary: list it in [drill] canaries or tag it "
                         f"{CANARY_TAG}=true")
    if config.inventory_for(user) is not None:
        raise UsageError(f"{user} is in the key inventory (an application relies on its "
                         "key): a canary must be a user nothing relies on")
    reasons = []
    attached = _all("iam:ListAttachedUserPolicies", iam, "list_attached_user_policies",
                    "AttachedPolicies", user)
    if attached:
        reasons.append("attached policies " + ", ".join(p["PolicyName"] for p in attached))
    inline = _all("iam:ListUserPolicies", iam, "list_user_policies", "PolicyNames", user)
    if inline:
        reasons.append("inline policies " + ", ".join(inline))
    groups = _all("iam:ListGroupsForUser", iam, "list_groups_for_user", "Groups", user)
    if groups:
        reasons.append("groups " + ", ".join(g["GroupName"] for g in groups))
    if _has_password(iam, user):
        reasons.append("a console password")
    keys = _all("iam:ListAccessKeys", iam, "list_access_keys", "AccessKeyMetadata", user)
    if len(keys) >= 2:
        reasons.append("two access keys (no room for the drill's)")
    if reasons:
        raise UsageError(f"{user} cannot be a canary: it has {'; '.join(reasons)}. A canary "
                         "has no policy, no group, no password and at most one key")
    return Canary(user, str(found["Arn"]), tuple(str(k["AccessKeyId"]) for k in keys))


def _has_password(iam: Any, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except AWS_ERRORS as exc:
        if error_code(exc) == "NoSuchEntity":
            return False
        raise AwsUnavailable(f"iam:GetLoginProfile failed ({describe_error(exc)}); the "
                             "detection drill needs the policy that `irready policy detect` "
                             "prints") from None
    return True
