"""The console keeps 90 days of events; leaks are often found later than that. These
checks ask whether the trail's bucket keeps log files long enough and records who
reads them."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.cloudtrail import TRAILS, Trail
from auditor.awsfacts.s3 import bucket_lifecycle, bucket_logging, bucket_object_lock
from auditor.config import Config
from auditor.facts import FactError, Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from checks._util import active_trails, checked_elsewhere_note, checked_here


def _buckets(trails: list[Trail]) -> list[Trail]:
    """One trail per (bucket, prefix): several trails may share a bucket."""
    seen: dict[tuple[str, str], Trail] = {}
    for trail in trails:
        if trail.bucket:
            seen.setdefault((trail.bucket, trail.prefix), trail)
    return [seen[key] for key in sorted(seen)]


def _unreadable(trail: Trail, facts: Facts, error: FactError) -> Outcome:
    """ERROR, not FAIL: the bucket may keep its logs perfectly well; this account just
    cannot see it (a central log bucket, or the bucket of an organization trail)."""
    resource = f"arn:aws:s3:::{trail.bucket}"
    if error.code == "NoSuchBucket":
        return Outcome(Status.FAIL, resource,
                       f"Bucket {trail.bucket} of trail {trail.name} does not exist: the trail "
                       "delivers its logs nowhere.")
    if trail.account_id and trail.account_id != facts.account_id:
        hint = (f"; it is the bucket of trail {trail.name} of account {trail.account_id}, "
                f"read from account {facts.account_id}: audit account {trail.account_id}, "
                "or grant this account read access to the bucket's configuration")
    elif error.denied:
        hint = ("; if the bucket belongs to another account (a central log archive), audit "
                "that account or grant this account read access")
    else:
        hint = ""
    return Outcome(Status.ERROR, resource,
                   f"Cannot read bucket {trail.bucket}: {error.describe()}{hint}.")


def _applies(rule_prefix: str, log_prefix: str) -> bool:
    """A rule deletes logs when its prefix contains the log prefix (e.g. the whole
    bucket) or lies inside it (one account's or one region's logs)."""
    return log_prefix.startswith(rule_prefix) or rule_prefix.startswith(log_prefix)


@check(
    id="cloudtrail.bucket_retention",
    title="The trail's bucket keeps logs for the retention period",
    severity=Severity.HIGH,
    plain=(
        "Logs are deleted too early: leaks are often found months later, when the "
        "evidence would already be gone."
    ),
    requires=(TRAILS,),
    remediation=(
        "aws s3api put-bucket-lifecycle-configuration --bucket BUCKET --lifecycle-configuration "
        "'{\"Rules\":[{\"ID\":\"keep-cloudtrail\",\"Status\":\"Enabled\",\"Filter\":"
        "{\"Prefix\":\"AWSLogs/\"},\"Expiration\":{\"Days\":365}}]}' "
        "(or raise the Days of the rule that expires them)"
    ),
)
def bucket_retention(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A leak found in month eight needs month one's logs: no lifecycle rule may delete
    them before `log_retention_days`, unless Object Lock keeps them anyway. Rules on
    another prefix, rules filtered on tags (CloudTrail writes untagged objects) and
    noncurrent-version rules (CloudTrail never overwrites a log file) do not delete logs."""
    needed = config.audit.log_retention_days
    seen = active_trails(facts.get(TRAILS))
    trails = _buckets(checked_here(seen, facts.account_id))
    if not trails:
        yield Outcome(Status.NOT_APPLICABLE, "account", "No logging trail writes to a bucket."
                      if not seen else "No trail of this account's own writes to a bucket."
                      + checked_elsewhere_note(seen, facts.account_id))
        return
    for trail in trails:
        resource = f"arn:aws:s3:::{trail.bucket}"
        log_prefix = trail.log_location.removeprefix(f"s3://{trail.bucket}/")
        evidence = {"log_prefix": log_prefix, "required_days": str(needed)}
        try:
            rules = facts.get(bucket_lifecycle(trail.bucket))
        except FactError as error:
            yield _unreadable(trail, facts, error)
            continue
        short = [r for r in rules if r.days is not None and r.days < needed
                 and not r.has_tag_filter and _applies(r.prefix, log_prefix)]
        if not short:
            yield Outcome(Status.PASS, resource,
                          f"No lifecycle rule deletes logs in {trail.bucket} before {needed} "
                          "days.", evidence=evidence)
            continue
        worst = min(short, key=lambda r: r.days or 0)
        try:
            lock = facts.get(bucket_object_lock(trail.bucket))
        except FactError as error:
            yield _unreadable(trail, facts, error)
            continue
        if lock.enabled and lock.days >= needed:
            yield Outcome(Status.PASS, resource,
                          f"Object Lock ({lock.mode}) keeps logs in {trail.bucket} for "
                          f"{lock.days} days, although lifecycle rule '{worst.id}' expires "
                          f"them after {worst.days}.",
                          evidence={**evidence, "object_lock_days": str(lock.days)})
            continue
        scope = f"prefix '{worst.prefix}'" if worst.prefix else "the whole bucket"
        when = (f"on {worst.on_date}, whatever their age" if worst.on_date
                else f"after {worst.days} days")
        yield Outcome(Status.FAIL, resource,
                      f"Lifecycle rule '{worst.id}' on {scope} of {trail.bucket} deletes "
                      f"CloudTrail logs {when}; {needed} days are needed.",
                      evidence={**evidence, "rule": worst.id, "days": str(worst.days)})


@check(
    id="cloudtrail.bucket_access_logging",
    title="The trail's bucket records who reads it",
    severity=Severity.LOW,
    plain=(
        "Nobody would see who read or deleted the log files themselves."
    ),
    requires=(TRAILS,),
    remediation=(
        "aws s3api put-bucket-logging --bucket BUCKET --bucket-logging-status "
        "'{\"LoggingEnabled\":{\"TargetBucket\":\"LOG-BUCKET\",\"TargetPrefix\":\"BUCKET/\"}}'"
    ),
    references=("CIS 3.4", "CloudTrail.7"),
)
def bucket_access_logging(facts: Facts, config: Config) -> Iterator[Outcome]:
    """An attacker who reads the trail's bucket learns what is watched; access logs
    show whether anyone did."""
    seen = active_trails(facts.get(TRAILS))
    trails = _buckets(checked_here(seen, facts.account_id))
    if not trails:
        yield Outcome(Status.NOT_APPLICABLE, "account", "No logging trail writes to a bucket."
                      if not seen else "No trail of this account's own writes to a bucket."
                      + checked_elsewhere_note(seen, facts.account_id))
        return
    for trail in {t.bucket: t for t in trails}.values():
        resource = f"arn:aws:s3:::{trail.bucket}"
        try:
            target = facts.get(bucket_logging(trail.bucket))
        except FactError as error:
            yield _unreadable(trail, facts, error)
            continue
        if target:
            yield Outcome(Status.PASS, resource,
                          f"Bucket {trail.bucket} logs access to {target}.")
        else:
            yield Outcome(Status.FAIL, resource,
                          f"Bucket {trail.bucket} has no server access logging.")
