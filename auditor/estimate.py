"""What an incident would cost, from what a drill measured: "could we rotate every key
within four hours if one leaked tonight?". When a key leaks, every key that may have
been exposed alongside it gets rotated, one application after another; customers start
calling after about four hours.

The rule, computed here only (the drill's terminal summary and the compliance PDF both
render this): the active keys counted by the latest complete audit of the account,
times the latest successful drill's measured rotation time, against the four-hour
window (15 keys x 30 min = 7.5 h; 15 x 5 min = 1.25 h). The count is the largest that
the audit's findings recorded, so a second count on the same run can only make the
answer more careful, never more hopeful."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.models import AuditRun

if TYPE_CHECKING:
    from auditor.store import DrillRecord, HistoryStore

INCIDENT_WINDOW_SECONDS = 4 * 3600.0
# the evidence key under which iam.key_inventory records the account's active keys
ACTIVE_KEYS_EVIDENCE = "account_active_keys"


def active_keys(run: AuditRun | None) -> int | None:
    """The account's active access keys as `run` counted them; None when it did not."""
    if run is None:
        return None
    counts = [int(value) for finding in run.findings
              if (value := str(finding.evidence.get(ACTIVE_KEYS_EVIDENCE, ""))).isdigit()]
    return max(counts) if counts else None


def newest_successful_drill(drills: Iterable[DrillRecord]) -> DrillRecord | None:
    """The drill whose measured rotation time the estimate uses."""
    succeeded = [d for d in drills if d.succeeded and d.rotation_seconds is not None]
    return max(succeeded, key=lambda d: (d.started_at, d.drill_id), default=None)


@dataclass(frozen=True)
class IncidentEstimate:
    per_key_seconds: float
    active_keys: int | None  # None: no complete audit has counted them yet
    audit_run_id: int | None = None
    window_seconds: float = INCIDENT_WINDOW_SECONDS

    @property
    def total_seconds(self) -> float | None:
        return None if self.active_keys is None else self.active_keys * self.per_key_seconds

    @property
    def within_window(self) -> bool | None:
        total = self.total_seconds
        return None if total is None else total <= self.window_seconds

    def as_dict(self) -> dict[str, object]:
        """As the drill keeps it in its detail (and `drill show --format json` prints)."""
        return {
            "per_key_seconds": round(self.per_key_seconds, 3),
            "active_keys": self.active_keys,
            "audit_run_id": self.audit_run_id,
            "total_seconds": None if self.total_seconds is None else round(self.total_seconds, 3),
            "window_seconds": self.window_seconds,
            "within_window": self.within_window,
        }

    @classmethod
    def from_dict(cls, kept: Mapping[str, Any]) -> IncidentEstimate:
        """An estimate a drill kept in its detail, read back."""
        keys = kept.get("active_keys")
        run_id = kept.get("audit_run_id")
        return cls(per_key_seconds=float(kept.get("per_key_seconds") or 0.0),
                   active_keys=keys if isinstance(keys, int) else None,
                   audit_run_id=run_id if isinstance(run_id, int) else None,
                   window_seconds=float(kept.get("window_seconds") or INCIDENT_WINDOW_SECONDS))


def estimate_from(run: AuditRun | None, rotation_seconds: float) -> IncidentEstimate:
    """The estimate from `run` (the latest complete audit) and a measured rotation."""
    return IncidentEstimate(per_key_seconds=rotation_seconds, active_keys=active_keys(run),
                            audit_run_id=run.run_id if run is not None else None)


def estimate_incident(store: HistoryStore, account_id: str, rotation_seconds: float,
                      *, until: datetime | None = None) -> IncidentEstimate:
    """The estimate for `account_id` with the latest complete audit (started before
    `until`, if given) and `rotation_seconds`, the latest successful drill's time."""
    return estimate_from(store.latest_run(account_id, complete=True, until=until),
                         rotation_seconds)
