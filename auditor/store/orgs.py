"""Organization runs in the history store: which accounts an `irready audit --org` run
covered, the stored audit run of each, and why the others have none. An organization run
is read back whole (`load_org_run`), so a report of it shows what the run showed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.org import AccountAudit, AccountState, OrgAccount, OrgAudit, OrgScope
from auditor.store.audits import AuditTables


@dataclass(frozen=True)
class OrgRunSummary:
    org_run_id: int
    management_account: str
    started_at: datetime
    finished_at: datetime
    accounts: int
    audited: int
    errors: int
    skipped: int


class OrgTables(AuditTables):

    def save_org_run(self, org: OrgAudit) -> int:
        """The accounts' own runs are stored already (each by its audit): this groups them."""
        scope = {"role": org.scope.role, "ou": org.scope.ou, "accounts": list(org.scope.accounts),
                 "exclude": list(org.scope.exclude), "parallel": org.scope.parallel}
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO org_runs (management_account, caller_arn, started_at, finished_at,"
                " scope, notes) VALUES (?, ?, ?, ?, ?, ?)",
                (org.management_account, org.caller_arn, iso(org.started_at),
                 iso(org.finished_at), json.dumps(scope, sort_keys=True),
                 json.dumps(list(org.notes))))
            org_run_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO org_run_accounts (org_run_id, account_id, name, state, via, reason,"
                " run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(org_run_id, a.account_id, a.account.name, a.state.value, a.via, a.reason,
                  a.run.run_id if a.run is not None else None) for a in org.accounts])
        return org_run_id

    def org_runs(self, limit: int | None = None) -> list[OrgRunSummary]:
        """Newest first, with how many accounts each covered and how."""
        sql = ("SELECT o.id, o.management_account, o.started_at, o.finished_at,"
               " COUNT(a.account_id),"
               " SUM(a.state = 'AUDITED'), SUM(a.state = 'ERROR'), SUM(a.state = 'SKIPPED')"
               " FROM org_runs o LEFT JOIN org_run_accounts a ON a.org_run_id = o.id"
               " GROUP BY o.id ORDER BY o.started_at DESC, o.id DESC")
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [OrgRunSummary(row[0], row[1], parse_iso(row[2]), parse_iso(row[3]), row[4],
                              row[5] or 0, row[6] or 0, row[7] or 0)
                for row in self._db.execute(sql).fetchall()]

    def org_run_ids(self, org_run_id: int) -> list[int]:
        """The stored audit runs an organization run grouped."""
        self._org_row(org_run_id)
        rows = self._db.execute(
            "SELECT run_id FROM org_run_accounts WHERE org_run_id = ? AND run_id IS NOT NULL"
            " ORDER BY account_id", (org_run_id,)).fetchall()
        return [row[0] for row in rows]

    def latest_org_run_id(self) -> int | None:
        row = self._db.execute(
            "SELECT id FROM org_runs ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def _org_row(self, org_run_id: int) -> tuple[str, str, str, str, str, str]:
        row = self._db.execute(
            "SELECT management_account, caller_arn, started_at, finished_at, scope, notes"
            " FROM org_runs WHERE id = ?", (org_run_id,)).fetchone()
        if row is None:
            raise NotFound(f"no organization run {org_run_id} in the history store "
                           "(`irready history --org` lists them)")
        return row  # type: ignore[no-any-return]

    def load_org_run(self, org_run_id: int) -> OrgAudit:
        management, caller, started, finished, scope_text, notes = self._org_row(org_run_id)
        scope = json.loads(scope_text)
        rows = self._db.execute(
            "SELECT account_id, name, state, via, reason, run_id FROM org_run_accounts"
            " WHERE org_run_id = ? ORDER BY account_id", (org_run_id,)).fetchall()
        accounts = []
        for account_id, name, state, via, reason, run_id in rows:
            run = self.load_run(run_id) if run_id is not None else None
            state = AccountState(state)
            if state is AccountState.AUDITED and run is None:
                state, reason = AccountState.ERROR, "its run is no longer in the history store"
            accounts.append(AccountAudit(OrgAccount(account_id, name), state, run=run,
                                         reason=reason, via=via))
        return OrgAudit(management_account=management, caller_arn=caller,
                        started_at=parse_iso(started), finished_at=parse_iso(finished),
                        scope=OrgScope(role=scope["role"], ou=scope["ou"],
                                       accounts=tuple(scope["accounts"]),
                                       exclude=tuple(scope["exclude"]),
                                       parallel=scope["parallel"]),
                        accounts=tuple(accounts), org_run_id=org_run_id,
                        notes=tuple(json.loads(notes)))
