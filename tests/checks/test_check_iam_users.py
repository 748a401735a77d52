"""The checks of IAM users: console MFA, key age, unused keys, the key inventory and
AWS's quarantine policy. Logic on fact values; the credential report and the
quarantined users read from moto (ages moved back in moto's backend, since moto stamps
every key "now")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from factbuilders import ACCOUNT, days_ago, evaluate, key, only, report, statuses, user

from auditor.awsfacts.iam import (
    CREDENTIAL_REPORT,
    QUARANTINE_POLICY_ARNS,
    QUARANTINED_USERS,
    CredentialReport,
    CredentialRow,
)
from auditor.config import AuditSettings, Config, InventoryEntry
from auditor.facts import Facts
from auditor.models import Status
from auditor.runner import run_check
from checks import access_keys, inventory, mfa

ROOT = replace(user("<root_account>", password=True), arn=f"arn:aws:iam::{ACCOUNT}:root")


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


# -- iam.console_mfa ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("rows", "failing"),
    [
        pytest.param((user("alice", password=True, mfa=True),), [],
                     id="console user with MFA"),
        pytest.param((user("admin-user", password=True),), ["admin-user"],
                     id="console user without MFA"),
        pytest.param((user("former-admin", password=False),), [],
                     id="a user whose console password was removed"),
        pytest.param((user("app", keys=(key(),)),), [], id="an API-only user with a key"),
        pytest.param((ROOT,), [], id="root is left to iam.root_mfa"),
        pytest.param((user("a", password=True), user("b", password=True, mfa=True),
                      user("c", password=True)), ["a", "c"],
                     id="one finding per console user without MFA"),
    ],
)
def test_console_mfa(rows: tuple[CredentialRow, ...], failing: list[str]) -> None:
    findings = evaluate(mfa.console_mfa, {CREDENTIAL_REPORT: report(*rows)})
    if failing:
        assert [f.resource for f in findings] == [arn(name) for name in failing]
        assert all(f.status is Status.FAIL for f in findings)
        assert findings[0].message == f"{failing[0]} can sign in to the console without MFA."
    else:
        assert statuses(findings) == [Status.PASS]


# -- iam.access_key_age ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("keys", "expected", "words"),
    [
        pytest.param((key(age_days=10),), Status.PASS, "All 1 active key(s) are within the 90",
                     id="a fresh key"),
        pytest.param((key(age_days=120),), Status.FAIL, "app: key 1 is 120 days old (limit 90).",
                     id="an active key older than 90 days"),
        pytest.param((key(age_days=400, active=False),), Status.PASS, "All 0 active key(s)",
                     id="an old but inactive key"),
        pytest.param((key(1, age_days=5), key(2, age_days=200)), Status.FAIL,
                     "key 2 is 200 days old", id="the second key of a user is old"),
        pytest.param((key(age_days=89.5),), Status.PASS, "within the 90-day limit",
                     id="a key just inside the limit"),
        pytest.param((key(age_days=None),), Status.PASS, "within the 90-day limit",
                     id="a key without a creation date in the report"),
    ],
)
def test_access_key_age(keys: tuple[Any, ...], expected: Status, words: str) -> None:
    finding = only(evaluate(access_keys.access_key_age,
                            {CREDENTIAL_REPORT: report(user("app", keys=keys))}))
    assert finding.status is expected
    assert words in finding.message


def test_access_key_age_follows_the_configured_limit() -> None:
    config = replace(Config(), audit=AuditSettings(key_max_age_days=30))
    facts = {CREDENTIAL_REPORT: report(user("app", keys=(key(age_days=45),)))}
    assert statuses(evaluate(access_keys.access_key_age, facts, config=config)) == [Status.FAIL]
    assert statuses(evaluate(access_keys.access_key_age, facts)) == [Status.PASS]


def test_key_ages_are_judged_at_the_audit_time_not_the_wall_clock() -> None:
    """A key 120 days old today was 60 days old at an audit replayed two months ago."""
    facts = Facts.from_values({CREDENTIAL_REPORT: report(user("app", keys=(key(age_days=120),)))},
                              now=days_ago(60))
    finding = only(run_check(access_keys.access_key_age, facts, Config()))
    assert finding.status is Status.PASS, finding.message


def test_a_run_hands_its_clock_to_the_checks() -> None:
    from datetime import UTC, datetime

    from auditor.runner import run_audit

    at = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    facts = Facts.from_values(
        {CREDENTIAL_REPORT: report(user("app", keys=(key(age_days=None, used_days_ago=None),)))})
    run_audit(facts, [access_keys.access_key_age], Config(), clock=lambda: at)
    assert facts.now == at


# -- iam.unused_access_keys -----------------------------------------------------------

@pytest.mark.parametrize(
    ("keys", "expected", "words"),
    [
        pytest.param((key(age_days=300, used_days_ago=1),), Status.PASS,
                     "used within the last 45 days", id="an old key used yesterday"),
        pytest.param((key(age_days=300, used_days_ago=60),), Status.FAIL,
                     "app: key 1 last used 60 days ago (limit 45).",
                     id="a key last used 60 days ago"),
        pytest.param((key(age_days=100, used_days_ago=None),), Status.FAIL,
                     "key 1 never used, created 100 days ago",
                     id="a never-used key counts from its creation"),
        pytest.param((key(age_days=10, used_days_ago=None),), Status.PASS,
                     "used within the last 45 days", id="a never-used key created last week"),
        pytest.param((key(age_days=300, used_days_ago=None, active=False),), Status.PASS,
                     "used within", id="an unused key that is already inactive"),
        pytest.param((key(1, used_days_ago=2), key(2, age_days=90, used_days_ago=None)),
                     Status.FAIL, "key 2 never used",
                     id="a spare second key nobody uses"),
    ],
)
def test_unused_access_keys(keys: tuple[Any, ...], expected: Status, words: str) -> None:
    finding = only(evaluate(access_keys.unused_access_keys,
                            {CREDENTIAL_REPORT: report(user("app", keys=keys))}))
    assert finding.status is expected
    assert words in finding.message


# -- iam.key_inventory ----------------------------------------------------------------

MAILER = InventoryEntry(user="mailer", owner="mail-team@example.com",
                        rotation_target="secretsmanager:prod/mailer", application="mailer")


@pytest.mark.parametrize(
    ("entries", "rows", "expected", "words"),
    [
        pytest.param((MAILER,), (user("mailer", keys=(key(),)),), [Status.PASS],
                     "All 1 user(s) with active keys are in the inventory",
                     id="a mapped key"),
        pytest.param((), (user("mailer", keys=(key(),)),), [Status.FAIL],
                     "mailer has 1 active key(s) and no inventory entry",
                     id="an unmapped key"),
        pytest.param((replace(MAILER, owner=" "),), (user("mailer", keys=(key(),)),),
                     [Status.FAIL], "its inventory entry has no owner",
                     id="an entry with a blank owner"),
        pytest.param((replace(MAILER, owner="", rotation_target=""),),
                     (user("mailer", keys=(key(),)),), [Status.FAIL],
                     "has no owner and no rotation target", id="an entry that maps nothing"),
        pytest.param((), (user("retired", keys=(key(active=False),)), user("human", password=True)),
                     [Status.PASS], "All 0 user(s)",
                     id="users without an active key need no entry"),
        pytest.param((MAILER,), (user("mailer", keys=(key(),)), user("batch", keys=(key(),))),
                     [Status.FAIL], "batch has 1 active key(s)",
                     id="one mapped user and one unmapped"),
    ],
)
def test_key_inventory(entries: tuple[InventoryEntry, ...], rows: tuple[CredentialRow, ...],
                       expected: list[Status], words: str) -> None:
    config = replace(Config(), inventory=entries)
    findings = evaluate(inventory.key_inventory, {CREDENTIAL_REPORT: report(*rows)},
                        config=config)
    assert statuses(findings) == expected
    assert words in findings[0].message


# -- iam.quarantine_policy ------------------------------------------------------------

V2 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
V3 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"


def test_quarantine_policy_absent_passes() -> None:
    finding = only(evaluate(access_keys.quarantine_policy, {QUARANTINED_USERS: ()}))
    assert (finding.status, finding.message) == (
        Status.PASS, "No user carries a quarantine policy.")


def test_quarantined_user_fails_once_naming_every_policy() -> None:
    findings = evaluate(access_keys.quarantine_policy, {QUARANTINED_USERS: (
        ("app-integration-user", V2, ""), ("app-integration-user", V3, ""),
        ("batch", V2, ""))})
    assert statuses(findings) == [Status.FAIL, Status.FAIL]
    assert findings[0].resource == arn("app-integration-user")
    assert findings[0].message == (
        "AWS quarantined app-integration-user (AWSCompromisedKeyQuarantineV2, "
        "AWSCompromisedKeyQuarantineV3): its key was found exposed; an incident is open.")


def test_a_quarantine_irready_attached_is_told_from_aws_s() -> None:
    (finding,) = evaluate(access_keys.quarantine_policy, {QUARANTINED_USERS: (
        ("app-integration-user", V3, "20261206-140000-abcdef"),)})
    assert finding.status is Status.FAIL
    assert finding.message == (
        "irready quarantined app-integration-user (AWSCompromisedKeyQuarantineV3) in "
        "containment 20261206-140000-abcdef: an incident is open.")
    assert finding.evidence["attached_by"] == "irready"


# -- from moto ------------------------------------------------------------------------

def age_keys(name: str, days_old: int, used_days_ago: int | None = None) -> None:
    """Move a moto user's keys back in time (moto stamps every key "now")."""
    from moto.core.utils import utcnow
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    for access_key in iam_backends[ACCOUNT]["global"].users[name].access_keys:
        access_key.create_date = utcnow() - timedelta(days=days_old)
        if used_days_ago is not None:
            access_key.last_used = AccessKeyLastUsed(
                timestamp=utcnow() - timedelta(days=used_days_ago), service="ses",
                region="us-east-1")


@pytest.fixture
def people(aws: Any) -> Any:
    """An account with the users a real one has."""
    iam = aws.client("iam")
    for name in ("admin-user", "former-admin", "mfa-admin", "app-integration-user",
                 "old-inactive", "never-used"):
        iam.create_user(UserName=name)
    for name in ("admin-user", "former-admin", "mfa-admin"):
        iam.create_login_profile(UserName=name, Password="Not-a-real-passw0rd!")
    iam.delete_login_profile(UserName="former-admin")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-admin")["VirtualMFADevice"]
    iam.enable_mfa_device(UserName="mfa-admin", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1="123456", AuthenticationCode2="654321")
    iam.create_access_key(UserName="app-integration-user")
    age_keys("app-integration-user", days_old=412, used_days_ago=1)
    old = iam.create_access_key(UserName="old-inactive")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="old-inactive", AccessKeyId=old, Status="Inactive")
    age_keys("old-inactive", days_old=500, used_days_ago=400)
    iam.create_access_key(UserName="never-used")
    age_keys("never-used", days_old=100)
    return iam


def test_credential_report_read_from_moto(people: Any, live_facts: Callable[..., Facts]) -> None:
    credential_report: CredentialReport = live_facts().get(CREDENTIAL_REPORT)
    rows = {row.user: row for row in credential_report.users}
    assert rows["admin-user"].password_enabled is True
    assert rows["former-admin"].password_enabled is False
    assert rows["mfa-admin"].mfa_active is True
    assert [k.active for k in rows["old-inactive"].keys] == [False, False]
    assert rows["never-used"].active_keys[0].last_used is None
    assert rows["app-integration-user"].active_keys[0].last_used is not None


def test_user_checks_on_a_moto_account(people: Any, live_facts: Callable[..., Facts]) -> None:
    facts = live_facts()
    failing = {
        check.id: sorted(f.resource.rsplit("/", 1)[-1]
                         for f in run_check(check, facts, facts.config)
                         if f.status is Status.FAIL)
        for check in (mfa.console_mfa, access_keys.access_key_age,
                      access_keys.unused_access_keys, inventory.key_inventory)
    }
    assert failing == {
        "iam.console_mfa": ["admin-user"],
        "iam.access_key_age": ["app-integration-user", "never-used"],
        "iam.unused_access_keys": ["never-used"],
        "iam.key_inventory": ["app-integration-user", "never-used"],
    }


def test_quarantine_policy_attached_in_moto(aws: Any, quarantine_policy: str,
                                            live_facts: Callable[..., Facts],
                                            api_calls: list[str]) -> None:
    iam = aws.client("iam")
    for name in ("app-integration-user", "bystander"):
        iam.create_user(UserName=name)
    iam.attach_user_policy(UserName="app-integration-user", PolicyArn=quarantine_policy)
    facts = live_facts()

    assert facts.get(QUARANTINED_USERS) == (("app-integration-user", quarantine_policy, ""),)
    finding = only(run_check(access_keys.quarantine_policy, facts, facts.config))
    assert finding.status is Status.FAIL
    assert finding.resource == arn("app-integration-user")
    assert api_calls.count("iam:ListEntitiesForPolicy") == len(QUARANTINE_POLICY_ARNS), (
        "one call per policy version, none per user")


def test_a_quarantine_policy_version_missing_from_the_partition_is_skipped(
        aws: Any, quarantine_policy: str, live_facts: Callable[..., Facts], deny: Any) -> None:
    deny("iam", "ListEntitiesForPolicy", code="NoSuchEntity", status=404,
         message=f"Policy {V3} does not exist or is not attachable.",
         when=lambda params: params.get("PolicyArn") == V3)
    aws.client("iam").create_user(UserName="clean")
    finding = only(run_check(access_keys.quarantine_policy, live_facts(), Config()))
    assert finding.status is Status.PASS


def test_quarantine_policies_are_looked_up_in_the_account_partition(aws: Any) -> None:
    """In China or GovCloud the policy ARNs are arn:aws-cn:... / arn:aws-us-gov:...; an
    arn:aws: ARN names no policy there, and the check passed without looking."""
    import boto3

    from auditor.session import AwsContext

    session = boto3.Session(region_name="cn-north-1")
    asked: list[str] = []
    session.events.register("provide-client-params.iam.ListEntitiesForPolicy",
                            lambda params, **_: asked.append(params["PolicyArn"]))
    facts = Facts(AwsContext(session=session, max_attempts=2), Config(), account_id=ACCOUNT)

    assert facts.get(QUARANTINED_USERS) == ()
    assert asked == [policy.replace("arn:aws:", "arn:aws-cn:", 1)
                     for policy in QUARANTINE_POLICY_ARNS]
