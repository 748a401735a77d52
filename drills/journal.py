"""The drill's journal and its lock.

Every step is written to the history store before it acts and again when it ends, one
autocommitted statement at a time through the store's typed methods, so a drill killed
anywhere (Ctrl-C, kill -9, a lost network) leaves a record of exactly how far it got:
`irready drill show ID` explains it and `resume`/`rollback` pick it up. The drill's state
(which keys existed before, which key it created, where the target keeps the old value)
is rewritten with each change. No secret is ever passed to the journal: it receives key
ids and version ids only.

The lock is an OS file lock (flock) per account and user, beside the history store: the
kernel drops it when its process dies, however it dies, so a cut-off drill never blocks
the next one, while two drills on one user can never run at the same time."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.locks import HolderLock, LockBusy
from auditor.store import HistoryStore
from drills.engine.state import DrillState
from drills.errors import DrillBusy
from drills.model import STEP_NUMBER, DrillStatus, StepName, StepState


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    name: StepName
    state: StepState


class Journal:
    """Writes one drill's row and its steps through the store; keeps the drill's state
    in memory and writes it back whole with each change (`save`)."""

    def __init__(self, store: HistoryStore, drill_id: str, state: DrillState,
                 entries: list[JournalEntry]) -> None:
        self.store = store
        self.drill_id = drill_id
        self.state = state
        self.entries = entries

    @classmethod
    def begin(cls, store: HistoryStore, *, drill_id: str, account_id: str, user: str,
              target: str, started_at: datetime, target_seconds: float,
              state: DrillState) -> Journal:
        store.begin_drill(drill_id=drill_id, account_id=account_id, user=user, target=target,
                          started_at=started_at, target_seconds=target_seconds,
                          detail=state.as_detail())
        return cls(store, drill_id, state, [])

    @classmethod
    def reopen(cls, store: HistoryStore, drill_id: str) -> Journal:
        record = store.load_drill(drill_id)
        entries = [JournalEntry(s.seq, s.name, s.state) for s in record.steps]
        return cls(store, drill_id, DrillState.from_detail(record.detail), entries)

    # -- steps -----------------------------------------------------------------------

    def start(self, name: StepName, at: datetime, detail: dict[str, Any] | None = None) -> int:
        seq = max((entry.seq for entry in self.entries), default=0) + 1
        body = {"step": STEP_NUMBER.get(name), **(detail or {})}
        self.store.start_step(self.drill_id, seq, name, at, body)
        self.entries.append(JournalEntry(seq, name, StepState.STARTED))
        return seq

    def end(self, seq: int, state: StepState, at: datetime,
            detail: dict[str, Any] | None = None) -> None:
        entry = next(e for e in self.entries if e.seq == seq)
        body = {"step": STEP_NUMBER.get(entry.name), **(detail or {})}
        self.store.end_step(self.drill_id, seq, state, at, body)
        self.entries[self.entries.index(entry)] = JournalEntry(seq, entry.name, state)

    def ever(self, name: StepName, *states: StepState) -> bool:
        """Did `name` ever reach one of `states` (any state if none given)?"""
        return any(e.name is name and (not states or e.state in states)
                   for e in self.entries)

    # -- the drill row ---------------------------------------------------------------

    def save(self) -> None:
        """Write the drill's state, after a change to it."""
        self.store.set_drill_detail(self.drill_id, self.state.as_detail())

    def set_status(self, status: DrillStatus, *, finished_at: datetime | None = None,
                   rotation_seconds: float | None = None) -> None:
        self.store.set_drill_status(self.drill_id, status, finished_at=finished_at,
                                    rotation_seconds=rotation_seconds)


# -- the lock --------------------------------------------------------------------------


def lock_path(store: HistoryStore, account_id: str, user: str) -> Path:
    """The lock file of (account, user): a readable prefix of the name, and a short hash
    of the exact name, so that two distinct users never share a lock ("drüll-user" and
    "dr_ll-user" read alike) and no name makes the file name too long."""
    readable = re.sub(r"[^A-Za-z0-9+=,.@_-]", "_", user)[:64]
    digest = hashlib.sha256(user.encode()).hexdigest()[:12]
    account = re.sub(r"[^0-9A-Za-z-]", "_", account_id)[:32]
    return store.path.with_name(store.path.name + ".locks") / \
        f"{account}-{readable}-{digest}.lock"


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
