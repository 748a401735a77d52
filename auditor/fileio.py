"""Writing a file so that a reader sees the old content or the new, never half of it:
the one atomic writer of irready (reports written with --output, and the drill's file
targets, which hold a secret).

The temporary file is created fresh beside the file (whatever sits at its name is
removed first, and the open neither follows a link nor reuses a file, so a secret
written there cannot end up anywhere else), synced, and renamed over the file; the
folder is synced too. A symlinked file stays a link: its target is replaced. Only a
regular file (or no file) is ever replaced: a report named after a pipe or a character
device (a FIFO, /dev/stdout, /dev/null) is written straight into it, and anything else
(a folder, a block device, a socket) is refused."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
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
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, f"{_kind(info.st_mode)}, not a regular file: irready "
                      "replaces only regular files")
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


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def name_problem(path: Path) -> str:
    """Why the system cannot look `path` up at all (a name longer than it allows), or ""
    when it can (whether or not something is there)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return f"{exc.strerror} ({len(str(path))} characters)"
    except ValueError as exc:  # a NUL byte
        return str(exc)
    return ""


def check_folder(path: Path) -> None:
    """Fail before a slow render, not after it: the name can be looked up, the folder
    exists and is a folder, and what sits at the name (if anything) can be written."""
    if open_descriptor(path) is not None:
        return
    problem = name_problem(path)
    if problem:
        raise UsageError(f"cannot write {_short(path)}: {problem}")
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: {path.parent} is not a folder")
    try:
        info = os.stat(path)  # through a link: its target is what gets written
    except OSError:
        return
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)
            or stat.S_ISCHR(info.st_mode)):
        raise UsageError(f"cannot write {path}: it is {_kind(info.st_mode)}")


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-10:]}"


def write_straight(path: Path, data: bytes) -> None:
    """Write into a pipe or a character device (a FIFO's reader, a terminal, /dev/null)
    as a shell's `>` would: opened for writing, never created, replaced or truncated."""
    fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


# /dev/stdout, /dev/fd/3, /proc/self/fd/1: a descriptor this process already holds
OPEN_DESCRIPTOR = re.compile(r"^/(?:dev/(?:(stdout)|(stderr)|fd/(\d+))|proc/self/fd/(\d+))$")


def open_descriptor(path: Path) -> int | None:
    """The descriptor `path` names, if it names one this process holds: written where
    it stands (a shell's `>>` keeps appending), never reopened from the start nor
    replaced (`-o /dev/stdout >> log` must not wipe the log)."""
    match = OPEN_DESCRIPTOR.match(str(path))
    if match is None:
        return None
    if match[1]:
        return 1
    if match[2]:
        return 2
    return int(match[3] or match[4])


def write_output(path: Path, content: bytes | str) -> None:
    """Write a file the user named: a regular file atomically, a pipe or a character
    device straight, a descriptor already open where it stands; any failure is one line
    (a UsageError), not a traceback."""
    data = content.encode() if isinstance(content, str) else content
    fd = open_descriptor(path)
    if fd is not None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    check_folder(path)
    try:
        try:
            info: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            info = None
        if info is not None and (stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)):
            write_straight(path, data)
        else:
            atomic_write(path, data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
