"""`irready policy contain`, proved under moto's IAM enforcement: an operator holding only
its actions contains a key end to end, and every call the containment makes is one the
policy allows. (moto matches IAM resources only against "*": the resources are widened
here, and their scoping is checked on the document itself.)"""

from __future__ import annotations

import json

import clikit
import pytest
from containkit import APP_USER, TARGET, Account
from drillkit import session

from auditor.config import Config
from auditor.session import AwsContext
from auditor.store import HistoryStore
from drills.policy import policy_actions
from incident.contain.model import ContainOptions, ContainStatus
from incident.contain.policy import contain_policy
from incident.contain.run import run_containment
from incident.contain.undo import undo_containment


def test_the_policy_alone_is_enough_and_covers_every_call(
        managed_policies: None, account: Account, contain_config: Config,
        history: HistoryStore) -> None:
    document = contain_policy([APP_USER], [TARGET], ["ops-admin"])
    for statement in document["Statement"]:
        statement["Resource"] = "*"
    iam = account.admin.client("iam")
    iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}))
    iam.create_user(UserName="responder")
    iam.put_user_policy(UserName="responder", PolicyName="contain",
                        PolicyDocument=json.dumps(document))
    made = iam.create_access_key(UserName="responder")["AccessKey"]
    responder = session(made["AccessKeyId"], made["SecretAccessKey"])
    calls: list[str] = []
    responder.events.register("before-call.*.*", lambda model, **_: calls.append(
        f"{model.service_model.service_name}:{model.name}"))
    record = run_containment(
        AwsContext(session=responder, max_attempts=2), contain_config, history,
        ContainOptions(account.leaked[0], target=TARGET, investigate=False,
                       propagation_timeout=1.0, revoke_sessions=True,
                       revoke_roles=("ops-admin",), quarantine=True),
        sleep=lambda _: None)
    assert record.status == ContainStatus.SAFE, record.journal
    undone = undo_containment(AwsContext(session=responder, max_attempts=2), contain_config,
                              history, record.containment_id)
    assert undone.status == ContainStatus.UNDONE
    assert set(calls) <= policy_actions(document), set(calls) - policy_actions(document)


def test_the_policy_is_scoped_to_the_users_and_roles_named() -> None:
    document = contain_policy([APP_USER], [TARGET], ["ops-admin"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    for sid in ("IrreadyContainRotateUserKeys", "IrreadyContainRevokeUserSessions"):
        assert by_sid[sid]["Resource"] == [f"arn:aws:iam::*:user/{APP_USER}",
                                           f"arn:aws:iam::*:user/*/{APP_USER}"]
    assert by_sid["IrreadyContainRevokeRoleSessions"]["Resource"] == [
        "arn:aws:iam::*:role/ops-admin", "arn:aws:iam::*:role/*/ops-admin"]
    assert "IrreadyContainRevokeRoleSessions" not in {
        s["Sid"] for s in contain_policy([APP_USER], [TARGET])["Statement"]}


@pytest.mark.parametrize(("args", "message"), [
    pytest.param([], "name the users whose keys may be contained (--user NAME, repeatable), "
                 "or pass --all-users for a break-glass role", id="no user"),
    pytest.param(["--all-users", "--user", APP_USER], "--all-users and --user: choose one",
                 id="both"),
])
def test_policy_contain_bad_input(args: list[str], message: str) -> None:
    result = clikit.irready("policy", "contain", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"irready: error: {message}"]


def test_policy_contain_for_a_break_glass_role() -> None:
    result = clikit.irready("policy", "contain", "--all-users")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    keys = next(s for s in document["Statement"] if s["Sid"] == "IrreadyContainRotateUserKeys")
    assert keys["Resource"] == ["arn:aws:iam::*:user/*", "arn:aws:iam::*:user/*/*"]
