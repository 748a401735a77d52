"""S3 facts about a trail's log bucket: lifecycle rules, Object Lock default retention
and server access logging. One fact per bucket and read, memoized like any other."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.facts import Fact, Facts
from auditor.session import error_code


@dataclass(frozen=True, slots=True)
class ExpirationRule:
    id: str
    prefix: str  # "" applies to the whole bucket
    days: int | None  # current versions expire after N days (0 for a fixed date)
    noncurrent_days: int | None
    has_tag_filter: bool = False  # CloudTrail writes untagged objects: such rules skip them
    on_date: str = ""  # a fixed expiration date (ISO), when the rule uses one


@dataclass(frozen=True, slots=True)
class ObjectLock:
    enabled: bool
    mode: str = ""
    days: int = 0  # default retention, in days (years converted)


def _rule_prefix(rule: Mapping[str, Any]) -> tuple[str, bool]:
    if "Prefix" in rule:
        return str(rule["Prefix"]), False
    rule_filter = rule.get("Filter") or {}
    if "And" in rule_filter:
        return str(rule_filter["And"].get("Prefix", "")), bool(rule_filter["And"].get("Tags"))
    return str(rule_filter.get("Prefix", "")), "Tag" in rule_filter


def _lifecycle(facts: Facts, bucket: str) -> tuple[ExpirationRule, ...]:
    client = facts.aws.client("s3")
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except Exception as exc:
        if error_code(exc) == "NoSuchLifecycleConfiguration":
            return ()
        raise
    result = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        prefix, tagged = _rule_prefix(rule)
        expiration = rule.get("Expiration", {})
        days = expiration.get("Days")
        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        on_date = ""
        if days is None and "Date" in expiration:
            # from that date on, every matching object expires whatever its age
            days = 0
            on_date = expiration["Date"].date().isoformat()
        if days is None and noncurrent is None:
            continue
        result.append(ExpirationRule(rule.get("ID", ""), prefix, days, noncurrent, tagged,
                                     on_date))
    return tuple(result)


def _object_lock(facts: Facts, bucket: str) -> ObjectLock:
    client = facts.aws.client("s3")
    try:
        config = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except Exception as exc:
        if error_code(exc) == "ObjectLockConfigurationNotFoundError":
            return ObjectLock(enabled=False)
        raise
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    days = int(retention.get("Days", 0)) or int(retention.get("Years", 0)) * 365
    return ObjectLock(
        enabled=config.get("ObjectLockEnabled") == "Enabled",
        mode=retention.get("Mode", ""),
        days=days,
    )


def _logging(facts: Facts, bucket: str) -> str:
    """The access-log target bucket, or "" when access logging is off."""
    enabled = facts.aws.client("s3").get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    return str(enabled["TargetBucket"]) if enabled else ""


@functools.cache
def bucket_lifecycle(bucket: str) -> Fact[tuple[ExpirationRule, ...]]:
    return Fact(f"s3.lifecycle:{bucket}", lambda f: _lifecycle(f, bucket),
                ("s3:GetLifecycleConfiguration",))


@functools.cache
def bucket_object_lock(bucket: str) -> Fact[ObjectLock]:
    return Fact(f"s3.object_lock:{bucket}", lambda f: _object_lock(f, bucket),
                ("s3:GetBucketObjectLockConfiguration",))


@functools.cache
def bucket_logging(bucket: str) -> Fact[str]:
    return Fact(f"s3.logging:{bucket}", lambda f: _logging(f, bucket), ("s3:GetBucketLogging",))
