"""The organization audit's promises, under moto's IAM enforcement: the caller's policy
(`irready policy audit --org`) and the members' role (`irready policy audit
--cloudformation`) are enough for a whole organization run, and the run only reads:
List/Get/Describe/Generate calls, plus sts:AssumeRole into each member."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from clikit import irready
from orgkit import MANAGEMENT, Organization

from auditor.config import AuditSettings, Config
from auditor.models import Status
from auditor.org import AccountState, OrgScope
from auditor.org_policy import org_caller_policy, role_template
from auditor.org_run import audit_organization
from auditor.registry import discover
from auditor.session import AwsContext
from auditor.store import HistoryStore

READ = re.compile(r"^(List|Get|Describe|Head|Generate)[A-Z]")


def auditkit() -> Any:
    """The audit tests' helpers (the IAM action of a recorded call), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "auditkit", Path(__file__).resolve().parents[1] / "auditor" / "auditkit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def actions(document: dict[str, Any]) -> set[str]:
    granted: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        granted.update([action] if isinstance(action, str) else action)
    return granted


def create_audit_role(aws: Any, account_id: str) -> None:
    """The template's role in a member account (moto has no CloudFormation StackSets here:
    the role is created from the template's own properties)."""
    import boto3

    properties = role_template("irready-audit")["Resources"]["IrreadyAuditRole"]["Properties"]
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup")["Credentials"]
    member = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                           aws_secret_access_key=credentials["SecretAccessKey"],
                           aws_session_token=credentials["SessionToken"],
                           region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": "sts:AssumeRole"}]}
    iam = member.client("iam")
    iam.create_role(RoleName=properties["RoleName"], AssumeRolePolicyDocument=json.dumps(trust))
    policy = properties["Policies"][0]
    iam.put_role_policy(RoleName=properties["RoleName"], PolicyName=policy["PolicyName"],
                        PolicyDocument=json.dumps(policy["PolicyDocument"]))


def test_the_shipped_policies_are_enough_and_the_run_only_reads(
    aws: Any, organization: Organization, user_with_policy: Callable[[dict[str, Any]], Any],
    enforce_iam: Callable[[], AbstractContextManager[None]], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import boto3.session

    for member in (organization.workload, organization.nested):
        create_audit_role(aws, member)
    caller = user_with_policy(org_caller_policy("irready-audit"))
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.signing_name}:{model.name}")

    built = boto3.session.Session.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        self.events.register("before-call.*.*", record)

    monkeypatch.setattr(boto3.session.Session, "__init__", recording)
    caller.events.register("before-call.*.*", record)
    config = replace(Config(), audit=AuditSettings(regions=("us-east-1",)))

    with enforce_iam():
        org = audit_organization(
            AwsContext(session=caller, max_attempts=2), config, discover(plugins=False),
            OrgScope(ou=organization.ou),
            open_store=lambda: HistoryStore(tmp_path / "history.sqlite3"))

    assert [(a.account_id, a.reason) for a in org.accounts
            if a.state is not AccountState.AUDITED] == []
    errors = [(f.account_id, f.check_id, f.message) for a in org.audited if a.run
              for f in a.run.findings if f.status is Status.ERROR]
    assert errors == []
    kit = auditkit()
    needed = {kit.iam_action(call) for call in calls}
    granted = actions(org_caller_policy("irready-audit")) | actions(
        role_template("irready-audit")["Resources"]["IrreadyAuditRole"]["Properties"]
        ["Policies"][0]["PolicyDocument"])
    assert needed <= granted, "the organization audit made calls no shipped policy grants"
    assert {"sts:AssumeRole", "organizations:ListAccountsForParent",
            "organizations:ListOrganizationalUnitsForParent"} <= needed
    writes = sorted({call for call in calls
                     if not READ.match(call.split(":")[1]) and call != "sts:AssumeRole"})
    assert writes == []


def test_the_role_template_is_read_only_and_trusts_one_account() -> None:
    result = irready("policy", "audit", "--cloudformation", "--org-role", "audit-ro")

    assert result.exit_code == 0, result.stderr
    template = json.loads(result.stdout)
    role = template["Resources"]["IrreadyAuditRole"]["Properties"]
    assert role["RoleName"] == "audit-ro"
    granted = actions(role["Policies"][0]["PolicyDocument"])
    assert granted
    assert all(READ.match(action.split(":")[1]) for action in granted)
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"]["AWS"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${TrustedAccountId}:root"}
    assert statement["Condition"]["Fn::If"][1] == {
        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert template["Parameters"]["TrustedAccountId"]["AllowedPattern"] == "^[0-9]{12}$"


def test_the_callers_policy_assumes_only_the_audit_role() -> None:
    result = irready("policy", "audit", "--org", "--org-role", "audit-ro")

    assert result.exit_code == 0, result.stderr
    statements = json.loads(result.stdout)["Statement"]
    assume = [s for s in statements if "sts:AssumeRole" in s["Action"]]
    assert [s["Resource"] for s in assume] == ["arn:aws:iam::*:role/audit-ro"]
