"""--quarantine (the newest AWS quarantine policy the partition has; moto has V3 but no
V4, so the fallback is what runs) and --contain-follow-ups (backdoor keys deactivated,
backdoor login profiles deleted, users never deleted); undo detaches only a quarantine
policy irready attached."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from containkit import APP_USER, TARGET, Account

from auditor.clock import utcnow
from auditor.config import Config
from auditor.errors import UsageError
from auditor.store import HistoryStore
from incident.contain.model import ContainOptions, ContainStatus
from incident.contain.run import plan_containment, run_containment
from incident.contain.undo import undo_containment

V3 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"


def audit_says(account: Account) -> str:
    """The message of iam.quarantine_policy, audited as the admin."""
    from dataclasses import replace as with_

    from auditor.audit import perform_audit
    from auditor.config import AuditSettings
    from auditor.registry import discover
    from auditor.session import AwsContext
    from auditor.store import HistoryStore as Store

    config = with_(Config(), audit=AuditSettings(regions=("us-east-1",)))
    with Store(account.tmp / "audit.sqlite3") as store:
        run = perform_audit(AwsContext(session=account.admin), config, discover(),
                            only=("iam.quarantine_policy",), history=store).run
    (finding,) = [f for f in run.findings if f.check_id == "iam.quarantine_policy"]
    return str(finding.message)


def options(account: Account, **kwargs: object) -> ContainOptions:
    defaults: dict[str, object] = {"key_id": account.leaked[0], "target": TARGET,
                                   "investigate": False, "propagation_timeout": 1.0,
                                   "quarantine": True}
    return ContainOptions(**{**defaults, **kwargs})  # type: ignore[arg-type]


def attached(account: Account, user: str = APP_USER) -> list[str]:
    listed = account.admin.client("iam").list_attached_user_policies(UserName=user)
    return [p["PolicyArn"] for p in listed["AttachedPolicies"]]


def test_the_newest_quarantine_policy_is_attached_and_undone(
        managed_policies: None, account: Account, contain_config: Config,
        history: HistoryStore) -> None:
    plan = plan_containment(account.ctx(), contain_config, history, options(account))
    assert any("SES keeps sending" in note for note in plan.notes)
    record = run_containment(account.ctx(), contain_config, history, options(account),
                             sleep=lambda _: None)
    assert record.status == ContainStatus.SAFE, record.journal
    assert attached(account) == [V3]  # no V4 in moto: V3 is the newest
    quarantine = next(e for e in record.journal["actions"] if e["name"] == "quarantine")
    assert quarantine["detail"] == {"policy_arn": V3, "attached_by_irready": True}
    assert audit_says(account) == (f"irready quarantined {APP_USER} "
                                   f"(AWSCompromisedKeyQuarantineV3) in containment "
                                   f"{record.containment_id}: an incident is open.")
    undo_containment(account.ctx(), contain_config, history, record.containment_id)
    assert attached(account) == []
    tags = account.admin.client("iam").list_user_tags(UserName=APP_USER)["Tags"]
    assert tags == []


def test_undo_never_detaches_a_quarantine_aws_attached(
        managed_policies: None, account: Account, contain_config: Config,
        history: HistoryStore) -> None:
    account.admin.client("iam").attach_user_policy(UserName=APP_USER, PolicyArn=V3)
    record = run_containment(account.ctx(), contain_config, history, options(account),
                             sleep=lambda _: None)
    quarantine = next(e for e in record.journal["actions"] if e["name"] == "quarantine")
    assert quarantine["detail"]["attached_by_irready"] is False
    assert audit_says(account).startswith(f"AWS quarantined {APP_USER}")
    undo_containment(account.ctx(), contain_config, history, record.containment_id)
    assert attached(account) == [V3]


def test_without_any_quarantine_policy_the_plan_is_refused(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    with pytest.raises(UsageError) as refused:
        plan_containment(account.ctx(), contain_config, history, options(account))
    assert "has none of AWSCompromisedKeyQuarantineV4" in refused.value.message


def test_follow_ups_are_contained_and_users_kept(account: Account, contain_config: Config,
                                                 history: HistoryStore) -> None:
    from investigationkit import sample_investigation

    from incident.investigate.model import FollowUp
    from incident.investigate.stored import store_investigation

    iam = account.admin.client("iam")
    iam.create_user(UserName="backdoor-user")
    backdoor = iam.create_access_key(UserName="backdoor-user")["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName="backdoor-user", Password="Not-a-real-passw0rd!")
    now = utcnow()
    found: Any = replace(sample_investigation(), key=account.leaked[0], started_at=now,
                         finished_at=now, follow_ups=(
        FollowUp("user", "backdoor-user", "e1", now, "aws iam delete-user ..."),
        FollowUp("access_key", backdoor, "e2", now, "aws iam update-access-key ..."),
        FollowUp("login_profile", "backdoor-user", "e3", now, "aws iam delete-login-profile")))
    store_investigation(history, found)
    chosen = options(account, quarantine=False, investigate=True, contain_follow_ups=True)
    record = run_containment(account.ctx(), contain_config, history, chosen,
                             sleep=lambda _: None)
    assert record.status == ContainStatus.SAFE, record.journal
    keys = iam.list_access_keys(UserName="backdoor-user")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(backdoor, "Inactive")]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="backdoor-user")
    assert iam.get_user(UserName="backdoor-user")["User"]["UserName"] == "backdoor-user"
    assert any("user" in note for note in record.journal["plan"]["notes"])
