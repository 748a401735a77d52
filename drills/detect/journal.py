"""The detection drill's journal: what a drill cut off anywhere needs to leave nothing
behind. The temporary key's fate is written before and after each change to it
("creating", "created" with its id, "deleted"), with the key ids the canary had before,
so `irready drill resume|rollback ID` can delete whatever key the drill made, even one
whose id never reached the journal (its secret died with the process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from auditor.store import HistoryStore


class KeyState(StrEnum):
    NONE = "none"  # not yet asked for
    CREATING = "creating"  # asked for; its id may not be known
    CREATED = "created"
    DELETED = "deleted"


@dataclass
class DetectJournal:
    store: HistoryStore
    drill_id: str
    keys_before: tuple[str, ...]
    key_state: KeyState = KeyState.NONE
    key_id: str = ""
    cleanup_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def begin(cls, store: HistoryStore, *, drill_id: str, account_id: str, user: str,
              started_at: datetime, keys_before: tuple[str, ...],
              extra: dict[str, Any]) -> DetectJournal:
        journal = cls(store, drill_id, keys_before, extra=dict(extra))
        store.begin_detect_drill(drill_id=drill_id, account_id=account_id, user=user,
                                 started_at=started_at, journal=journal.as_dict())
        return journal

    @classmethod
    def reopen(cls, store: HistoryStore, drill_id: str) -> DetectJournal:
        record = store.load_detect_drill(drill_id)
        data = record.journal
        known = {"keys_before", "key_state", "key_id", "cleanup_error"}
        return cls(store, drill_id, tuple(str(k) for k in data.get("keys_before") or ()),
                   KeyState(str(data.get("key_state") or KeyState.NONE)),
                   str(data.get("key_id") or ""), str(data.get("cleanup_error") or ""),
                   {k: v for k, v in data.items() if k not in known})

    def as_dict(self) -> dict[str, Any]:
        return {**self.extra, "keys_before": list(self.keys_before),
                "key_state": self.key_state.value, "key_id": self.key_id,
                "cleanup_error": self.cleanup_error}

    def key(self, state: KeyState, key_id: str = "", *, error: str = "") -> None:
        """Write the key's new state (and its id once known) before going on."""
        self.key_state = state
        if key_id:
            self.key_id = key_id
        self.cleanup_error = error
        self.store.set_detect_journal(self.drill_id, self.as_dict())
