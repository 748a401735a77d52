"""The policies of the organization audit. The account irready runs in needs the audit's
read-only policy plus listing the organization's accounts and `sts:AssumeRole` on the
audit role; every member account needs the role itself: read-only (the audit's policy),
trusting the management account (or the delegated administrator), shipped as a
CloudFormation template ready for a StackSet over the organization."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

DISCOVERY_ACTIONS = (
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
)


def audit_policy() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        files("auditor").joinpath("policies/audit.json").read_text())
    return document


def org_caller_policy(role: str) -> dict[str, Any]:
    """What the identity that runs `irready audit --org` needs in its own account."""
    document = audit_policy()
    document["Statement"] += [
        {"Sid": "IrreadyOrgListAccounts", "Effect": "Allow",
         "Action": list(DISCOVERY_ACTIONS), "Resource": "*"},
        {"Sid": "IrreadyOrgAssumeAuditRole", "Effect": "Allow", "Action": "sts:AssumeRole",
         "Resource": f"arn:aws:iam::*:role/{role}"},
    ]
    return document


def role_template(role: str) -> dict[str, Any]:
    """A CloudFormation template of the audit role, for a StackSet deployed to every
    account: read-only, assumable only from the trusted account (and with the external
    id, when one is given)."""
    trust_principal = {"Fn::Sub": "arn:${AWS::Partition}:iam::${TrustedAccountId}:root"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"irready: the read-only role {role} that `irready audit --org` "
                       "assumes in this account",
        "Parameters": {
            "TrustedAccountId": {
                "Type": "String", "AllowedPattern": "^[0-9]{12}$",
                "Description": "The management account or delegated administrator that "
                               "runs irready audit --org"},
            "ExternalId": {
                "Type": "String", "Default": "",
                "Description": "Required from the caller when not empty (--external-id)"},
        },
        "Conditions": {"HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"},
                                                                     ""]}]}},
        "Resources": {
            "IrreadyAuditRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role,
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"AWS": trust_principal},
                            "Action": "sts:AssumeRole",
                            "Condition": {"Fn::If": [
                                "HasExternalId",
                                {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
                                {"Ref": "AWS::NoValue"}]},
                        }],
                    },
                    "Policies": [{"PolicyName": "irready-audit-read-only",
                                  "PolicyDocument": audit_policy()}],
                },
            },
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["IrreadyAuditRole", "Arn"]}}},
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
