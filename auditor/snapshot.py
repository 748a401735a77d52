"""What a complete audit learned about the account, kept for later: the trails, how long
their bucket keeps logs, the Athena tables, the regions, the alternate contacts, the
GuardDuty detectors and every active key. The incident kit reads this snapshot instead
of asking AWS again, at a time when every call counts and the caller's key may be the
leaked one.

The snapshot is built from the facts the audit already read, never from a new call: a
fact the audit did not read, or could not read, leaves its part unknown (None), and
`missing` says which part and why. Nothing secret is in it: contacts keep a type, a
name and an email; keys keep their user, dates and slot, never a secret."""

from __future__ import annotations

import hashlib
import json
import types
import typing
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from auditor.awsfacts.account import ALTERNATE_CONTACTS, CONTACT_TYPES, REGIONS
from auditor.awsfacts.athena import GLUE_TABLES
from auditor.awsfacts.cloudtrail import TRAILS
from auditor.awsfacts.guardduty import DETECTORS
from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.awsfacts.s3 import bucket_lifecycle, bucket_object_lock
from auditor.clock import iso, parse_iso
from auditor.facts import NOT_READ, Fact, FactError, Facts

SCHEMA = 1  # the body's version: a reader refuses a snapshot newer than it knows
T = TypeVar("T")


class Part(StrEnum):
    """The parts of a snapshot; each may be unknown on its own."""

    TRAILS = "trails"
    RETENTION = "retention"
    ATHENA = "athena"
    REGIONS = "regions"
    CONTACTS = "contacts"
    GUARDDUTY = "guardduty"
    ACTIVE_KEYS = "active_keys"


@dataclass(frozen=True, slots=True)
class TrailInfo:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    organization: bool
    bucket: str
    key_prefix: str
    kms_key_id: str  # "" when the logs are not encrypted with a KMS key
    logging: bool | None  # None: the trail's status could not be read


@dataclass(frozen=True, slots=True)
class Expiration:
    """An enabled lifecycle rule of the trail's bucket that deletes objects."""

    rule_id: str
    prefix: str  # "" applies to the whole bucket
    days: int | None  # current objects expire after N days (0: on a fixed date)
    noncurrent_days: int | None
    tag_filtered: bool  # CloudTrail writes untagged objects: such a rule skips them


@dataclass(frozen=True, slots=True)
class BucketRetention:
    bucket: str
    expirations: tuple[Expiration, ...] | None  # None: the lifecycle was not read
    object_lock_days: int | None  # default retention; 0: none; None: not read


@dataclass(frozen=True, slots=True)
class AthenaTable:
    region: str
    database: str
    table: str
    location: str
    partition_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContactInfo:
    type: str  # SECURITY, OPERATIONS or BILLING
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class RegionDetectors:
    region: str
    enabled: tuple[str, ...]  # GuardDuty detector ids
    disabled: tuple[str, ...]
    error: str  # why this region could not be read; "" when it was


@dataclass(frozen=True, slots=True)
class ActiveKey:
    user: str
    slot: int  # 1 or 2, as in the credential report
    key_id: str | None  # the credential report does not carry key ids: None from it
    created: datetime | None
    last_used: datetime | None


@dataclass(frozen=True, slots=True)
class Missing:
    part: Part
    reason: str  # the failed read's sentence, or that the audit did not read it


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """None in a part means unknown; an empty tuple means known to be empty."""

    account_id: str
    taken_at: datetime  # the audit's time
    trails: tuple[TrailInfo, ...] | None
    retention: tuple[BucketRetention, ...] | None
    athena_tables: tuple[AthenaTable, ...] | None
    regions: tuple[str, ...] | None  # the audited regions (enabled, as narrowed by config)
    contacts: tuple[ContactInfo, ...] | None  # the contacts that are set
    guardduty: tuple[RegionDetectors, ...] | None
    active_keys: tuple[ActiveKey, ...] | None
    missing: tuple[Missing, ...] = ()
    schema: int = SCHEMA

    def missing_parts(self) -> set[Part]:
        return {gap.part for gap in self.missing}

    def to_json(self) -> str:
        return json.dumps(_encode(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AccountSnapshot:
        body = json.loads(text)
        if int(body.get("schema", 0)) > SCHEMA:
            raise ValueError(f"account snapshot schema {body['schema']} is newer than "
                             f"this irready knows ({SCHEMA})")
        snapshot: AccountSnapshot = _decode(cls, body)
        return snapshot


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, datetime):
        return iso(value)
    return value  # str (a StrEnum too), int, bool, None


def _decode(kind: Any, value: Any) -> Any:
    """Rebuild `kind` (a type hint of this module) from its JSON form."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _decode(next(a for a in typing.get_args(kind) if a is not type(None)), value)
    if origin is tuple:
        return tuple(_decode(typing.get_args(kind)[0], item) for item in value)
    if kind is datetime:
        return parse_iso(value)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _decode(hints[f.name], value[f.name])
                       for f in fields(kind) if f.name in value})
    return kind(value)  # str, int, bool, Part


class _Reader:
    """Reads the facts the audit already holds and notes the ones it lacks."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.missing: list[Missing] = []

    def known(self, part: Part, fact: Fact[T], context: str = "") -> T | None:
        try:
            return self.facts.peek(fact)
        except FactError as error:
            where = f"{context}: " if context else ""
            why = (f"{fact.name} was not read by this audit" if error.code == NOT_READ
                   else error.describe())
            self.missing.append(Missing(part, f"{where}{why}"))
            return None


def build_snapshot(facts: Facts, taken_at: datetime) -> AccountSnapshot:
    """The snapshot of what `facts` already holds; makes no AWS call."""
    reader = _Reader(facts)
    trails = reader.known(Part.TRAILS, TRAILS)
    regions = reader.known(Part.REGIONS, REGIONS)
    tables = reader.known(Part.ATHENA, GLUE_TABLES)
    contacts = reader.known(Part.CONTACTS, ALTERNATE_CONTACTS)
    detectors = reader.known(Part.GUARDDUTY, DETECTORS)
    report = reader.known(Part.ACTIVE_KEYS, CREDENTIAL_REPORT)
    retention: tuple[BucketRetention, ...] | None = None
    if trails is None:
        reader.missing.append(Missing(Part.RETENTION, "the trails are unknown"))
    else:
        retention = tuple(_retention(reader, bucket) for bucket in sorted(
            {t.bucket for t in trails if t.bucket and t.logging is not False}))
    return AccountSnapshot(
        account_id=facts.account_id,
        taken_at=taken_at,
        trails=None if trails is None else tuple(
            TrailInfo(t.name, t.arn, t.home_region, t.multi_region, t.organization, t.bucket,
                      t.prefix, t.kms_key_id, t.logging) for t in trails),
        retention=retention,
        athena_tables=None if tables is None else tuple(
            AthenaTable(t.region, t.database, t.name, t.location, t.partition_columns)
            for t in tables),
        regions=None if regions is None else tuple(regions),
        contacts=None if contacts is None else tuple(
            ContactInfo(kind, found.name, found.email) for kind in CONTACT_TYPES
            if (found := contacts.get(kind)) is not None),
        guardduty=None if detectors is None else tuple(
            RegionDetectors(d.region, d.enabled, d.disabled, d.error) for d in detectors),
        active_keys=None if report is None else tuple(
            ActiveKey(row.user, key.slot, None, key.last_rotated, key.last_used)
            for row in report.users for key in row.active_keys),
        missing=tuple(reader.missing),
    )


def _retention(reader: _Reader, bucket: str) -> BucketRetention:
    rules = reader.known(Part.RETENTION, bucket_lifecycle(bucket), bucket)
    # the audit reads Object Lock only when a lifecycle rule would delete logs too early
    lock = reader.known(Part.RETENTION, bucket_object_lock(bucket), bucket)
    return BucketRetention(
        bucket=bucket,
        expirations=None if rules is None else tuple(
            Expiration(r.id, r.prefix, r.days, r.noncurrent_days, r.has_tag_filter)
            for r in rules),
        object_lock_days=None if lock is None else (lock.days if lock.enabled else 0),
    )


def fact_digests(snapshot: AccountSnapshot) -> dict[str, str]:
    """Per known part, a digest of what a playbook says about it: the trails, the
    lifecycle rules of their buckets, the Athena tables, the regions, the contacts and
    which users hold active keys (not when keys were used: that is status, not fact).
    Two snapshots of an unchanged account give the same digests."""
    retention = None if snapshot.retention is None else tuple(
        (bucket.bucket, bucket.expirations) for bucket in snapshot.retention)
    keys = None if snapshot.active_keys is None else sorted(
        (key.user, key.slot) for key in snapshot.active_keys)
    parts: dict[Part, Any] = {
        Part.TRAILS: snapshot.trails, Part.RETENTION: retention,
        Part.ATHENA: snapshot.athena_tables, Part.REGIONS: snapshot.regions,
        Part.CONTACTS: snapshot.contacts, Part.ACTIVE_KEYS: keys,
    }
    digests = {}
    for part, value in parts.items():
        if value is None:
            continue
        items = sorted(json.dumps(_encode(item), sort_keys=True) for item in value)
        digests[str(part)] = hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]
    return digests
