"""The promises an audit makes to the account it reads: it only reads, the shipped
least-privilege policy is enough (and nothing more than needed), a missing permission
costs only the checks that need it, and the number of API calls does not grow with the
number of IAM users."""

from __future__ import annotations

import collections
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from auditkit import (
    ACCOUNT,
    iam_action,
    policy_actions,
    record_calls,
    seed_account,
    seed_users_in_backend,
    shipped_policy,
)

from auditor.audit import perform_audit
from auditor.awsfacts.account import REGIONS
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import AuditRun, Status
from auditor.registry import discover
from auditor.session import AwsContext
from auditor.store import HistoryStore

READ = re.compile(r"^(List|Get|Describe|Head)[A-Z]")
READ_EXCEPTIONS = {"GenerateCredentialReport"}  # asks IAM to build a report; changes nothing

EnforceIam = Callable[[], AbstractContextManager[None]]


def audit(session: Any, config: Config, store: HistoryStore | None = None) -> AuditRun:
    ctx = AwsContext(session=session, max_attempts=2)
    return perform_audit(ctx, config, discover(plugins=False), history=store).run


def regions_read(session: Any) -> tuple[str, ...]:
    """The REGIONS fact with no configured regions: the test audits are narrowed to two
    regions to stay fast, so ec2:DescribeRegions is exercised here."""
    ctx = AwsContext(session=session, max_attempts=2)
    return Facts(ctx, Config(), account_id=ACCOUNT).get(REGIONS)


def statuses(run: AuditRun) -> dict[str, set[Status]]:
    found: dict[str, set[Status]] = collections.defaultdict(set)
    for finding in run.findings:
        found[finding.check_id].add(finding.status)
    return dict(found)


def test_a_full_audit_only_reads(seeded: Any, api_calls: list[str], config: Config,
                                 store: HistoryStore) -> None:
    run = audit(seeded, config, store)
    regions_read(seeded)

    operations = {call.split(":")[1] for call in api_calls}
    writes = sorted(op for op in operations if not READ.match(op) and op not in READ_EXCEPTIONS)
    assert writes == []
    # the audit really exercised every area, so the assertion above means something
    services = {call.split(":")[0] for call in api_calls}
    assert services >= {"sts", "ec2", "iam", "cloudtrail", "s3", "glue", "guardduty", "account",
                        "organizations"}
    assert {f.check_id for f in run.findings} == {c.id for c in discover(plugins=False)}


def test_the_shipped_policy_is_enough_and_no_more(
    seeded: Any, user_with_policy: Callable[[dict[str, Any]], Any], enforce_iam: EnforceIam,
    config: Config, store: HistoryStore,
) -> None:
    policy = shipped_policy()
    auditor_session = user_with_policy(policy)
    calls = record_calls(auditor_session)
    quarantine_a_user(seeded)  # so the quarantine check reads the user's tags

    with enforce_iam():
        run = audit(auditor_session, config, store)
        assert regions_read(auditor_session)

    errors = [(f.check_id, f.message) for f in run.findings if f.status is Status.ERROR]
    assert errors == []
    assert run.caller_arn.endswith(":user/auditor-0")
    needed = {iam_action(call) for call in calls}
    assert needed <= policy_actions(policy), "the audit made calls the policy does not grant"
    assert policy_actions(policy) <= needed, "the policy grants actions the audit never uses"


@pytest.mark.parametrize(
    ("removed", "affected"),
    [
        pytest.param("account:GetAlternateContact", {"account.alternate_contacts"},
                     id="no alternate contacts"),
        pytest.param("s3:GetBucketLogging", {"cloudtrail.bucket_access_logging"},
                     id="no bucket logging"),
        pytest.param("guardduty:ListDetectors", {"guardduty.enabled"}, id="no GuardDuty"),
        pytest.param("iam:GetCredentialReport",
                     {"iam.console_mfa", "iam.access_key_age", "iam.unused_access_keys",
                      "iam.key_inventory", "iam.root_mfa", "iam.root_access_keys"},
                     id="no credential report"),
    ],
)
def test_a_missing_permission_costs_only_the_checks_that_need_it(
    seeded: Any, user_with_policy: Callable[[dict[str, Any]], Any], enforce_iam: EnforceIam,
    config: Config, store: HistoryStore, removed: str, affected: set[str],
) -> None:
    policy = shipped_policy()
    statement = policy["Statement"][0]
    statement["Action"] = [action for action in statement["Action"] if action != removed]
    auditor_session = user_with_policy(policy)

    with enforce_iam():
        run = audit(auditor_session, config, store)

    by_check = statuses(run)
    errored = {check for check, found in by_check.items() if Status.ERROR in found}
    assert errored == affected
    for finding in run.findings:
        if finding.check_id in affected:
            assert finding.status is Status.ERROR
            assert removed in finding.message, finding.message
    # every other check ran to a verdict
    assert set(by_check) == {c.id for c in discover(plugins=False)}


def test_the_call_count_does_not_grow_with_the_number_of_users(config: Config) -> None:
    import boto3
    from moto import mock_aws

    counts = {}
    for users in (10, 500):
        with mock_aws():
            session = boto3.Session(region_name="us-east-1")
            seed_account(session, users=0)
            seed_users_in_backend(users)
            calls = record_calls(session)
            run = audit(session, config)
            counts[users] = collections.Counter(calls)
            console_users = [f for f in run.findings
                             if f.check_id == "iam.console_mfa" and f.status is Status.FAIL]
            assert len(console_users) == users // 2  # every user was really seen
    assert counts[10] == counts[500]
    assert sum(counts[10].values()) > 10


def quarantine_a_user(session: Any) -> None:
    """AWS's AWSCompromisedKeyQuarantineV2 on a user (moto loads no managed policy unless
    asked; this adds the one)."""
    import json

    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    name = "AWSCompromisedKeyQuarantineV2"
    data = json.loads(aws_managed_policies_data)[name]
    quarantine = AWSManagedPolicy.from_data(name, "123456789012", "us-east-1", data)
    iam_backends["123456789012"]["global"].managed_policies[quarantine.arn] = quarantine
    iam = session.client("iam")
    iam.create_user(UserName="quarantined-user")
    iam.attach_user_policy(UserName="quarantined-user", PolicyArn=quarantine.arn)
