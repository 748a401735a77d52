"""CloudTrail facts: every trail visible from any audited region (shadow trails too, so
an organization trail is seen from a member account), with its status and whether its
event selectors record management events, read and write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.awsfacts.account import REGIONS
from auditor.facts import FactError, Facts, as_fact_error, fact, map_concurrently


@dataclass(frozen=True, slots=True)
class Trail:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    organization: bool
    bucket: str
    prefix: str
    log_validation: bool
    logging: bool | None  # None: status could not be read (status_error says why)
    management_read: bool | None
    management_write: bool | None
    status_error: str = ""
    selectors_error: str = ""
    kms_key_id: str = ""  # the key that encrypts the log files; "" when SSE-S3
    # an organization audit: the account whose audit checks this trail's bucket and table
    # (the management account's organization trail, seen from a member); "" = this one
    checked_in: str = ""

    @property
    def account_id(self) -> str:
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 4 else ""

    @property
    def log_location(self) -> str:
        """s3://bucket[/prefix]/AWSLogs/: where an Athena table must point."""
        prefix = f"{self.prefix.strip('/')}/" if self.prefix.strip("/") else ""
        return f"s3://{self.bucket}/{prefix}AWSLogs/"

    @property
    def records_management(self) -> bool:
        return bool(self.management_read and self.management_write)


def _matches(field: Mapping[str, Any], value: str) -> bool:
    """Whether an advanced field selector lets `value` through (Equals / NotEquals)."""
    equals = [str(v).lower() for v in field.get("Equals", [])]
    not_equals = [str(v).lower() for v in field.get("NotEquals", [])]
    if equals and value.lower() not in equals:
        return False
    return value.lower() not in not_equals


def management_events(selectors: Mapping[str, Any]) -> tuple[bool, bool]:
    """(read, write) management events recorded by basic or advanced selectors.

    Basic selectors default to management events, read and write. An advanced selector
    records management events only when it selects `eventCategory = Management`; its
    `readOnly` field (Equals or NotEquals "true"/"false") narrows it to reads or writes."""
    read = write = False
    for selector in selectors.get("EventSelectors") or []:
        if not selector.get("IncludeManagementEvents", True):
            continue
        kind = selector.get("ReadWriteType", "All")
        read = read or kind in ("All", "ReadOnly")
        write = write or kind in ("All", "WriteOnly")
    for selector in selectors.get("AdvancedEventSelectors") or []:
        fields = {f["Field"]: f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory")
        if category is None or not _matches(category, "Management"):
            continue
        read_only = fields.get("readOnly")
        if read_only is None:
            read = write = True
        else:
            read = read or _matches(read_only, "true")
            write = write or _matches(read_only, "false")
    return read, write


def _describe(facts: Facts, region: str) -> Sequence[Mapping[str, Any]] | FactError:
    """The trails visible from one region, or why they are not."""
    client = facts.aws.client("cloudtrail", region)
    try:
        trails: Sequence[Mapping[str, Any]] = client.describe_trails(includeShadowTrails=True)[
            "trailList"
        ]
    except Exception as exc:  # noqa: BLE001 - judged with the other regions in TRAILS
        return as_fact_error(TRAILS, exc)
    return trails


def _region_denied(errors: Mapping[str, FactError], answered: Sequence[str]) -> FactError:
    """DescribeTrails denied in some regions but allowed in others: the permission is
    there, so a service control policy most likely denies those regions."""
    def listed(regions: Sequence[str]) -> str:
        names = sorted(regions)
        return ", ".join(names) if len(names) <= 5 else (
            f"{', '.join(names[:5])} and {len(names) - 5} more")

    denied = listed(list(errors))
    return FactError(TRAILS.name, "AccessDenied", f"denied in {denied}",
                     ("cloudtrail:DescribeTrails",),
                     hint=f"denied in {denied} only (allowed in {listed(answered)}): "
                          "if a service control policy denies that region, leave it out with "
                          "--regions or audit.regions")


def _read_error(exc: BaseException, permission: str, raw: Mapping[str, Any],
                caller_account: str) -> str:
    """Why one per-trail read failed, naming the permission of that very read."""
    error = as_fact_error(TRAILS, exc)
    described = FactError(TRAILS.name, error.code, error.detail, (permission,)).describe()
    parts = str(raw["TrailARN"]).split(":")
    owner = parts[4] if len(parts) > 4 else ""
    if owner and caller_account and owner != caller_account:
        return (f"{described}; trail {raw['Name']} belongs to account {owner}: audit that "
                "account to read it")
    return described


def _trail(facts: Facts, raw: Mapping[str, Any]) -> Trail:
    arn = raw["TrailARN"]
    home = raw.get("HomeRegion") or facts.aws.region
    client = facts.aws.client("cloudtrail", home)
    logging: bool | None = None
    status_error = selectors_error = ""
    read: bool | None = None
    write: bool | None = None
    try:
        logging = bool(client.get_trail_status(Name=arn).get("IsLogging"))
    except Exception as exc:  # noqa: BLE001 - kept per trail, the checks report it
        status_error = _read_error(exc, "cloudtrail:GetTrailStatus", raw, facts.account_id)
    try:
        read, write = management_events(client.get_event_selectors(TrailName=arn))
    except Exception as exc:  # noqa: BLE001 - kept per trail, the checks report it
        selectors_error = _read_error(exc, "cloudtrail:GetEventSelectors", raw,
                                      facts.account_id)
    return Trail(
        name=raw["Name"],
        arn=arn,
        home_region=home,
        multi_region=bool(raw.get("IsMultiRegionTrail")),
        organization=bool(raw.get("IsOrganizationTrail")),
        bucket=raw.get("S3BucketName", ""),
        prefix=raw.get("S3KeyPrefix", "") or "",
        log_validation=bool(raw.get("LogFileValidationEnabled")),
        logging=logging,
        management_read=read,
        management_write=write,
        status_error=status_error,
        selectors_error=selectors_error,
        kms_key_id=raw.get("KmsKeyId", "") or "",
    )


@fact(
    "cloudtrail.trails",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
)
def TRAILS(facts: Facts) -> tuple[Trail, ...]:
    regions = facts.get(REGIONS)
    workers = facts.config.audit.max_workers
    per_region = map_concurrently(lambda r: _describe(facts, r), regions, workers)
    errors = {region: found for region, found in per_region.items()
              if isinstance(found, FactError)}
    answered = [region for region in per_region if region not in errors]
    if errors:
        if answered and all(error.denied for error in errors.values()):
            raise _region_denied(errors, answered)
        raise next(iter(errors.values()))
    unique: dict[str, Mapping[str, Any]] = {}
    for trails in per_region.values():
        for raw in trails if not isinstance(trails, FactError) else ():
            unique.setdefault(raw["TrailARN"], raw)
    details = map_concurrently(lambda arn: _trail(facts, unique[arn]), sorted(unique), workers)
    # an organization audit hands each member the management account's organization
    # trails, read there in full (a member can see them but not read their status)
    details.update({trail.arn: trail for trail in facts.org_trails
                    if trail.account_id != facts.account_id})
    return tuple(details[arn] for arn in sorted(details))
