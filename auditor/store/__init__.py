"""The history store: one SQLite file with every audit run, its findings, every drill
with its journal, every investigation, and what each complete audit learned about the
account (its snapshot). Reports, trends, "new since last run" and the drill.recent
check all read it. The schema is versioned (PRAGMA user_version) and migrates forward
on open; secrets are never written here.

The store owns its data: every read and write is a typed method of `HistoryStore`
(one mixin per group of tables), and no other module holds SQL."""

from __future__ import annotations

from pathlib import Path

from auditor.store.audits import AuditTables
from auditor.store.containments import ContainmentRecord, ContainmentTables
from auditor.store.detect import DetectTables
from auditor.store.drills import DrillTables
from auditor.store.investigations import InvestigationTables
from auditor.store.orgs import OrgRunSummary, OrgTables
from auditor.store.playbooks import PlaybookTables
from auditor.store.records import (
    DetectDrillRecord,
    DrillRecord,
    DrillStep,
    InvestigationRecord,
    PlaybookRecord,
    RunSummary,
)
from auditor.store.schedule import ScheduleTables
from auditor.store.snapshots import SnapshotTables

__all__ = ["ContainmentRecord", "DetectDrillRecord", "DrillRecord", "DrillStep", "HistoryStore",
           "InvestigationRecord", "OrgRunSummary", "PlaybookRecord", "RunSummary",
           "open_history"]


class HistoryStore(OrgTables, AuditTables, ContainmentTables, DetectTables, DrillTables,
                   InvestigationTables, PlaybookTables, ScheduleTables, SnapshotTables):
    """Every table of the history store."""


def open_history(path: Path, *, create_folder: bool = False) -> HistoryStore:
    return HistoryStore(path, create_folder=create_folder)
