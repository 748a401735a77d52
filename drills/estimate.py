"""What an incident would cost, from what a drill measured. When a key leaks, every key
that may have been exposed alongside it gets rotated, one application after another;
customers start calling after about four hours. So: the account's active access keys,
counted by the last audit, times this drill's measured rotation time, against that
four-hour window (the story's 15 keys x 30 min = 7.5 h; 15 x 5 min = 1.25 h)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.store import HistoryStore

INCIDENT_WINDOW_SECONDS = 4 * 3600.0
ACTIVE_KEYS_EVIDENCE = "account_active_keys"  # set by iam.key_inventory on its findings


def duration(seconds: float | None) -> str:
    """Seconds under two minutes, minutes under two hours, then hours."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.2f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


@dataclass(frozen=True)
class IncidentEstimate:
    per_key_seconds: float
    active_keys: int | None  # None: no audit has counted them yet
    audit_run_id: int | None = None
    window_seconds: float = INCIDENT_WINDOW_SECONDS

    @property
    def total_seconds(self) -> float | None:
        return None if self.active_keys is None else self.active_keys * self.per_key_seconds

    @property
    def within_window(self) -> bool | None:
        total = self.total_seconds
        return None if total is None else total <= self.window_seconds

    def sentence(self) -> str:
        per_key = duration(self.per_key_seconds)
        window = f"{self.window_seconds / 3600:g}-hour"
        if self.active_keys is None or self.total_seconds is None:
            return (f"One key took {per_key}; run `irready audit` to count the account's "
                    f"active keys and compare the total with the {window} window.")
        verdict = "within" if self.within_window else "BEYOND"
        return (f"Rotating all {self.active_keys} active key(s) at {per_key} each would take "
                f"{duration(self.total_seconds)}: {verdict} the {window} window before "
                "customers call.")

    def as_dict(self) -> dict[str, object]:
        return {
            "per_key_seconds": round(self.per_key_seconds, 3),
            "active_keys": self.active_keys,
            "audit_run_id": self.audit_run_id,
            "total_seconds": None if self.total_seconds is None else round(self.total_seconds, 3),
            "window_seconds": self.window_seconds,
            "within_window": self.within_window,
        }


def active_keys_from_last_audit(store: HistoryStore, account_id: str
                                ) -> tuple[int | None, int | None]:
    """(active keys, audit run id) from the newest audit of the account that counted them."""
    run = store.latest_run(account_id)
    if run is None:
        return None, None
    for finding in run.findings:
        value = finding.evidence.get(ACTIVE_KEYS_EVIDENCE)
        if value is not None and str(value).isdigit():
            return int(value), run.run_id
    return None, run.run_id


def estimate_incident(store: HistoryStore, account_id: str, rotation_seconds: float
                      ) -> IncidentEstimate:
    keys, run_id = active_keys_from_last_audit(store, account_id)
    return IncidentEstimate(per_key_seconds=rotation_seconds, active_keys=keys,
                            audit_run_id=run_id)
