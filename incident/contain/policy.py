"""`irready policy contain`: the least-privilege IAM policy a containment needs: the
drill's (the rotation is the drill engine's) on the users named, or on every user for a
break-glass role, plus finding whose key it is (sts:GetAccessKeyInfo,
iam:GetAccessKeyLastUsed: a key id names no user, so their resource is "*"), and the
session denies (iam:PutUserPolicy and iam:DeleteUserPolicy on those users; on the roles
named, or every role, iam:GetRole, iam:PutRolePolicy and iam:DeleteRolePolicy), attaching
and detaching only the AWS quarantine policies, and deleting login profiles. Running an
investigation needs `irready policy investigate` beside it (or pass --no-investigate)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from auditor.config import Config
from auditor.errors import UsageError
from drills.policy import drill_policy, drill_targets
from incident.contain.model import QUARANTINE_POLICIES

QUARANTINE_ARNS = [f"arn:aws:iam::aws:policy/{name}" for name in QUARANTINE_POLICIES]
FIND_THE_KEY = {
    "Sid": "IrreadyContainFindTheKey",
    "Effect": "Allow",
    "Action": ["sts:GetAccessKeyInfo", "iam:GetAccessKeyLastUsed"],
    "Resource": "*",
}


def contain_policy(users: Sequence[str], targets: Sequence[str], roles: Sequence[str] = ()
                   ) -> dict[str, Any]:
    document = drill_policy(users, targets)
    statements = []
    for statement in document["Statement"]:
        sid = str(statement.get("Sid", "")).replace("IrreadyDrill", "IrreadyContain")
        statements.append({**statement, "Sid": sid})
    statements.append(dict(FIND_THE_KEY))
    statements.append({
        "Sid": "IrreadyContainRevokeUserSessions", "Effect": "Allow",
        "Action": ["iam:PutUserPolicy", "iam:DeleteUserPolicy"],
        "Resource": [f"arn:aws:iam::*:user/{u}" for u in users]
        + [f"arn:aws:iam::*:user/*/{u}" for u in users]})
    statements.append({
        "Sid": "IrreadyContainQuarantine", "Effect": "Allow",
        "Action": ["iam:AttachUserPolicy", "iam:DetachUserPolicy"],
        "Resource": [f"arn:aws:iam::*:user/{u}" for u in users]
        + [f"arn:aws:iam::*:user/*/{u}" for u in users],
        "Condition": {"ArnLike": {"iam:PolicyARN": QUARANTINE_ARNS}}})
    statements.append({
        "Sid": "IrreadyContainQuarantineTag", "Effect": "Allow",
        "Action": ["iam:TagUser", "iam:UntagUser"],
        "Resource": [f"arn:aws:iam::*:user/{u}" for u in users]
        + [f"arn:aws:iam::*:user/*/{u}" for u in users],
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["irready:quarantine"]}}})
    statements.append({
        "Sid": "IrreadyContainQuarantineLookup", "Effect": "Allow",
        "Action": ["iam:GetPolicy"], "Resource": QUARANTINE_ARNS})
    statements.append({
        "Sid": "IrreadyContainFollowUps", "Effect": "Allow",
        "Action": ["iam:ListAttachedUserPolicies", "iam:DeleteLoginProfile"],
        "Resource": [f"arn:aws:iam::*:user/{u}" for u in users]
        + [f"arn:aws:iam::*:user/*/{u}" for u in users]})
    if roles:
        statements.append({
            "Sid": "IrreadyContainRevokeRoleSessions", "Effect": "Allow",
            "Action": ["iam:GetRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
            "Resource": [f"arn:aws:iam::*:role/{r}" for r in roles]
            + [f"arn:aws:iam::*:role/*/{r}" for r in roles]})
    return {**document, "Statement": statements}


def render_contain_policy(config: Config, users: Sequence[str], targets: Sequence[str],
                          *, all_users: bool, roles: Sequence[str] = ()) -> str:
    if all_users and users:
        raise UsageError("--all-users and --user: choose one")
    if not all_users and not users:
        raise UsageError("name the users whose keys may be contained (--user NAME, "
                         "repeatable), or pass --all-users for a break-glass role")
    chosen = ["*"] if all_users else list(dict.fromkeys(users))
    inventory = [entry.rotation_target for entry in config.inventory
                 if entry.rotation_target] if all_users else drill_targets(config, chosen)
    chosen_roles = ["*"] if all_users else list(dict.fromkeys(roles))
    document = contain_policy(chosen, [*inventory, *targets], chosen_roles)
    return json.dumps(document, indent=2) + "\n"
