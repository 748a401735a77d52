"""Account snapshots in the history store: one per complete audit run, kept with the
run (deleting the run deletes it), so the incident kit can read what the latest audit
learned about an account without asking AWS again."""

from __future__ import annotations

from auditor.clock import iso
from auditor.snapshot import AccountSnapshot
from auditor.store.base import StoreBase


class SnapshotTables(StoreBase):

    def save_snapshot(self, run_id: int, snapshot: AccountSnapshot) -> None:
        """Keep `snapshot` as what run `run_id` learned; a second save replaces it."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO account_snapshots (run_id, account_id, taken_at, body)"
                " VALUES (?, ?, ?, ?)",
                (run_id, snapshot.account_id, iso(snapshot.taken_at), snapshot.to_json()),
            )

    def latest_snapshot(self, account_id: str) -> tuple[int, AccountSnapshot] | None:
        """The newest snapshot of the account and the id of the run that took it."""
        row = self._db.execute(
            "SELECT run_id, body FROM account_snapshots WHERE account_id = ?"
            " ORDER BY taken_at DESC, run_id DESC LIMIT 1", (account_id,)
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), AccountSnapshot.from_json(row[1])
