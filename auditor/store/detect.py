"""Detection drills (`irready drill detect`) in the history store. A detection drill is
journaled as it runs, one autocommitted statement at a time: the temporary key's id is
written before anything else can happen to it and again once it is deleted, so a drill
killed anywhere tells `drill resume|rollback` which key to delete. The store keeps the
journal and the finished drill's JSON document as text; it does not know their shape
beyond a few keys (the drill package does), so the core stays free of it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.store.base import StoreBase, filters
from auditor.store.records import DetectDrillRecord

_COLUMNS = ("id, account_id, user_name, status, started_at, finished_at, seen_seconds, journal,"
            " document")


class DetectTables(StoreBase):

    def begin_detect_drill(self, *, drill_id: str, account_id: str, user: str,
                           started_at: datetime, journal: Mapping[str, Any]) -> None:
        """Write a new detection drill, RUNNING."""
        self._db.execute(
            f"INSERT INTO detect_drills ({_COLUMNS}) VALUES (?, ?, ?, 'RUNNING', ?, NULL, NULL,"
            " ?, NULL)", (drill_id, account_id, user, iso(started_at), _json(journal)))

    def set_detect_journal(self, drill_id: str, journal: Mapping[str, Any]) -> None:
        self._db.execute("UPDATE detect_drills SET journal = ? WHERE id = ?",
                         (_json(journal), drill_id))

    def finish_detect_drill(self, drill_id: str, status: str, finished_at: datetime,
                            document: str | None, seen_seconds: float | None = None) -> None:
        """Its final (or cut-off) status, and the result's JSON document when there is one."""
        self._db.execute(
            "UPDATE detect_drills SET status = ?, finished_at = ?, seen_seconds = ?,"
            " document = coalesce(?, document) WHERE id = ?",
            (status, iso(finished_at), seen_seconds, document, drill_id))

    def detect_drills(self, account_id: str | None = None, since: datetime | None = None,
                      user: str | None = None) -> list[DetectDrillRecord]:
        """Newest first."""
        where, params = filters(("account_id = ?", account_id), ("user_name = ?", user),
                                ("started_at >= ?", since))
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM detect_drills WHERE 1=1{where}"
            " ORDER BY started_at DESC, rowid DESC", params).fetchall()
        return [_record(row) for row in rows]

    def find_detect_drill(self, drill_id: str) -> DetectDrillRecord | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM detect_drills WHERE id = ?",
                               (drill_id,)).fetchone()
        return None if row is None else _record(row)

    def load_detect_drill(self, drill_id: str) -> DetectDrillRecord:
        record = self.find_detect_drill(drill_id)
        if record is None:
            raise NotFound(f"no detection drill with id {drill_id!r} in {self.path}")
        return record


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _record(row: Sequence[Any]) -> DetectDrillRecord:
    return DetectDrillRecord(
        drill_id=row[0], account_id=row[1], user=row[2], status=row[3],
        started_at=parse_iso(row[4]), finished_at=parse_iso(row[5]) if row[5] else None,
        seen_seconds=row[6], journal=json.loads(row[7]), document=row[8])
