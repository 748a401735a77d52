"""The history store: one SQLite file with every audit run, its findings, and every
drill with its journal. Reports, trends, "new since last run" and the drill.recent
check all read it. The schema is versioned (PRAGMA user_version) and migrates forward
on open; secrets are never written here.

The store owns its data: every read and write is a typed method of `HistoryStore`
(one mixin per group of tables), and no other module holds SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from auditor.store.audits import AuditTables
from auditor.store.drills import DrillTables
from auditor.store.records import DrillRecord, DrillStep, RunSummary
from auditor.store.schedule import ScheduleTables

__all__ = ["DrillRecord", "DrillStep", "HistoryStore", "RunSummary", "open_history"]


class HistoryStore(AuditTables, DrillTables, ScheduleTables):
    """Every table of the history store."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Raw access for the drill journal, which writes a step at a time."""
        return self._db.execute(sql, params)


def open_history(path: Path) -> HistoryStore:
    return HistoryStore(path)
