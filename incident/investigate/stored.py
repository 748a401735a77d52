"""An investigation kept in the history store: its figures for `irready history` and
its whole JSON document, from which `irready report investigation` renders it again."""

from __future__ import annotations

import json

from auditor import __version__
from auditor.errors import StoreError
from auditor.store import HistoryStore, InvestigationRecord
from incident.investigate.jsonform import from_document, render_json
from incident.investigate.model import Investigation


def store_investigation(store: HistoryStore, result: Investigation) -> None:
    store.record_investigation(
        InvestigationRecord(result.investigation_id, result.account_id, result.key,
                            result.started_at, result.finished_at, result.window.start,
                            result.window.end, result.complete, len(result.suspicious),
                            len(result.follow_ups)),
        render_json(result, tool_version=__version__))


def load_investigation(store: HistoryStore, investigation_id: str) -> Investigation:
    try:
        return from_document(json.loads(store.investigation_document(investigation_id)))
    except (ValueError, KeyError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"investigation {investigation_id} in {store.path} cannot be read "
                         f"({reason}): a newer irready wrote it, or the store is damaged; "
                         "its JSON output, if kept, still holds it") from None
