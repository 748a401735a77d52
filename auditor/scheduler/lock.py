"""The scheduler's locks: one for the service, one per job, beside the history store.
A lock says who holds it (pid, host, since), so a refused start names the process in
its way; the flock itself is `auditor.locks`, shared with the drill."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from auditor.clock import iso, parse_iso
from auditor.errors import ConfigError, Locked
from auditor.locks import HolderLock, LockBusy


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    since: datetime | None

    def describe(self) -> str:
        since = f" since {iso(self.since)}" if self.since else ""
        return f"pid {self.pid} on {self.host}{since}"


class FileLock:
    """An exclusive flock on a small file that says who holds it (pid, host, since)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._lock = HolderLock(path)

    def acquire(self, now: datetime) -> None:
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": iso(now)}
        try:
            self._lock.acquire(json.dumps(record))
        except LockBusy as busy:
            holder = _parse_holder(busy.holder)
            who = holder.describe() if holder else "another process"
            raise Locked(f"{self.what} is already running: {who} (lock {self.path})") from None
        except OSError as exc:
            raise ConfigError(f"cannot create the lock file {self.path}: "
                              f"{exc.strerror or exc}") from None

    def release(self) -> None:
        self._lock.release()

    @contextmanager
    def held(self, now: datetime) -> Iterator[FileLock]:
        self.acquire(now)
        try:
            yield self
        finally:
            self.release()

    def holder(self) -> LockHolder | None:
        """Who holds the lock now, or None when nobody does."""
        text = self._lock.holder()
        if text is None:
            return None
        return _parse_holder(text) or LockHolder(0, "?", None)


def _parse_holder(text: str) -> LockHolder | None:
    try:
        record = json.loads(text or "null")
        return LockHolder(int(record["pid"]), str(record["host"]), parse_iso(record["since"]))
    except (ValueError, TypeError, KeyError):
        return None
