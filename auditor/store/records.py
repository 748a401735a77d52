"""What the history store gives back: typed, frozen records, never rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.models import ScoreCoverage
from auditor.store.drill_states import DrillStatus, StepName, StepState


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    account_id: str
    started_at: datetime
    finished_at: datetime
    score: float
    counts: dict[str, int]
    checks: tuple[str, ...] = ()  # the check ids the run selected
    complete: bool = True  # False: a hand-picked subset (--check, --skip, audit.checks)
    coverage: ScoreCoverage | None = None  # how many of its checks the score covers


@dataclass(frozen=True)
class DrillStep:
    seq: int
    name: StepName
    state: StepState
    started_at: datetime
    finished_at: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a row (or an old caller) may hand over the plain value; the record holds the enum
        object.__setattr__(self, "name", StepName(self.name))
        object.__setattr__(self, "state", StepState(self.state))

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class DrillRecord:
    drill_id: str
    account_id: str
    user: str
    target: str
    status: DrillStatus
    started_at: datetime
    finished_at: datetime | None
    rotation_seconds: float | None  # start to old key deactivated
    target_seconds: float
    detail: dict[str, Any] = field(default_factory=dict)
    steps: tuple[DrillStep, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", DrillStatus(self.status))

    @property
    def succeeded(self) -> bool:
        return self.status is DrillStatus.SUCCEEDED

    @property
    def within_target(self) -> bool:
        return self.rotation_seconds is not None and self.rotation_seconds <= self.target_seconds


@dataclass(frozen=True)
class PlaybookRecord:
    """A playbook written (or verified): when, from which audit, and a digest of each
    part of that audit's account snapshot (auditor.snapshot.fact_digests)."""

    account_id: str
    generated_at: datetime
    run_id: int
    digests: dict[str, str] = field(default_factory=dict)
    keys_covered: int | None = None  # active keys with an inventory entry
    keys_total: int | None = None  # active keys; None: the audit could not count them


@dataclass(frozen=True)
class InvestigationRecord:
    """An investigation as listings show it; its whole result is its JSON document."""

    investigation_id: str
    account_id: str
    key_id: str
    started_at: datetime
    finished_at: datetime
    window_from: datetime
    window_to: datetime
    complete: bool
    suspicious: int  # suspicious events found
    follow_ups: int


@dataclass(frozen=True)
class DetectDrillRecord:
    """A detection drill as stored: its journal (the temporary key's id and fate) and,
    once it ended, its JSON document (irready.detect-drill/1)."""

    drill_id: str
    account_id: str
    user: str
    status: str  # RUNNING, SEEN, NOT_SEEN, FAILED, INTERRUPTED, CLOSED
    started_at: datetime
    finished_at: datetime | None
    # seconds until every replayed call was visible in event history or the trail's
    # files; None: one never was (or nothing was replayed)
    seen_seconds: float | None = None
    journal: dict[str, Any] = field(default_factory=dict)
    document: str | None = None
