"""cloudtrail.bucket_retention and cloudtrail.bucket_access_logging: which lifecycle
rules really delete CloudTrail logs, when Object Lock keeps them anyway, and how a bucket
this account cannot read is reported (ERROR with the reason, never FAIL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from factbuilders import ACCOUNT, OTHER_ACCOUNT, evaluate, only, statuses, trail

from auditor.awsfacts.cloudtrail import TRAILS, Trail
from auditor.awsfacts.s3 import (
    ExpirationRule,
    ObjectLock,
    bucket_lifecycle,
    bucket_logging,
    bucket_object_lock,
)
from auditor.config import AuditSettings, Config
from auditor.facts import FactError, Facts
from auditor.models import Status
from auditor.runner import run_check
from checks import s3_retention

BUCKET = "trail-bucket"
NO_LOCK = ObjectLock(enabled=False)


def rule(rule_id: str, days: int | None, prefix: str = "", *, tagged: bool = False,
         noncurrent: int | None = None, on_date: str = "") -> ExpirationRule:
    return ExpirationRule(rule_id, prefix, days, noncurrent, tagged, on_date)


def retention(rules: tuple[ExpirationRule, ...], lock: ObjectLock | FactError = NO_LOCK,
              trails: tuple[Trail, ...] = (trail(bucket=BUCKET),)) -> list[Any]:
    return evaluate(s3_retention.bucket_retention, {
        TRAILS: trails,
        bucket_lifecycle(BUCKET): rules,
        bucket_object_lock(BUCKET): lock,
    })


@pytest.mark.parametrize(
    ("rules", "lock", "expected", "words"),
    [
        pytest.param((), NO_LOCK, Status.PASS, "No lifecycle rule deletes logs",
                     id="no lifecycle configuration"),
        pytest.param((rule("keep", 400),), NO_LOCK, Status.PASS, "before 365 days",
                     id="whole-bucket rule longer than the retention"),
        pytest.param((rule("keep", 365),), NO_LOCK, Status.PASS, "No lifecycle rule",
                     id="whole-bucket rule of exactly the retention"),
        pytest.param((rule("expire-logs", 30),), NO_LOCK, Status.FAIL,
                     "Lifecycle rule 'expire-logs' on the whole bucket of trail-bucket deletes "
                     "CloudTrail logs after 30 days; 365 days are needed",
                     id="whole-bucket rule expires logs after 30 days"),
        pytest.param((rule("tmp", 7, "tmp/"),), NO_LOCK, Status.PASS, "No lifecycle rule",
                     id="a lifecycle rule on another prefix"),
        pytest.param((rule("logs", 90, "AWSLogs/"),), NO_LOCK, Status.FAIL,
                     "on prefix 'AWSLogs/'", id="a rule on the log prefix itself"),
        pytest.param((rule("one-account", 60, f"AWSLogs/{ACCOUNT}/CloudTrail/"),), NO_LOCK,
                     Status.FAIL, "after 60 days", id="a rule on part of the logs"),
        pytest.param((rule("tagged", 7, tagged=True),), NO_LOCK, Status.PASS,
                     "No lifecycle rule", id="a tag-filtered rule: log files carry no tags"),
        pytest.param((rule("old-versions", None, noncurrent=30),), NO_LOCK, Status.PASS,
                     "No lifecycle rule",
                     id="noncurrent versions only: CloudTrail never overwrites a log"),
        pytest.param((rule("tmp", 7, "tmp/"), rule("long", 100), rule("short", 30)), NO_LOCK,
                     Status.FAIL, "'short'", id="the shortest applying rule is named"),
        pytest.param((rule("cutoff", 0, on_date="2030-01-01"),), NO_LOCK, Status.FAIL,
                     "on 2030-01-01, whatever their age", id="an expiration date"),
        pytest.param((rule("expire-logs", 30),),
                     ObjectLock(enabled=True, mode="COMPLIANCE", days=730), Status.PASS,
                     "Object Lock (COMPLIANCE) keeps logs in trail-bucket for 730 days",
                     id="Object Lock retention long enough despite short lifecycle"),
        pytest.param((rule("expire-logs", 30),),
                     ObjectLock(enabled=True, mode="GOVERNANCE", days=90), Status.FAIL,
                     "after 30 days", id="Object Lock retention too short to help"),
        pytest.param((rule("expire-logs", 30),), ObjectLock(enabled=True), Status.FAIL,
                     "after 30 days", id="Object Lock on but without default retention"),
    ],
)
def test_bucket_retention(rules: tuple[ExpirationRule, ...], lock: ObjectLock,
                          expected: Status, words: str) -> None:
    finding = only(retention(rules, lock))
    assert finding.status is expected
    assert words in finding.message
    assert finding.resource == f"arn:aws:s3:::{BUCKET}"


def test_retention_follows_the_configured_days() -> None:
    config = replace(Config(), audit=AuditSettings(log_retention_days=30))
    findings = evaluate(s3_retention.bucket_retention, {
        TRAILS: (trail(bucket=BUCKET),), bucket_lifecycle(BUCKET): (rule("month", 30),),
    }, config=config)
    assert statuses(findings) == [Status.PASS]


def test_a_rule_on_the_trail_prefix_applies_and_one_beside_it_does_not() -> None:
    with_prefix = (trail(bucket=BUCKET, prefix="cloudtrail"),)
    assert statuses(retention((rule("ct", 10, "cloudtrail/"),), trails=with_prefix)) == [
        Status.FAIL]
    assert statuses(retention((rule("ct", 10, "cloudtrail-other/"),), trails=with_prefix)) == [
        Status.PASS]
    assert statuses(retention((rule("bare", 10, "AWSLogs/"),), trails=with_prefix)) == [
        Status.PASS], "AWSLogs/ at the bucket root is not where this trail writes"


def test_object_lock_is_not_read_when_no_rule_deletes_logs() -> None:
    denied = FactError(f"s3.object_lock:{BUCKET}", "AccessDenied", "",
                       ("s3:GetBucketObjectLockConfiguration",))
    assert statuses(retention((rule("long", 400),), lock=denied)) == [Status.PASS]
    finding = only(retention((rule("short", 30),), lock=denied))
    assert finding.status is Status.ERROR
    assert "needs s3:GetBucketObjectLockConfiguration" in finding.message


def test_trails_sharing_a_bucket_are_judged_once_per_prefix() -> None:
    trails = (trail("a", bucket=BUCKET), trail("b", bucket=BUCKET),
              trail("c", bucket=BUCKET, prefix="other"))
    findings = retention((rule("logs", 30, "AWSLogs/"),), trails=trails)
    assert statuses(findings) == [Status.FAIL, Status.PASS]
    assert [f.evidence["log_prefix"] for f in findings] == ["AWSLogs/", "other/AWSLogs/"]


@pytest.mark.parametrize(
    "trails",
    [pytest.param((), id="no trail"),
     pytest.param((trail(bucket=BUCKET, logging=False),), id="only a stopped trail")],
)
def test_retention_without_a_logging_trail(trails: tuple[Trail, ...]) -> None:
    assert statuses(retention((rule("short", 1),), trails=trails)) == [Status.NOT_APPLICABLE]


def test_cross_account_bucket_unreadable_is_error_with_reason() -> None:
    org_trail = trail("org-trail", account=OTHER_ACCOUNT, organization=True, bucket=BUCKET)
    denied = FactError(f"s3.lifecycle:{BUCKET}", "AccessDenied", "Access Denied",
                       ("s3:GetLifecycleConfiguration",))
    finding = only(retention(denied, trails=(org_trail,)))  # type: ignore[arg-type]
    assert finding.status is Status.ERROR
    assert finding.message == (
        f"Cannot read bucket {BUCKET}: access denied: needs s3:GetLifecycleConfiguration; it "
        f"is the bucket of trail org-trail of account {OTHER_ACCOUNT}, read from account "
        f"{ACCOUNT}: audit account {OTHER_ACCOUNT}, or grant this account read access to the "
        "bucket's configuration.")


def test_own_trail_with_unreadable_bucket_hints_at_a_central_bucket() -> None:
    denied = FactError(f"s3.lifecycle:{BUCKET}", "AccessDenied", "",
                       ("s3:GetLifecycleConfiguration",))
    finding = only(retention(denied))  # type: ignore[arg-type]
    assert finding.status is Status.ERROR
    assert "if the bucket belongs to another account (a central log archive)" in finding.message


def test_a_deleted_bucket_fails() -> None:
    missing = FactError(f"s3.lifecycle:{BUCKET}", "NoSuchBucket", "The specified bucket does "
                        "not exist", ("s3:GetLifecycleConfiguration",))
    finding = only(retention(missing))  # type: ignore[arg-type]
    assert finding.status is Status.FAIL
    assert "does not exist: the trail delivers its logs nowhere" in finding.message


# -- cloudtrail.bucket_access_logging --------------------------------------------------

@pytest.mark.parametrize(
    ("target", "expected", "words"),
    [
        pytest.param("access-logs", Status.PASS, "logs access to access-logs",
                     id="access logging to another bucket"),
        pytest.param("", Status.FAIL, "has no server access logging", id="no access logging"),
        pytest.param(FactError(f"s3.logging:{BUCKET}", "AccessDenied", "",
                               ("s3:GetBucketLogging",)),
                     Status.ERROR, "needs s3:GetBucketLogging", id="logging read denied"),
    ],
)
def test_bucket_access_logging(target: str | FactError, expected: Status, words: str) -> None:
    finding = only(evaluate(s3_retention.bucket_access_logging, {
        TRAILS: (trail(bucket=BUCKET), trail("second", bucket=BUCKET, prefix="x")),
        bucket_logging(BUCKET): target,
    }))
    assert finding.status is expected
    assert words in finding.message


# -- the bucket facts, read from moto --------------------------------------------------

def make_bucket(aws: Any, name: str, **kwargs: Any) -> Any:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name, **kwargs)
    return s3


def test_lifecycle_fact_reads_prefix_tag_and_date_rules(aws: Any,
                                                       live_facts: Callable[..., Facts]) -> None:
    s3 = make_bucket(aws, "logs-bucket")
    s3.put_bucket_lifecycle_configuration(Bucket="logs-bucket", LifecycleConfiguration={
        "Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 7}},
            {"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
             "Expiration": {"Days": 7}},
            {"ID": "and", "Status": "Enabled", "Filter": {"And": {
                "Prefix": "AWSLogs/", "Tags": [{"Key": "k", "Value": "v"}]}},
             "Expiration": {"Days": 7}},
            {"ID": "date", "Status": "Enabled", "Filter": {"Prefix": "old/"},
             "Expiration": {"Date": datetime(2030, 1, 1)}},
            {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
            {"ID": "transition-only", "Status": "Enabled", "Filter": {},
             "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
        ]})
    rules = {r.id: r for r in live_facts().get(bucket_lifecycle("logs-bucket"))}
    assert sorted(rules) == ["and", "date", "tag", "tmp"], "disabled and non-expiring rules"
    assert rules["tmp"] == ExpirationRule("tmp", "tmp/", 7, None)
    assert rules["tag"].has_tag_filter
    assert rules["and"].has_tag_filter
    assert rules["and"].prefix == "AWSLogs/"
    assert (rules["date"].days, rules["date"].on_date) == (0, "2030-01-01")


def test_retention_read_from_moto(aws: Any, live_facts: Callable[..., Facts]) -> None:
    s3 = make_bucket(aws, "short-bucket")
    s3.put_bucket_lifecycle_configuration(Bucket="short-bucket", LifecycleConfiguration={
        "Rules": [{"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": ""},
                   "Expiration": {"Days": 30}}]})
    s3 = make_bucket(aws, "locked-bucket", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="locked-bucket", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 2}}})
    s3.put_bucket_lifecycle_configuration(Bucket="locked-bucket", LifecycleConfiguration={
        "Rules": [{"ID": "expire-logs", "Status": "Enabled", "Filter": {},
                   "Expiration": {"Days": 30}}]})
    make_bucket(aws, "plain-bucket")
    facts = live_facts()
    facts = Facts(facts.ctx, facts.config, account_id=ACCOUNT, values={TRAILS.name: (
        trail("a", bucket="short-bucket"), trail("b", bucket="locked-bucket"),
        trail("c", bucket="plain-bucket"))})

    findings = run_check(s3_retention.bucket_retention, facts, facts.config)
    assert {f.resource: f.status for f in findings} == {
        "arn:aws:s3:::short-bucket": Status.FAIL,
        "arn:aws:s3:::locked-bucket": Status.PASS,
        "arn:aws:s3:::plain-bucket": Status.PASS,
    }
    assert facts.get(bucket_object_lock("locked-bucket")) == ObjectLock(True, "COMPLIANCE", 730)


def test_access_logging_read_from_moto(aws: Any, live_facts: Callable[..., Facts]) -> None:
    s3 = make_bucket(aws, "trail-logs")
    make_bucket(aws, "access-logs")
    s3.put_bucket_acl(Bucket="access-logs", GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
                      GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery")
    facts = live_facts()
    assert facts.get(bucket_logging("trail-logs")) == ""
    s3.put_bucket_logging(Bucket="trail-logs", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "trail-logs/"}})
    assert live_facts().get(bucket_logging("trail-logs")) == "access-logs"


def test_denied_bucket_read_from_moto_is_error(aws: Any, live_facts: Callable[..., Facts],
                                               deny: Any) -> None:
    make_bucket(aws, "central-logs")
    deny("s3", "GetBucketLifecycleConfiguration",
         when=lambda params: params.get("Bucket") == "central-logs")
    facts = Facts(live_facts().ctx, live_facts().config, account_id=ACCOUNT,
                  values={TRAILS.name: (trail(bucket="central-logs"),)})
    finding = only(run_check(s3_retention.bucket_retention, facts, facts.config))
    assert finding.status is Status.ERROR
    assert finding.message.startswith(
        "Cannot read bucket central-logs: access denied: needs s3:GetLifecycleConfiguration")
