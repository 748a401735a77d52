"""--revoke-sessions and --revoke-roles: the deny documents (moto's IAM enforcement
treats every Condition as matched, so the deny's effect is asserted on its document: a
Deny of everything to credentials whose aws:TokenIssueTime is before the moment it was
put, after the exposed key was verified inactive), the refusals, undo and release."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from containkit import ACCOUNT, APP_USER, TARGET, Account

from auditor.clock import parse_iso, utcnow
from auditor.config import Config
from auditor.errors import NotFound, UsageError
from auditor.store import HistoryStore
from incident.contain.model import REVOKE_POLICY, ContainOptions, ContainStatus
from incident.contain.run import plan_containment, run_containment
from incident.contain.undo import release_containment, undo_containment

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "sts:AssumeRole"}]})


def options(account: Account, **kwargs: object) -> ContainOptions:
    defaults: dict[str, object] = {"key_id": account.leaked[0], "target": TARGET,
                                   "investigate": False, "propagation_timeout": 1.0,
                                   "revoke_sessions": True}
    return ContainOptions(**{**defaults, **kwargs})  # type: ignore[arg-type]


def deny_of(document: dict[str, object]) -> str:
    (statement,) = document["Statement"]  # type: ignore[misc]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "*"
    assert statement["Resource"] == "*"
    (condition,) = statement["Condition"].items()
    assert condition[0] == "DateLessThan"
    return str(condition[1]["aws:TokenIssueTime"])


def test_sessions_are_revoked_after_the_key_is_inactive(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    iam = account.admin.client("iam")
    iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=TRUST)
    before = utcnow()
    record = run_containment(account.ctx(), contain_config, history,
                             options(account, revoke_roles=("ops-admin",)),
                             sleep=lambda _: None)
    assert record.status == ContainStatus.SAFE, record.journal
    user_deny = iam.get_user_policy(UserName=APP_USER, PolicyName=REVOKE_POLICY)
    role_deny = iam.get_role_policy(RoleName="ops-admin", PolicyName=REVOKE_POLICY)
    for document in (user_deny["PolicyDocument"], role_deny["PolicyDocument"]):
        moment = parse_iso(deny_of(document))
        assert before <= moment <= utcnow()
        verified = next(e for e in record.journal["actions"] if e["name"] == "verify_blocked")
        assert parse_iso(verified["finished_at"]) <= moment  # after the key is inactive
    new_id, new_secret = account.held()
    assert account.works(new_id, new_secret)  # a long-term key carries no TokenIssueTime

    with pytest.raises(UsageError) as early:
        release_containment(account.ctx(), history, record.containment_id)
    assert "36 h" in early.value.message
    later = release_containment(account.ctx(), history, record.containment_id,
                                clock=lambda: utcnow() + timedelta(hours=37))
    assert iam.list_user_policies(UserName=APP_USER)["PolicyNames"] == ["ses"]
    assert iam.list_role_policies(RoleName="ops-admin")["PolicyNames"] == []
    assert [u["subject"] for u in later.journal["undo"]] == [APP_USER, "ops-admin"]
    assert account.key_states()[account.leaked[0]] == "Inactive"  # release keeps the key off


def test_undo_removes_the_denies_and_reactivates_the_key(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    record = run_containment(account.ctx(), contain_config, history, options(account),
                             sleep=lambda _: None)
    undone = undo_containment(account.ctx(), contain_config, history, record.containment_id)
    assert undone.status == ContainStatus.UNDONE
    iam = account.admin.client("iam")
    assert iam.list_user_policies(UserName=APP_USER)["PolicyNames"] == ["ses"]
    assert account.key_states()[account.leaked[0]] == "Active"
    assert account.works(*account.held())


@pytest.mark.parametrize(("role", "expected"), [
    pytest.param("AWSReservedSSO_Admin_0123456789abcdef", "an IAM Identity Center role",
                 id="an IAM Identity Center role"),
    pytest.param("arn:aws:iam::210987654321:role/ops-admin",
                 "a role of account 210987654321, not 123456789012", id="another account"),
    pytest.param("service-linked", "a service-linked role", id="a service-linked role"),
])
def test_roles_irready_may_not_change_are_refused(
        account: Account, contain_config: Config, history: HistoryStore, role: str,
        expected: str) -> None:
    if role == "service-linked":
        made = account.admin.client("iam").create_service_linked_role(
            AWSServiceName="autoscaling.amazonaws.com")
        role = made["Role"]["RoleName"]
    before = account.key_states()
    with pytest.raises(UsageError) as refused:
        run_containment(account.ctx(), contain_config, history,
                        options(account, revoke_roles=(role,)))
    assert expected in refused.value.message
    assert account.key_states() == before
    assert history.containments() == []


def test_an_unknown_role_is_not_found(account: Account, contain_config: Config,
                                      history: HistoryStore) -> None:
    with pytest.raises(NotFound) as refused:
        plan_containment(account.ctx(), contain_config, history,
                         options(account, revoke_roles=("no-such-role",)))
    assert "no-such-role" in refused.value.message
