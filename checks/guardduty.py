"""GuardDuty is what notices a leaked key being used from a Tor exit node at 3 a.m.;
it only sees the regions where a detector is enabled."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.guardduty import DETECTORS
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check


@check(
    id="guardduty.enabled",
    title="GuardDuty is enabled in every audited region",
    severity=Severity.MEDIUM,
    plain=(
        "AWS's threat detection is off in {n} region(s): suspicious use of a key there "
        "would go unnoticed."
    ),
    requires=(DETECTORS,),
    remediation="aws guardduty create-detector --enable --region REGION "
                "(or aws guardduty update-detector --detector-id ID --enable)",
)
def enabled(facts: Facts, config: Config) -> Iterator[Outcome]:
    """One finding per region; a region that cannot be read is ERROR, not FAIL."""
    for region in facts.get(DETECTORS):
        resource = f"guardduty/{region.region}"
        if region.error:
            yield Outcome(Status.ERROR, resource, region.error, region=region.region)
        elif region.enabled:
            yield Outcome(Status.PASS, resource,
                          f"Detector {region.enabled[0]} is enabled in {region.region}.",
                          region=region.region)
        elif region.disabled:
            yield Outcome(Status.FAIL, resource,
                          f"Detector {region.disabled[0]} exists in {region.region} but is "
                          "disabled.",
                          region=region.region)
        else:
            yield Outcome(Status.FAIL, resource, f"No GuardDuty detector in {region.region}.",
                          region=region.region)
