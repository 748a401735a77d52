"""The account snapshot a complete audit keeps: what it learned about the account,
read back from the history store as the incident kit will, without asking AWS again.
A partial run keeps none; a read that failed, or that the audit never made, leaves its
part unknown and says so."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from auditkit import ACCOUNT, TRAIL_BUCKET, shipped_policy

from auditor.audit import perform_audit
from auditor.awsfacts.account import ALTERNATE_CONTACTS, REGIONS
from auditor.awsfacts.cloudtrail import TRAILS, Trail
from auditor.config import Config
from auditor.facts import FactError, Facts
from auditor.registry import discover
from auditor.session import AwsContext
from auditor.snapshot import (
    SCHEMA,
    AccountSnapshot,
    ActiveKey,
    AthenaTable,
    BucketRetention,
    ContactInfo,
    Expiration,
    Missing,
    Part,
    TrailInfo,
    build_snapshot,
)
from auditor.store import HistoryStore

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def audit(session: Any, config: Config, store: HistoryStore, only: tuple[str, ...] = ()
          ) -> int:
    ctx = AwsContext(session=session, max_attempts=2)
    run = perform_audit(ctx, config, discover(plugins=False), only=only, history=store,
                        clock=lambda: AT).run
    assert run.run_id is not None
    return run.run_id


def test_a_complete_audit_keeps_what_it_learned_about_the_account(
        seeded: Any, config: Config, store: HistoryStore) -> None:
    seeded.client("cloudtrail").update_trail(Name="main-trail", KmsKeyId=KMS_KEY)
    seeded.client("glue").create_table(DatabaseName="security_logs", TableInput={
        "Name": "cloudtrail_partitioned",
        "StorageDescriptor": {"Location": f"s3://{TRAIL_BUCKET}/AWSLogs/"},
        "PartitionKeys": [{"Name": "region", "Type": "string"},
                          {"Name": "day", "Type": "string"}],
    })
    run_id = audit(seeded, config, store)

    latest = store.latest_snapshot(ACCOUNT)
    assert latest is not None
    assert latest[0] == run_id
    snapshot = latest[1]
    assert snapshot.account_id == ACCOUNT
    assert snapshot.taken_at == AT
    assert snapshot.missing == ()
    assert snapshot.trails == (TrailInfo(
        name="main-trail", arn=f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main-trail",
        home_region="us-east-1", multi_region=True, organization=False, bucket=TRAIL_BUCKET,
        key_prefix="", kms_key_id=KMS_KEY, logging=True),)
    # the 30-day rule made the audit read Object Lock too: none on this bucket
    assert snapshot.retention == (BucketRetention(
        TRAIL_BUCKET, (Expiration("expire-logs", "AWSLogs/", 30, None, False),), 0),)
    assert snapshot.athena_tables == (
        AthenaTable("us-east-1", "security_logs", "cloudtrail",
                    f"s3://{TRAIL_BUCKET}/AWSLogs/", ()),
        AthenaTable("us-east-1", "security_logs", "cloudtrail_partitioned",
                    f"s3://{TRAIL_BUCKET}/AWSLogs/", ("region", "day")),
    )
    assert snapshot.regions == config.audit.regions
    assert snapshot.contacts == (
        ContactInfo("SECURITY", "Security team", "security@example.com"),)
    assert snapshot.guardduty is not None
    detectors = {region.region: region for region in snapshot.guardduty}
    assert set(detectors) == set(config.audit.regions)
    assert detectors["us-east-1"].enabled == tuple(
        seeded.client("guardduty").list_detectors()["DetectorIds"])
    assert detectors["eu-west-1"].enabled == ()

    iam = seeded.client("iam")
    expected = []
    for user in ("user-0", "user-1", "user-2"):
        (key,) = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        expected.append((user, 1, None, key["CreateDate"].replace(microsecond=0), None))
    assert snapshot.active_keys is not None
    assert [(k.user, k.slot, k.key_id, k.created and k.created.replace(microsecond=0),
             k.last_used) for k in snapshot.active_keys] == expected


def test_a_partial_run_keeps_no_snapshot(seeded: Any, config: Config,
                                         store: HistoryStore) -> None:
    audit(seeded, config, store, only=("iam",))
    assert store.latest_snapshot(ACCOUNT) is None


def test_a_run_that_is_not_saved_keeps_no_snapshot(seeded: Any, config: Config,
                                                   store: HistoryStore) -> None:
    ctx = AwsContext(session=seeded, max_attempts=2)
    perform_audit(ctx, config, discover(plugins=False), history=store, save=False)
    assert store.latest_snapshot(ACCOUNT) is None


def test_a_denied_read_leaves_its_part_unknown(
    seeded: Any, user_with_policy: Callable[[dict[str, Any]], Any],
    enforce_iam: Callable[[], AbstractContextManager[None]], config: Config,
    store: HistoryStore,
) -> None:
    policy = shipped_policy()
    statement = policy["Statement"][0]
    statement["Action"] = [a for a in statement["Action"] if a != "account:GetAlternateContact"]
    auditor_session = user_with_policy(policy)
    with enforce_iam():
        audit(auditor_session, config, store)

    latest = store.latest_snapshot(ACCOUNT)
    assert latest is not None
    snapshot = latest[1]
    assert snapshot.contacts is None
    assert snapshot.missing == (
        Missing(Part.CONTACTS, "access denied: needs account:GetAlternateContact"),)
    # every other part was read as usual
    assert snapshot.trails
    assert snapshot.regions
    assert snapshot.active_keys is not None


def test_a_fact_the_audit_never_read_is_unknown_and_never_fetched() -> None:
    denied = FactError(ALTERNATE_CONTACTS.name, "AccessDenied", "",
                       ("account:GetAlternateContact",))
    facts = Facts.from_values({REGIONS: ("us-east-1",), ALTERNATE_CONTACTS: denied})
    snapshot = build_snapshot(facts, AT)  # Facts.from_values has no AWS: a fetch would fail
    assert snapshot.regions == ("us-east-1",)
    assert snapshot.contacts is None
    assert snapshot.trails is None
    assert snapshot.retention is None
    assert snapshot.missing_parts() == set(Part) - {Part.REGIONS}
    reasons = {gap.part: gap.reason for gap in snapshot.missing}
    assert reasons[Part.CONTACTS] == "access denied: needs account:GetAlternateContact"
    assert reasons[Part.TRAILS] == "cloudtrail.trails was not read by this audit"
    assert reasons[Part.RETENTION] == "the trails are unknown"


def test_a_trail_bucket_whose_lifecycle_was_not_read_is_unknown() -> None:
    trail = Trail(name="main", arn=f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main",
                  home_region="us-east-1", multi_region=True, organization=False,
                  bucket="trail-bucket", prefix="", log_validation=True, logging=True,
                  management_read=True, management_write=True)
    facts = Facts.from_values({TRAILS: (trail,)})
    snapshot = build_snapshot(facts, AT)
    assert snapshot.retention == (BucketRetention("trail-bucket", None, None),)
    assert {gap.reason for gap in snapshot.missing if gap.part is Part.RETENTION} == {
        "trail-bucket: s3.lifecycle:trail-bucket was not read by this audit",
        "trail-bucket: s3.object_lock:trail-bucket was not read by this audit",
    }


def test_a_snapshot_round_trips_through_json() -> None:
    snapshot = AccountSnapshot(
        account_id=ACCOUNT, taken_at=AT,
        trails=(TrailInfo("t", "arn", "us-east-1", True, False, "b", "p", "", None),),
        retention=(BucketRetention("b", (Expiration("r", "", 0, 30, True),), None),),
        athena_tables=(), regions=("us-east-1",), contacts=None, guardduty=None,
        active_keys=(ActiveKey("u", 2, None, AT, None),),
        missing=(Missing(Part.CONTACTS, "denied"),),
    )
    assert AccountSnapshot.from_json(snapshot.to_json()) == snapshot


def test_a_snapshot_from_a_newer_irready_is_refused() -> None:
    body = AccountSnapshot(ACCOUNT, AT, None, None, None, None, None, None, None).to_json()
    newer = body.replace(f'"schema": {SCHEMA}', f'"schema": {SCHEMA + 1}')
    with pytest.raises(ValueError, match="newer"):
        AccountSnapshot.from_json(newer)


def test_the_latest_snapshot_is_the_newest_run_of_that_account(
        seeded: Any, config: Config, store: HistoryStore) -> None:
    first = audit(seeded, config, store)
    second = audit(seeded, config, store)
    latest = store.latest_snapshot(ACCOUNT)
    assert latest is not None
    assert latest[0] == second != first
    assert store.latest_snapshot("210987654321") is None
