"""Audit runs and their findings in the history store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.models import AuditRun, Finding, Severity, Status, WaiverState, coverage_of
from auditor.store.base import StoreBase, filters
from auditor.store.records import RunSummary


class AuditTables(StoreBase):

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
                "INSERT INTO findings (run_id, key, check_id, title, status, severity,"
                " account_id, region, resource, message, remediation, refs, evidence,"
                " waiver_reason, waiver_expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, f.key, f.check_id, f.title, f.status.value, int(f.severity),
                     f.account_id, f.region, f.resource, f.message, f.remediation,
                     json.dumps(list(f.references)), json.dumps(dict(f.evidence), sort_keys=True),
                     f.waiver.reason if f.waiver else None,
                     f.waiver.expires.isoformat() if f.waiver else None)
                    for f in run.findings
                ],
            )
        return run_id

    def runs(self, account_id: str | None = None, since: datetime | None = None,
             until: datetime | None = None, limit: int | None = None,
             complete: bool | None = None) -> list[RunSummary]:
        """Newest first; `complete=True` keeps only runs of the whole catalogue (the ones
        a trend or the weekly audit slot may use), False only the partial ones."""
        where, params = filters(("complete = ?", complete), ("account_id = ?", account_id),
                                ("started_at >= ?", since), ("started_at < ?", until))
        sql = ("SELECT id, account_id, started_at, finished_at, score, checks, complete"
               f" FROM audit_runs WHERE 1=1{where} ORDER BY started_at DESC, id DESC")
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self._db.execute(sql, params).fetchall()
        counts = self._counts([row[0] for row in rows])
        statuses = self._check_statuses([row[0] for row in rows])
        return [
            RunSummary(row[0], row[1], parse_iso(row[2]), parse_iso(row[3]), row[4],
                       counts.get(row[0], {}), tuple(json.loads(row[5])), bool(row[6]),
                       coverage=coverage_of(statuses.get(row[0], {}), json.loads(row[5])))
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

    def _check_statuses(self, run_ids: Sequence[int]
                        ) -> dict[int, dict[str, set[Status]]]:
        """Per run, the statuses each check's findings had: what its coverage needs,
        without loading every finding."""
        result: dict[int, dict[str, set[Status]]] = {}
        if not run_ids:
            return result
        marks = ",".join("?" * len(run_ids))
        for run_id, check_id, status in self._db.execute(
            f"SELECT DISTINCT run_id, check_id, status FROM findings WHERE run_id IN ({marks})",
            list(run_ids)
        ):
            result.setdefault(run_id, {}).setdefault(check_id, set()).add(Status(status))
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
                    evidence=json.loads(f[10]), waiver=_waiver(f[11], f[12], Status(f[2])))
            for f in self._db.execute(
                "SELECT check_id, title, status, severity, account_id, region, resource, message,"
                " remediation, refs, evidence, waiver_reason, waiver_expires FROM findings"
                " WHERE run_id = ?"
                " ORDER BY rowid", (run_id,)
            )
        )
        return AuditRun(account_id=row[0], started_at=parse_iso(row[1]),
                        finished_at=parse_iso(row[2]), findings=findings,
                        regions=tuple(json.loads(row[3])), version=row[4], caller_arn=row[5],
                        checks=tuple(json.loads(row[6])), complete=bool(row[7]),
                        run_id=run_id)

    def latest_run(self, account_id: str | None = None, before: int | None = None, *,
                   complete: bool | None = None, until: datetime | None = None
                   ) -> AuditRun | None:
        """The newest run (by id), before run `before` and started before `until` if
        given; `complete=True`: of the whole catalogue only."""
        where, params = filters(("complete = ?", complete), ("started_at < ?", until),
                                ("account_id = ?", account_id), ("id < ?", before))
        row = self._db.execute(f"SELECT id FROM audit_runs WHERE 1=1{where}"
                               " ORDER BY id DESC LIMIT 1", params).fetchone()
        return self.load_run(row[0]) if row else None


    def failing_since(self, account_id: str, until: datetime) -> dict[str, datetime]:
        """For each check failing in the newest complete run before `until`, the start
        of its current unbroken streak of FAIL runs. A run where the check could not be
        evaluated (ERROR) or did not run neither breaks nor starts a streak; partial runs
        (--check, --skip) are left out. One grouped query, so the cost does not grow
        with findings kept in memory."""
        rows = self._db.execute(
            "SELECT r.started_at, f.check_id, MAX(f.status = 'FAIL'), MAX(f.status = 'ERROR')"
            " FROM audit_runs r JOIN findings f ON f.run_id = r.id"
            " WHERE r.account_id = ? AND r.started_at < ? AND r.complete = 1"
            " GROUP BY r.id, f.check_id ORDER BY r.started_at, r.id, f.check_id",
            (account_id, iso(until)),
        )
        since: dict[str, datetime] = {}
        for started_at, check_id, failed, errored in rows:
            if failed:
                since.setdefault(check_id, parse_iso(started_at))
            elif not errored:
                since.pop(check_id, None)
        return since

def _waiver(reason: str | None, expires: str | None, status: Status) -> WaiverState | None:
    """A waiver applied exactly where it made the finding WAIVED; one kept on a finding
    of another status had expired."""
    if reason is None or expires is None:
        return None
    return WaiverState(reason, date.fromisoformat(expires), applies=status is Status.WAIVED)
