"""The detection drill's vocabulary and result, kept apart from the code that talks to
AWS so the CLI, the reports and the check can use it without importing boto3.

A call never seen within the timeout is a result (`seen_after` is None), not an error:
it is the very thing the drill exists to find out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class DetectSource(StrEnum):
    """Where the drill looks. LOOKUP and S3 are what the playbook relies on; ATHENA is
    reported beside them and never counted (it reads the very files S3 shows)."""

    LOOKUP = "lookup"
    S3 = "s3"
    ATHENA = "athena"  # queried once the trail's files show every call; costs money
    GUARDDUTY = "guardduty"  # watched for a finding; never counted for or against


# the sources the playbook relies on: a call seen in one of them can be investigated
RELIED_ON = frozenset({DetectSource.LOOKUP, DetectSource.S3})


class DetectStatus(StrEnum):
    """How a detection drill ended. SEEN: every call seen in a source the playbook relies
    on, within the timeout; NOT_SEEN: not; FAILED: the replay could not run (the key was
    deleted); INTERRUPTED: cut off (resume or roll back deletes what is left); CLOSED:
    a cut-off drill brought to a safe end by `drill resume|rollback`."""

    RUNNING = "RUNNING"
    SEEN = "SEEN"
    NOT_SEEN = "NOT_SEEN"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class ApiCall:
    """One call of the replayed sequence: `service` as boto3 names it, `operation` as
    the API (and CloudTrail's eventName) does, its parameters."""

    service: str
    operation: str
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True)
class Replayed:
    """A call as it was made: when, and AWS's answer (denied calls are logged too)."""

    call: ApiCall
    at: datetime
    outcome: str  # "ok" or the error code


@dataclass(frozen=True)
class Sighting:
    """When one replayed call was seen in one source: `seen_after` seconds after it was
    made (None: not seen within the timeout)."""

    call: ApiCall
    seen_after: float | None


@dataclass(frozen=True)
class AthenaQuery:
    """One Athena query a drill ran: its id, what it scanned and so cost (Athena bills
    per byte scanned, 10 MB at least per query)."""

    query_id: str
    bytes_scanned: int

    @property
    def cost_usd(self) -> float:
        from incident.investigate.model import query_cost_usd

        return query_cost_usd(self.bytes_scanned)


@dataclass(frozen=True)
class SourceResult:
    """One source's figures: each call's time to visible, and the first and last."""

    source: DetectSource
    location: str
    sightings: tuple[Sighting, ...]
    polls: int
    notes: tuple[str, ...] = ()  # what could not be read, each poll's problems
    queries: tuple[AthenaQuery, ...] = ()  # Athena's, in the order they ran

    @property
    def counted(self) -> bool:
        """Whether this source decides the drill's result (Athena's never does)."""
        return self.source in RELIED_ON

    @property
    def bytes_scanned(self) -> int:
        return sum(query.bytes_scanned for query in self.queries)

    @property
    def cost_usd(self) -> float:
        return sum(query.cost_usd for query in self.queries)

    @property
    def all_seen(self) -> bool:
        return bool(self.sightings) and all(s.seen_after is not None for s in self.sightings)

    @property
    def first_seconds(self) -> float | None:
        seen = [s.seen_after for s in self.sightings if s.seen_after is not None]
        return min(seen) if seen else None

    @property
    def last_seconds(self) -> float | None:
        """Time until the last call was visible, None when one never was."""
        if not self.all_seen:
            return None
        return max(s.seen_after for s in self.sightings if s.seen_after is not None)


@dataclass(frozen=True)
class DetectOptions:
    user: str
    sources: tuple[DetectSource, ...]
    sequence_name: str  # "story" or the file's name
    sequence: tuple[ApiCall, ...]
    timeout: float = 1800.0
    poll: float = 30.0
    bucket: str = ""  # --source s3://BUCKET[/PREFIX]; empty: the trails' own buckets
    prefix: str = ""
    propagation_timeout: float = 60.0


@dataclass(frozen=True)
class DetectResult:
    drill_id: str
    account_id: str
    user: str
    key_id: str
    user_agent: str
    started_at: datetime
    finished_at: datetime
    status: DetectStatus
    options: DetectOptions
    replayed: tuple[Replayed, ...]
    sources: tuple[SourceResult, ...]
    key_deleted: bool
    outcome: str  # one sentence
    notes: tuple[str, ...] = ()  # what was not watched, and why
    guardduty: dict[str, Any] | None = None  # --source guardduty: findings naming the key
    overhead_seconds: float = 0.0  # the drill's own time, beyond waiting

    @property
    def seen_everywhere_relied_on(self) -> bool:
        return any(result.all_seen for result in self.sources if result.counted)
