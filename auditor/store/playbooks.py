"""The playbooks `irready playbook` wrote for each account: when, from which audit's
snapshot, and that snapshot's digest per part (what the check playbook.current
compares with the account as the audit finds it)."""

from __future__ import annotations

import json
from datetime import datetime

from auditor.clock import iso, parse_iso
from auditor.store.base import StoreBase
from auditor.store.records import PlaybookRecord


class PlaybookTables(StoreBase):

    def record_playbook(self, record: PlaybookRecord) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO playbooks (account_id, generated_at, run_id, digests,"
                " keys_covered, keys_total) VALUES (?, ?, ?, ?, ?, ?)",
                (record.account_id, iso(record.generated_at), record.run_id,
                 json.dumps(record.digests, sort_keys=True), record.keys_covered,
                 record.keys_total),
            )

    def latest_playbook(self, account_id: str, until: datetime | None = None
                        ) -> PlaybookRecord | None:
        """The newest playbook written for the account (before `until`, if given)."""
        row = self._db.execute(
            "SELECT account_id, generated_at, run_id, digests, keys_covered, keys_total"
            " FROM playbooks WHERE account_id = ? AND generated_at < ?"
            " ORDER BY generated_at DESC, id DESC LIMIT 1",
            (account_id, iso(until) if until is not None else "9999"),
        ).fetchone()
        if row is None:
            return None
        digests = json.loads(row[3])
        return PlaybookRecord(str(row[0]), parse_iso(row[1]), int(row[2]),
                              {str(k): str(v) for k, v in digests.items()}
                              if isinstance(digests, dict) else {},
                              None if row[4] is None else int(row[4]),
                              None if row[5] is None else int(row[5]))
