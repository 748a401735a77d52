"""Writing a file so that a reader sees the old content or the new, never half of it:
the one atomic writer of irready (reports written with --output, and the drill's file
targets, which hold a secret).

The temporary file is created fresh beside the file (whatever sits at its name is
removed first, and the open neither follows a link nor reuses a file, so a secret
written there cannot end up anywhere else), synced, and renamed over the file; the
folder is synced too. A symlinked file stays a link: its target is replaced."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from auditor.errors import UsageError


def create_fresh(path: Path, mode: int = 0o600) -> int:
    """Open a new file at `path` for writing and return its descriptor. Whatever sits at
    that name (a file a killed process left, or a link someone planted in a shared
    folder) is removed first, and the open neither follows a link nor reuses a file."""
    path.unlink(missing_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)


def temporary_name(real: Path) -> Path:
    """Where a write to `real` stages its content (a cleanup may look for these)."""
    return real.with_name(f".{real.name}.irready-{os.getpid()}.tmp")


def atomic_write(path: Path, content: bytes | str) -> None:
    """Replace `path` with `content` in one rename. An existing file keeps its mode (and
    owner, if we may); a new one gets the usual mode (0666 less the umask). OSError
    goes to the caller."""
    data = content.encode() if isinstance(content, str) else content
    real = Path(os.path.realpath(path))
    try:
        info: os.stat_result | None = real.stat()
    except FileNotFoundError:
        info = None
    tmp = temporary_name(real)
    fd = create_fresh(tmp, 0o600 if info is not None else 0o666)
    try:
        try:
            if info is not None:
                os.fchmod(fd, stat.S_IMODE(info.st_mode))
                with contextlib.suppress(PermissionError):  # not ours to give away: keep ours
                    os.fchown(fd, info.st_uid, info.st_gid)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(real.parent)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_folder(path: Path) -> None:
    """Fail before a slow render, not after it: the folder must exist and be a folder."""
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: {path.parent} is not a folder")


def write_output(path: Path, content: bytes | str) -> None:
    """Write a file the user named: atomically, and any failure is one line (a
    UsageError), not a traceback."""
    check_folder(path)
    try:
        atomic_write(path, content)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
