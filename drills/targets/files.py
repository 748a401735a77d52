"""The base of the two line-based file targets (the AWS credentials file and an env
file): read the file, rewrite only the key's two lines in one atomic rename (every other
line, the line endings and the file mode kept), and keep the old content in a 0600 backup
beside the file until the drill ends. Subclasses say which lines hold the key."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from auditor.fileio import atomic_write, create_fresh
from drills.errors import TargetError
from drills.model import AccessKey
from drills.targets.base import RestoreState, Target


def _quote_of(raw: str) -> str:
    return raw[0] if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'" else ""


class FileTarget(Target):
    """A text file holding the key in two `NAME = VALUE` lines. `LINE` matches such a
    line as (indent, name, separator, value, trailing space)."""

    ID_NAME: ClassVar[str]
    SECRET_NAME: ClassVar[str]
    LINE: ClassVar[re.Pattern[str]]
    QUOTED: ClassVar[bool] = False  # values may be quoted: read without, write back with

    @property
    def path(self) -> Path:
        return Path(self.value).expanduser()

    @abstractmethod
    def key_lines(self, lines: list[str]) -> dict[str, int]:
        """Name -> index of the line that assigns it (for the key's two names)."""

    @abstractmethod
    def missing(self, name: str) -> str:
        """What to say when no line assigns `name`."""

    def check(self, lines: list[str], found: dict[str, int], where: str) -> None:
        """Refuse a file that holds something other than a user's key."""

    def _match(self, line: str) -> re.Match[str]:
        match = self.LINE.match(line.rstrip("\r\n"))
        assert match is not None  # found by the same pattern
        return match

    def extract(self, text: str, where: str) -> AccessKey:
        lines = text.splitlines(keepends=True)
        found = self.key_lines(lines)
        self.check(lines, found, where)
        values = {}
        for name in (self.ID_NAME, self.SECRET_NAME):
            if name not in found:
                raise TargetError(f"{where}: {self.missing(name)}")
            raw = self._match(lines[found[name]]).group(4)
            values[name] = raw[1:-1] if self.QUOTED and _quote_of(raw) else raw
        return AccessKey(values[self.ID_NAME], values[self.SECRET_NAME])

    def replace(self, text: str, key: AccessKey) -> str:
        lines = text.splitlines(keepends=True)
        found = self.key_lines(lines)
        for name, value in ((self.ID_NAME, key.key_id), (self.SECRET_NAME, key.secret)):
            if name not in found:
                raise TargetError(f"{self.spec}: {self.missing(name)}")
            line = lines[found[name]]
            ending = line[len(line.rstrip("\r\n")):]
            match = self._match(line)
            quote = _quote_of(match.group(4)) if self.QUOTED else ""
            lines[found[name]] = (f"{match.group(1)}{match.group(2)}{match.group(3)}"
                                  f"{quote}{value}{quote}{ending}")
        return "".join(lines)

    def _text(self, path: Path | None = None) -> str:
        path = path or self.path
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TargetError(f"{self.spec}: the file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TargetError(f"{self.spec}: cannot read {path}: {exc}") from None

    def read(self) -> AccessKey:
        return self.extract(self._text(), self.spec)

    def backup_path(self, drill_id: str) -> Path:
        real = Path(os.path.realpath(self.path))
        return real.with_name(f".{real.name}.irready-{drill_id}.bak")

    def prepare(self, drill_id: str) -> RestoreState:
        backup = self.backup_path(drill_id)
        tmp = backup.with_name(backup.name + ".tmp")
        fd = create_fresh(tmp)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, self._text().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, backup)
        return {"backup": str(backup)}

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold an exclusive flock on the file's folder from the read to the rename. The
        drill lock is per user, so two users' drills may rewrite one file at once (two
        profiles of one credentials file): each would otherwise write back the other's
        profile as it read it, putting an old key back. The folder, not the file, is
        locked, since the rename replaces the file."""
        folder = os.open(Path(os.path.realpath(self.path)).parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)  # closing drops the lock

    def _rewrite(self, text: str) -> None:
        """Replace the file (it must exist: its mode and owner are kept)."""
        if not self.path.exists():
            raise FileNotFoundError(2, "No such file or directory", str(self.path))
        atomic_write(self.path, text)

    def publish(self, key: AccessKey, user: str) -> RestoreState:
        with self._exclusive():
            self._rewrite(self.replace(self._text(), key))
        return {}

    def previous(self, state: RestoreState) -> AccessKey | None:
        backup = state.get("backup")
        if not backup or not Path(backup).is_file():
            return None
        try:
            return self.extract(self._text(Path(backup)), self.spec)
        except TargetError:
            return None

    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        with self._exclusive():
            text = self._text()
            if self.extract(text, self.spec).key_id == old_key_id:
                return
            source = old if old is not None and old.key_id == old_key_id and old.secret \
                else None
            if source is None:
                kept = self.previous(state)
                source = kept if kept is not None and kept.key_id == old_key_id else None
            if source is None:
                raise TargetError(f"{self.spec}: cannot restore key {old_key_id}: the backup "
                                  "is gone and its secret is not in memory")
            self._rewrite(self.replace(text, source))

    def cleanup(self, state: RestoreState) -> None:
        """Delete the backup, and what a write cut off by kill -9 left beside the file
        (a temporary file holding a secret), under the folder lock so that no other
        drill's write in progress is touched."""
        backup = state.get("backup")
        if backup:
            Path(backup).unlink(missing_ok=True)
            Path(backup + ".tmp").unlink(missing_ok=True)
        real = Path(os.path.realpath(self.path))
        left = re.compile(rf"\.{re.escape(real.name)}\.irready-\d+\.tmp")
        with self._exclusive():
            for stale in real.parent.iterdir():
                if left.fullmatch(stale.name):
                    stale.unlink(missing_ok=True)
