"""The history store: one SQLite file with every audit run, its findings, and every
drill with its journal. Reports, trends, "new since last run" and the drill.recent
check all read it. The schema is versioned (PRAGMA user_version) and migrates forward
on open; secrets are never written here.

Times are stored as ISO-8601 UTC strings, so the file sorts and reads well by hand."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError, NotFound
from auditor.models import AuditRun, Finding, Severity, Status

MIGRATIONS: tuple[str, ...] = (
    # 1: audits and drills
    """
    CREATE TABLE audit_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        score REAL NOT NULL,
        regions TEXT NOT NULL,
        version TEXT NOT NULL,
        caller_arn TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_runs_account ON audit_runs (account_id, started_at);
    CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        check_id TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        severity INTEGER NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        resource TEXT NOT NULL,
        message TEXT NOT NULL,
        remediation TEXT NOT NULL,
        refs TEXT NOT NULL,
        evidence TEXT NOT NULL,
        waiver TEXT
    );
    CREATE INDEX findings_run ON findings (run_id);
    CREATE TABLE drills (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        rotation_seconds REAL,
        target_seconds REAL NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX drills_account ON drills (account_id, started_at);
    CREATE TABLE drill_steps (
        drill_id TEXT NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (drill_id, seq)
    );
    """,
    # 2: the scheduler's runs (one row per job run, written when it starts and when it
    # ends) and its small key/value state (the epoch: when the schedule first applied)
    """
    CREATE TABLE schedule_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        slot TEXT,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        exit_code INTEGER,
        summary TEXT NOT NULL DEFAULT '',
        report TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        notified TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX schedule_runs_job ON schedule_runs (job, started_at);
    CREATE TABLE schedule_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: which checks an audit ran, and whether that was the whole catalogue: a partial
    # run (--check, --skip, audit.checks) must not move the readiness trend nor count
    # as the weekly audit. Older runs keep complete = 1 (nothing recorded otherwise);
    # their checks are the ones with findings, since every selected check yields one.
    # The JSON list is built by hand (check ids are [a-z0-9._], nothing to escape) so
    # that an SQLite built without JSON functions still opens the store.
    """
    ALTER TABLE audit_runs ADD COLUMN checks TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE audit_runs ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
    UPDATE audit_runs SET checks = '[' || COALESCE((
        SELECT group_concat('"' || check_id || '"', ', ') FROM (
            SELECT DISTINCT check_id FROM findings WHERE run_id = audit_runs.id
            ORDER BY check_id)), '') || ']';
    CREATE INDEX audit_runs_complete ON audit_runs (complete, started_at);
    """,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    account_id: str
    started_at: datetime
    finished_at: datetime
    score: float
    counts: dict[str, int]
    checks: tuple[str, ...] = ()  # the check ids the run selected
    complete: bool = True  # False: a hand-picked subset (--check, --skip, audit.checks)


@dataclass(frozen=True)
class DrillStep:
    seq: int
    name: str
    state: str  # "started", "done", "failed", "skipped"
    started_at: datetime
    finished_at: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class DrillRecord:
    drill_id: str
    account_id: str
    user: str
    target: str
    status: str  # "RUNNING", "SUCCEEDED", "FAILED", "ROLLED_BACK", "INTERRUPTED", ...
    started_at: datetime
    finished_at: datetime | None
    rotation_seconds: float | None  # start to old key deactivated
    target_seconds: float
    detail: dict[str, Any] = field(default_factory=dict)
    steps: tuple[DrillStep, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def within_target(self) -> bool:
        return self.rotation_seconds is not None and self.rotation_seconds <= self.target_seconds


class HistoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the history store {path}: {exc}") from None
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise ConfigError(f"cannot open the history store {path}: {exc}") from None
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise ConfigError(
                f"the history store {self.path} was written by a newer irready "
                f"(schema {version}, this one knows {len(MIGRATIONS)})"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- audits -----------------------------------------------------------------

    def save_run(self, run: AuditRun) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO audit_runs (account_id, started_at, finished_at, score, regions,"
                " version, caller_arn, checks, complete) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.account_id, iso(run.started_at), iso(run.finished_at), run.score,
                 json.dumps(list(run.regions)), run.version, run.caller_arn,
                 json.dumps(list(run.checks)), int(run.complete)),
            )
            run_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, f.key, f.check_id, f.title, f.status.value, int(f.severity),
                     f.account_id, f.region, f.resource, f.message, f.remediation,
                     json.dumps(list(f.references)), json.dumps(dict(f.evidence), sort_keys=True),
                     f.waiver)
                    for f in run.findings
                ],
            )
        return run_id

    def runs(self, account_id: str | None = None, since: datetime | None = None,
             until: datetime | None = None, limit: int | None = None,
             complete: bool | None = None) -> list[RunSummary]:
        """Newest first; `complete=True` keeps only runs of the whole catalogue (the ones
        a trend or the weekly audit slot may use), False only the partial ones."""
        sql = ("SELECT id, account_id, started_at, finished_at, score, checks, complete"
               " FROM audit_runs WHERE 1=1")
        params: list[Any] = []
        if complete is not None:
            sql += " AND complete = ?"
            params.append(int(complete))
        if account_id:
            sql += " AND account_id = ?"
            params.append(account_id)
        if since:
            sql += " AND started_at >= ?"
            params.append(iso(since))
        if until:
            sql += " AND started_at < ?"
            params.append(iso(until))
        sql += " ORDER BY started_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self._db.execute(sql, params).fetchall()
        counts = self._counts([row[0] for row in rows])
        return [
            RunSummary(row[0], row[1], parse_iso(row[2]), parse_iso(row[3]), row[4],
                       counts.get(row[0], {}), tuple(json.loads(row[5])), bool(row[6]))
            for row in rows
        ]

    def _counts(self, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        result: dict[int, dict[str, int]] = {}
        if not run_ids:
            return result
        marks = ",".join("?" * len(run_ids))
        for run_id, status, count in self._db.execute(
            f"SELECT run_id, status, COUNT(*) FROM findings WHERE run_id IN ({marks})"
            " GROUP BY run_id, status", list(run_ids)
        ):
            result.setdefault(run_id, {s.value: 0 for s in Status})[status] = count
        return result

    def load_run(self, run_id: int) -> AuditRun:
        row = self._db.execute(
            "SELECT account_id, started_at, finished_at, regions, version, caller_arn,"
            " checks, complete FROM audit_runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no audit run with id {run_id} in {self.path}")
        findings = tuple(
            Finding(check_id=f[0], title=f[1], status=Status(f[2]), severity=Severity(f[3]),
                    account_id=f[4], region=f[5], resource=f[6], message=f[7],
                    remediation=f[8], references=tuple(json.loads(f[9])),
                    evidence=json.loads(f[10]), waiver=f[11])
            for f in self._db.execute(
                "SELECT check_id, title, status, severity, account_id, region, resource, message,"
                " remediation, refs, evidence, waiver FROM findings WHERE run_id = ?"
                " ORDER BY rowid", (run_id,)
            )
        )
        return AuditRun(account_id=row[0], started_at=parse_iso(row[1]),
                        finished_at=parse_iso(row[2]), findings=findings,
                        regions=tuple(json.loads(row[3])), version=row[4], caller_arn=row[5],
                        checks=tuple(json.loads(row[6])), complete=bool(row[7]),
                        run_id=run_id)

    def latest_run(self, account_id: str | None = None, before: int | None = None
                   ) -> AuditRun | None:
        sql = "SELECT id FROM audit_runs WHERE 1=1"
        params: list[Any] = []
        if account_id:
            sql += " AND account_id = ?"
            params.append(account_id)
        if before is not None:
            sql += " AND id < ?"
            params.append(before)
        row = self._db.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return self.load_run(row[0]) if row else None

    # -- drills -----------------------------------------------------------------

    def drills(self, account_id: str | None = None, since: datetime | None = None,
               until: datetime | None = None, user: str | None = None) -> list[DrillRecord]:
        """Newest first, each with its steps."""
        sql = ("SELECT id, account_id, user_name, target, status, started_at, finished_at,"
               " rotation_seconds, target_seconds, detail FROM drills WHERE 1=1")
        params: list[Any] = []
        for column, value in (("account_id", account_id), ("user_name", user)):
            if value:
                sql += f" AND {column} = ?"
                params.append(value)
        if since:
            sql += " AND started_at >= ?"
            params.append(iso(since))
        if until:
            sql += " AND started_at < ?"
            params.append(iso(until))
        rows = self._db.execute(sql + " ORDER BY started_at DESC, rowid DESC", params).fetchall()
        return [self._drill(row) for row in rows]

    def load_drill(self, drill_id: str) -> DrillRecord:
        row = self._db.execute(
            "SELECT id, account_id, user_name, target, status, started_at, finished_at,"
            " rotation_seconds, target_seconds, detail FROM drills WHERE id = ?", (drill_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no drill with id {drill_id!r} in {self.path}")
        return self._drill(row)

    def _drill(self, row: Sequence[Any]) -> DrillRecord:
        steps = tuple(
            DrillStep(seq, name, state, parse_iso(started),
                      parse_iso(finished) if finished else None, json.loads(detail))
            for seq, name, state, started, finished, detail in self._db.execute(
                "SELECT seq, name, state, started_at, finished_at, detail FROM drill_steps"
                " WHERE drill_id = ? ORDER BY seq", (row[0],)
            )
        )
        return DrillRecord(
            drill_id=row[0], account_id=row[1], user=row[2], target=row[3], status=row[4],
            started_at=parse_iso(row[5]), finished_at=parse_iso(row[6]) if row[6] else None,
            rotation_seconds=row[7], target_seconds=row[8], detail=json.loads(row[9]),
            steps=steps,
        )

    def save_drill(self, drill: DrillRecord) -> None:
        """Insert or replace a drill and all its steps (used by the journal and tests)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO drills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (drill.drill_id, drill.account_id, drill.user, drill.target, drill.status,
                 iso(drill.started_at), iso(drill.finished_at) if drill.finished_at else None,
                 drill.rotation_seconds, drill.target_seconds,
                 json.dumps(drill.detail, sort_keys=True)),
            )
            db.execute("DELETE FROM drill_steps WHERE drill_id = ?", (drill.drill_id,))
            db.executemany(
                "INSERT INTO drill_steps VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(drill.drill_id, s.seq, s.name, s.state, iso(s.started_at),
                  iso(s.finished_at) if s.finished_at else None,
                  json.dumps(s.detail, sort_keys=True)) for s in drill.steps],
            )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Raw access for the drill journal, which writes a step at a time."""
        return self._db.execute(sql, params)


def open_history(path: Path) -> HistoryStore:
    return HistoryStore(path)
