"""The SQLite file under the history store: opened in WAL mode with foreign keys,
migrated forward on open, refused when a newer irready wrote it or when it is another
application's database.

Every statement goes through `Connection`, the one door to SQLite: whatever SQLite
says (a damaged page, a read-only file, a busy lock) comes out as a `StoreError`, one
line that names the store and says what to do, wherever in the store it happened."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from auditor.clock import iso
from auditor.errors import StoreError
from auditor.store.schema import MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"


def filters(*clauses: tuple[str, Any]) -> tuple[str, list[Any]]:
    """`" AND clause"` for each (clause, value) whose value is given (not None, not ""),
    with the parameters in order: times as the stored ISO text, booleans as 0/1. The
    listing methods share it, so an optional filter is written once."""
    sql, params = "", []
    for clause, value in clauses:
        if value is None or value == "":
            continue
        sql += f" AND {clause}"
        params.append(iso(value) if isinstance(value, datetime)
                      else int(value) if isinstance(value, bool) else value)
    return sql, params


def store_error(path: Path, exc: sqlite3.Error | OSError) -> StoreError:
    """What SQLite (or the file system) said about the store at `path`, as one line with
    what to do about it."""
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return damaged(path, reason)
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM) or (
            isinstance(exc, PermissionError)):
        return StoreError(
            f"cannot write the history store {path} ({reason}): irready needs to write the "
            "file and its folder (the -wal and -shm files live beside it)")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(f"the history store {path} is busy ({reason}): another irready "
                          "held it for 30 seconds; try again when it has finished")
    if code == sqlite3.SQLITE_FULL:
        return StoreError(f"cannot write the history store {path} ({reason}): free some "
                          "space on its disk")
    return StoreError(f"cannot use the history store {path}: {reason}")


def damaged(path: Path, reason: str) -> StoreError:
    return StoreError(f"the history store {path} is damaged ({reason}): move it aside "
                      "(irready then starts a new one there) or restore it from a backup")


class Cursor:
    """A cursor whose rows are read under the store's error translation (SQLite may meet
    a damaged page only while it steps through the rows)."""

    def __init__(self, cursor: sqlite3.Cursor, path: Path) -> None:
        self._cursor = cursor
        self._path = path

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as exc:
            raise store_error(self._path, exc) from None

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as exc:
            raise store_error(self._path, exc) from None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Connection:
    """The store's one connection to SQLite; any sqlite3.Error is a StoreError."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return Cursor(self._db.execute(sql, params), self._path)
        except sqlite3.Error as exc:
            raise store_error(self._path, exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        try:
            return Cursor(self._db.executemany(sql, rows), self._path)
        except sqlite3.Error as exc:
            raise store_error(self._path, exc) from None

    def close(self) -> None:
        self._db.close()


class StoreBase:
    """The connection, its migrations and transactions; the tables' methods live in
    the mixins beside this module.

    `create_folder`: make the store's folder if it is missing, for irready's own default
    location only; a store named on the command line or in the config must be in a
    folder that exists."""

    def __init__(self, path: Path, *, create_folder: bool = False) -> None:
        self.path = path
        try:
            if create_folder:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise StoreError(f"cannot open the history store {path}: folder "
                                 f"{path.parent} does not exist")
            if path.is_dir():
                raise StoreError(f"cannot open the history store {path}: it is a folder")
            raw = sqlite3.connect(path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        except sqlite3.Error as exc:
            raise store_error(path, exc) from None
        except OSError as exc:
            raise StoreError(f"cannot open the history store {path}: "
                             f"{exc.strerror or exc}") from None
        self._db = Connection(raw, path)
        try:
            self._refuse_foreign()
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _refuse_foreign(self) -> None:
        """Read only, before anything is written: a newer irready's store, or a database
        that is not an irready store at all (another application's tables), is refused
        unchanged."""
        try:
            with self.path.open("rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StoreError(f"cannot open the history store {self.path}: "
                             f"{exc.strerror or exc}") from None
        if header and header != SQLITE_HEADER:
            raise StoreError(f"the history store {self.path} is not an SQLite database "
                             "(damaged, or another file): move it aside (irready then starts "
                             "a new one there) or pass another --history path")
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the history store {self.path} was written by a newer irready "
                f"(schema {version}, this one knows {len(MIGRATIONS)})"
            )
        tables = {row[0] for row in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        if tables and (version == 0 or "audit_runs" not in tables):
            raise StoreError(f"{self.path} is another application's SQLite database, not an "
                             "irready history store: irready leaves it unchanged; pass "
                             "another --history path or [history] path")

    def _migrate(self) -> None:
        version = self.schema_version
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    def check_writable(self) -> None:
        """Prove that a run can be stored, before the work that produces it: a quick
        check of every page, then one real write (the schema version, unchanged)
        committed. A StoreError says why not."""
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:  # found before the write, so a damaged store is left as is
            raise damaged(self.path, problems[0])
        with self.transaction() as db:
            db.execute(f"PRAGMA user_version = {self.schema_version}")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            with suppress(StoreError):  # SQLite rolled back already (it does on some errors)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
