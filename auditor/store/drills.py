"""Drills and their journal steps in the history store.

The drill's journal writes one autocommitted statement at a time (a step before it acts,
again when it ends; the drill's detail with each change), so a drill killed anywhere
leaves a record of exactly how far it got."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from auditor.clock import iso, parse_iso
from auditor.errors import NotFound
from auditor.store.base import StoreBase, filters
from auditor.store.drill_states import DrillStatus, StepName, StepState
from auditor.store.records import DrillRecord, DrillStep


def _json(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, default=str)


class DrillTables(StoreBase):

    def drills(self, account_id: str | None = None, since: datetime | None = None,
               until: datetime | None = None, user: str | None = None) -> list[DrillRecord]:
        """Newest first, each with its steps."""
        where, params = filters(("account_id = ?", account_id), ("user_name = ?", user),
                                ("started_at >= ?", since), ("started_at < ?", until))
        rows = self._db.execute(
            "SELECT id, account_id, user_name, target, status, started_at, finished_at,"
            f" rotation_seconds, target_seconds, detail FROM drills WHERE 1=1{where}"
            " ORDER BY started_at DESC, rowid DESC", params).fetchall()
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
            DrillStep(seq, StepName(name), StepState(state), parse_iso(started),
                      parse_iso(finished) if finished else None, json.loads(detail))
            for seq, name, state, started, finished, detail in self._db.execute(
                "SELECT seq, name, state, started_at, finished_at, detail FROM drill_steps"
                " WHERE drill_id = ? ORDER BY seq", (row[0],)
            )
        )
        return DrillRecord(
            drill_id=row[0], account_id=row[1], user=row[2], target=row[3],
            status=DrillStatus(row[4]),
            started_at=parse_iso(row[5]), finished_at=parse_iso(row[6]) if row[6] else None,
            rotation_seconds=row[7], target_seconds=row[8], detail=json.loads(row[9]),
            steps=steps,
        )

    def save_drill(self, drill: DrillRecord) -> None:
        """Insert or replace a drill and all its steps (used by the journal and tests)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO drills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (drill.drill_id, drill.account_id, drill.user, drill.target, drill.status.value,
                 iso(drill.started_at), iso(drill.finished_at) if drill.finished_at else None,
                 drill.rotation_seconds, drill.target_seconds,
                 json.dumps(drill.detail, sort_keys=True)),
            )
            db.execute("DELETE FROM drill_steps WHERE drill_id = ?", (drill.drill_id,))
            db.executemany(
                "INSERT INTO drill_steps VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(drill.drill_id, s.seq, s.name.value, s.state.value, iso(s.started_at),
                  iso(s.finished_at) if s.finished_at else None,
                  json.dumps(s.detail, sort_keys=True)) for s in drill.steps],
            )

    # -- the journal: one statement at a time -------------------------------------------

    def begin_drill(self, *, drill_id: str, account_id: str, user: str, target: str,
                    started_at: datetime, target_seconds: float,
                    detail: Mapping[str, Any]) -> None:
        """Write a new drill, RUNNING, not yet finished."""
        self._db.execute(
            "INSERT INTO drills (id, account_id, user_name, target, status, started_at,"
            " finished_at, rotation_seconds, target_seconds, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
            (drill_id, account_id, user, target, DrillStatus.RUNNING.value, iso(started_at),
             target_seconds, _json(detail)),
        )

    def start_step(self, drill_id: str, seq: int, name: StepName, at: datetime,
                   detail: Mapping[str, Any]) -> None:
        """Write a step as STARTED, before it acts."""
        self._db.execute(
            "INSERT INTO drill_steps (drill_id, seq, name, state, started_at, finished_at,"
            " detail) VALUES (?, ?, ?, ?, ?, NULL, ?)",
            (drill_id, seq, name.value, StepState.STARTED.value, iso(at), _json(detail)),
        )

    def end_step(self, drill_id: str, seq: int, state: StepState, at: datetime,
                 detail: Mapping[str, Any]) -> None:
        self._db.execute(
            "UPDATE drill_steps SET state = ?, finished_at = ?, detail = ?"
            " WHERE drill_id = ? AND seq = ?",
            (state.value, iso(at), _json(detail), drill_id, seq),
        )

    def set_drill_detail(self, drill_id: str, detail: Mapping[str, Any]) -> None:
        self._db.execute("UPDATE drills SET detail = ? WHERE id = ?",
                         (_json(detail), drill_id))

    def set_drill_status(self, drill_id: str, status: DrillStatus, *,
                         finished_at: datetime | None = None,
                         rotation_seconds: float | None = None) -> None:
        """Set the status; `finished_at` when given (RUNNING again clears it), and the
        measured rotation time when given."""
        sql = "UPDATE drills SET status = ?"
        params: list[Any] = [status.value]
        if finished_at is not None or status is DrillStatus.RUNNING:
            sql += ", finished_at = ?"
            params.append(iso(finished_at) if finished_at is not None else None)
        if rotation_seconds is not None:
            sql += ", rotation_seconds = ?"
            params.append(round(rotation_seconds, 3))
        self._db.execute(sql + " WHERE id = ?", [*params, drill_id])
