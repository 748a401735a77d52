"""GuardDuty facts: each audited region's detectors and whether they are enabled."""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.awsfacts.account import REGIONS
from auditor.facts import Facts, as_fact_error, fact, map_concurrently


@dataclass(frozen=True, slots=True)
class RegionDetectors:
    region: str
    enabled: tuple[str, ...]  # detector ids with Status ENABLED
    disabled: tuple[str, ...]
    error: str = ""  # why this region could not be read
    denied: bool = False  # the error is an access denial


def _region(facts: Facts, region: str) -> RegionDetectors:
    client = facts.aws.client("guardduty", region)
    try:
        ids = [d for page in client.get_paginator("list_detectors").paginate()
               for d in page["DetectorIds"]]
        enabled: list[str] = []
        disabled: list[str] = []
        for detector_id in ids:
            status = client.get_detector(DetectorId=detector_id).get("Status")
            (enabled if status == "ENABLED" else disabled).append(detector_id)
    except Exception as exc:  # noqa: BLE001 - one region's failure is that region's ERROR
        error = as_fact_error(DETECTORS, exc)
        return RegionDetectors(region, (), (), error.describe(), denied=error.denied)
    return RegionDetectors(region, tuple(enabled), tuple(disabled))


SCP_HINT = ("allowed in other regions: if a service control policy denies this one, leave "
            "it out with --regions or audit.regions")


@fact("guardduty.detectors", "guardduty:ListDetectors", "guardduty:GetDetector")
def DETECTORS(facts: Facts) -> tuple[RegionDetectors, ...]:
    regions = facts.get(REGIONS)
    found = map_concurrently(lambda r: _region(facts, r), regions,
                             facts.config.audit.max_workers)
    if any(not found[region].error for region in regions):
        # the permission works elsewhere: a denial here is about the region, not the role
        found = {region: replace(detectors, error=f"{detectors.error}; {SCP_HINT}")
                 if detectors.denied else detectors for region, detectors in found.items()}
    return tuple(found[region] for region in regions)
