"""The containments `irready contain run` carried out. The store keeps each one's status,
its time to safe and its journal (a JSON document the incident kit writes and reads: the
plan and every action before and after it ran), one autocommitted statement at a time, so
a containment killed anywhere leaves a record of exactly how far it got."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.store.base import StoreBase, filters


@dataclass(frozen=True)
class ContainmentRecord:
    containment_id: str
    account_id: str
    user: str
    key_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    safe_seconds: float | None  # start to the exposed key inactive (and sessions revoked)
    journal: dict[str, Any]


class ContainmentTables(StoreBase):

    def begin_containment(self, record: ContainmentRecord) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO containments (id, account_id, user_name, key_id, status,"
                " started_at, finished_at, safe_seconds, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
                (record.containment_id, record.account_id, record.user, record.key_id,
                 record.status, iso(record.started_at), _json(record.journal)))

    def save_containment(self, containment_id: str, *, journal: Mapping[str, Any],
                         status: str, finished_at: datetime | None = None,
                         safe_seconds: float | None = None) -> None:
        """Write the journal and status; a finish time or time to safe, once known, stays."""
        with self.transaction() as db:
            db.execute(
                "UPDATE containments SET detail = ?, status = ?,"
                " finished_at = COALESCE(?, finished_at),"
                " safe_seconds = COALESCE(safe_seconds, ?) WHERE id = ?",
                (_json(journal), status, iso(finished_at) if finished_at else None,
                 safe_seconds, containment_id))

    def load_containment(self, containment_id: str) -> ContainmentRecord:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM containments WHERE id = ?",
                               (containment_id,)).fetchone()
        if row is None:
            raise NotFound(f"no containment {containment_id!r} in {self.path}: "
                           "`irready contain list` lists them")
        return _record(row)

    def containments(self, *, account_id: str | None = None, key_id: str | None = None,
                     user: str | None = None) -> list[ContainmentRecord]:
        """Newest first."""
        where, params = filters(("account_id = ?", account_id), ("key_id = ?", key_id),
                                ("user_name = ?", user))
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM containments WHERE 1 = 1{where}"
            " ORDER BY started_at DESC, rowid DESC", params).fetchall()
        return [_record(row) for row in rows]


_COLUMNS = ("id, account_id, user_name, key_id, status, started_at, finished_at,"
            " safe_seconds, detail")


def _json(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, default=str)


def _record(row: Sequence[Any]) -> ContainmentRecord:
    return ContainmentRecord(
        containment_id=str(row[0]), account_id=str(row[1]), user=str(row[2]),
        key_id=str(row[3]), status=str(row[4]), started_at=parse_iso(row[5]),
        finished_at=parse_iso(row[6]) if row[6] else None,
        safe_seconds=None if row[7] is None else float(row[7]), journal=json.loads(row[8]))
