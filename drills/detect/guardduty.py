"""GuardDuty as a detection drill's extra source: does any finding name the temporary
key while the drill watches? Six reconnaissance calls from an ordinary address rarely
make one, so "no finding" is the expected answer; it is reported, and never counted
against the drill or the drill.detect_recent check. The detectors are found before the
key exists (a read that is denied is exit 3, naming it); each poll asks ListFindings for
findings whose resource is the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.errors import AwsUnavailable
from drills.engine.aws import AWS_ERRORS, describe_error

if TYPE_CHECKING:
    from auditor.session import AwsContext

EXPECTED = ("six reconnaissance calls from an ordinary address rarely make a finding: none "
            "is expected, and a missing finding never counts against the drill")


@dataclass
class GuardDutyWatch:
    client: Any
    region: str
    detector_ids: tuple[str, ...]
    finding_ids: list[str] = field(default_factory=list)
    seen_at: datetime | None = None
    polls: int = 0
    notes: list[str] = field(default_factory=list)

    def poll(self, key_id: str, now: datetime) -> None:
        if self.seen_at is not None or not self.detector_ids:
            return
        self.polls += 1
        criteria = {"Criterion": {"resource.accessKeyDetails.accessKeyId": {"Eq": [key_id]}}}
        found: list[str] = []
        try:
            for detector in self.detector_ids:
                answer = self.client.list_findings(DetectorId=detector,
                                                   FindingCriteria=criteria)
                found += [str(f) for f in answer.get("FindingIds", [])]
        except AWS_ERRORS as exc:
            note = f"guardduty:ListFindings failed ({describe_error(exc)})"
            if note not in self.notes:
                self.notes.append(note)
            return
        if found:
            self.finding_ids = sorted(set(found))
            self.seen_at = now

    def as_dict(self, replayed_at: datetime | None) -> dict[str, Any]:
        seen = None if self.seen_at is None or replayed_at is None else \
            round((self.seen_at - replayed_at).total_seconds(), 3)
        return {"region": self.region, "detectors": list(self.detector_ids),
                "polls": self.polls, "finding_ids": list(self.finding_ids),
                "seen_after_seconds": seen, "expected": EXPECTED, "notes": list(self.notes)}


def find_detectors(ctx: AwsContext) -> GuardDutyWatch:
    """The drill region's detectors (read-only; before the key)."""
    client = ctx.client("guardduty")
    try:
        ids = tuple(str(d) for d in client.list_detectors().get("DetectorIds", []))
    except AWS_ERRORS as exc:
        raise AwsUnavailable(f"guardduty:ListDetectors failed ({describe_error(exc)}); the "
                             "detection drill needs the policy that `irready policy detect` "
                             "prints") from None
    watch = GuardDutyWatch(client, ctx.region, ids)
    if not ids:
        watch.notes.append(f"no GuardDuty detector in {ctx.region}: GuardDuty was not watched")
    return watch
