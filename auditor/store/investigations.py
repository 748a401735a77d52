"""The investigations `irready investigate` ran. The store keeps each one's JSON
document as text and a few figures for listings; it does not know the document's shape
(the incident kit does), so the core stays free of it."""

from __future__ import annotations

from datetime import datetime

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.store.base import StoreBase, filters
from auditor.store.records import InvestigationRecord


class InvestigationTables(StoreBase):

    def record_investigation(self, record: InvestigationRecord, document: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO investigations (id, account_id, key_id, started_at,"
                " finished_at, window_from, window_to, complete, suspicious, follow_ups,"
                " document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.investigation_id, record.account_id, record.key_id,
                 iso(record.started_at), iso(record.finished_at), iso(record.window_from),
                 iso(record.window_to), int(record.complete), record.suspicious,
                 record.follow_ups, document),
            )

    def investigations(self, *, account_id: str | None = None, key_id: str | None = None,
                       limit: int | None = None) -> list[InvestigationRecord]:
        """Newest first."""
        where, params = filters(("account_id = ?", account_id), ("key_id = ?", key_id))
        rows = self._db.execute(
            "SELECT id, account_id, key_id, started_at, finished_at, window_from, window_to,"
            f" complete, suspicious, follow_ups FROM investigations WHERE 1 = 1{where}"
            " ORDER BY started_at DESC, id DESC"
            + (" LIMIT ?" if limit is not None else ""),
            (*params, *((limit,) if limit is not None else ())),
        ).fetchall()
        return [InvestigationRecord(str(r[0]), str(r[1]), str(r[2]), parse_iso(r[3]),
                                    parse_iso(r[4]), parse_iso(r[5]), parse_iso(r[6]),
                                    bool(r[7]), int(r[8]), int(r[9])) for r in rows]

    def investigation_document(self, investigation_id: str) -> str:
        row = self._db.execute("SELECT document FROM investigations WHERE id = ?",
                               (investigation_id,)).fetchone()
        if row is None:
            raise NotFound(f"no investigation {investigation_id!r} in {self.path}: "
                           "`irready history` lists them")
        return str(row[0])

    def latest_investigation(self, key_id: str, since: datetime) -> str | None:
        """The newest investigation of the key started at or after `since` (its document)."""
        row = self._db.execute(
            "SELECT document FROM investigations WHERE key_id = ? AND started_at >= ?"
            " ORDER BY started_at DESC LIMIT 1", (key_id, iso(since))).fetchone()
        return None if row is None else str(row[0])
