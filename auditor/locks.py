"""One file lock that says who holds it, shared by the scheduler and the drill.

An OS file lock (flock) is dropped by the kernel when its process dies, however it
dies, so a killed job or drill never blocks the next one. The locked file holds a short
text written by its holder (who, since when), so that a refused command can name the
process in its way. Callers choose that text and the message a user reads; this module
only locks, writes, reads and releases."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLDER_LIMIT = 4096  # bytes of holder text read back


class LockBusy(Exception):
    """Another process holds the lock; `holder` is the text it wrote ("" if none)."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is held: {holder or 'no holder written'}")
        self.path = path
        self.holder = holder


class HolderLock:
    """An exclusive, non-blocking flock on `path` with the holder's text inside."""

    def __init__(self, path: Path, mode: int = 0o644) -> None:
        self.path = path
        self.mode = mode
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        """Take the lock and write `holder` into it. Raises LockBusy when another
        process holds it, OSError when the file cannot be opened or created."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = _read_text(fd)
            os.close(fd)
            raise LockBusy(self.path, text) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def held(self, holder: str) -> Iterator[HolderLock]:
        self.acquire(holder)
        try:
            yield self
        finally:
            self.release()

    def holder(self) -> str | None:
        """The text of whoever holds the lock now ("" if they wrote none), or None when
        nobody holds it (or the file does not exist)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return _read_text(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def _read_text(fd: int) -> str:
    try:
        return os.pread(fd, HOLDER_LIMIT, 0).decode(errors="replace").strip()
    except OSError:
        return ""
