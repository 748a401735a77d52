"""The drill's journal and its lock.

Every step is written to the history store before it acts and again when it ends, one
autocommitted statement at a time, so a drill killed anywhere (Ctrl-C, kill -9, a lost
network) leaves a record of exactly how far it got: `irready drill show ID` explains it
and `resume`/`rollback` pick it up. The drill's detail (which keys existed before, which
key it created, where the target keeps the old value) is rewritten with each change. No
secret is ever passed to the journal: it receives key ids and version ids only.

The lock is an OS file lock (flock) per account and user, beside the history store: the
kernel drops it when its process dies, however it dies, so a cut-off drill never blocks
the next one, while two drills on one user can never run at the same time."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.clock import iso
from auditor.locks import HolderLock, LockBusy
from auditor.store import HistoryStore
from drills.errors import DrillBusy
from drills.model import STEP_NUMBER, DrillStatus, StepName, StepState


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    name: str
    state: str


class Journal:
    """Writes one drill's row and its steps; keeps the detail dict in memory."""

    def __init__(self, store: HistoryStore, drill_id: str, detail: dict[str, Any],
                 entries: list[JournalEntry]) -> None:
        self.store = store
        self.drill_id = drill_id
        self.detail = detail
        self.entries = entries

    @classmethod
    def begin(cls, store: HistoryStore, *, drill_id: str, account_id: str, user: str,
              target: str, started_at: datetime, target_seconds: float,
              detail: dict[str, Any]) -> Journal:
        store.execute(
            "INSERT INTO drills (id, account_id, user_name, target, status, started_at,"
            " finished_at, rotation_seconds, target_seconds, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
            (drill_id, account_id, user, target, DrillStatus.RUNNING.value, iso(started_at),
             target_seconds, json.dumps(detail, sort_keys=True)),
        )
        return cls(store, drill_id, detail, [])

    @classmethod
    def reopen(cls, store: HistoryStore, drill_id: str) -> Journal:
        record = store.load_drill(drill_id)
        entries = [JournalEntry(s.seq, s.name, s.state) for s in record.steps]
        return cls(store, drill_id, dict(record.detail), entries)

    # -- steps -----------------------------------------------------------------------

    def start(self, name: StepName, at: datetime, detail: dict[str, Any] | None = None) -> int:
        seq = max((entry.seq for entry in self.entries), default=0) + 1
        body = {"step": STEP_NUMBER.get(name), **(detail or {})}
        self.store.execute(
            "INSERT INTO drill_steps (drill_id, seq, name, state, started_at, finished_at,"
            " detail) VALUES (?, ?, ?, ?, ?, NULL, ?)",
            (self.drill_id, seq, name.value, StepState.STARTED.value, iso(at),
             json.dumps(body, sort_keys=True)),
        )
        self.entries.append(JournalEntry(seq, name.value, StepState.STARTED.value))
        return seq

    def end(self, seq: int, state: StepState, at: datetime,
            detail: dict[str, Any] | None = None) -> None:
        entry = next(e for e in self.entries if e.seq == seq)
        body = {"step": STEP_NUMBER.get(StepName(entry.name)), **(detail or {})}
        self.store.execute(
            "UPDATE drill_steps SET state = ?, finished_at = ?, detail = ?"
            " WHERE drill_id = ? AND seq = ?",
            (state.value, iso(at), json.dumps(body, sort_keys=True, default=str),
             self.drill_id, seq),
        )
        self.entries[self.entries.index(entry)] = JournalEntry(seq, entry.name, state.value)

    def ever(self, name: StepName, *states: StepState) -> bool:
        """Did `name` ever reach one of `states` (any state if none given)?"""
        wanted = {s.value for s in states}
        return any(e.name == name.value and (not wanted or e.state in wanted)
                   for e in self.entries)

    # -- the drill row ---------------------------------------------------------------

    def note(self, **detail: Any) -> None:
        self.detail.update(detail)
        self.store.execute("UPDATE drills SET detail = ? WHERE id = ?",
                           (json.dumps(self.detail, sort_keys=True, default=str),
                            self.drill_id))

    def set_status(self, status: DrillStatus, *, finished_at: datetime | None = None,
                   rotation_seconds: float | None = None) -> None:
        sql = "UPDATE drills SET status = ?"
        params: list[Any] = [status.value]
        if finished_at is not None or status is DrillStatus.RUNNING:
            sql += ", finished_at = ?"
            params.append(iso(finished_at) if finished_at is not None else None)
        if rotation_seconds is not None:
            sql += ", rotation_seconds = ?"
            params.append(round(rotation_seconds, 3))
        self.store.execute(sql + " WHERE id = ?", [*params, self.drill_id])


# -- the lock --------------------------------------------------------------------------


def lock_path(store: HistoryStore, account_id: str, user: str) -> Path:
    safe_user = re.sub(r"[^A-Za-z0-9+=,.@_-]", "_", user)
    return store.path.with_name(store.path.name + ".locks") / f"{account_id}-{safe_user}.lock"


@contextmanager
def user_lock(store: HistoryStore, account_id: str, user: str, holder: str
              ) -> Iterator[None]:
    """Hold the drill lock of (account, user), or raise DrillBusy naming who holds it."""
    path = lock_path(store, account_id, user)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = HolderLock(path, mode=0o600)
    try:
        lock.acquire(f"{holder}, pid {os.getpid()}")
    except LockBusy as busy:
        raise DrillBusy(f"another drill on {user} is running now "
                        f"({busy.holder or 'another process'}); wait for it to end") from None
    try:
        yield
    finally:
        lock.release()


def lock_holder(store: HistoryStore, account_id: str, user: str) -> str | None:
    """Who holds the lock of (account, user) now, or None if nobody does."""
    holder = HolderLock(lock_path(store, account_id, user)).holder()
    if holder is None:
        return None
    return holder or "another process"
