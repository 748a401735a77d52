"""A stored detection drill, for `irready drill list` and `drill show`: read back from
its JSON document (irready.detect-drill/1) or, for a drill cut off before it had one,
from its journal."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from auditor.clock import iso
from auditor.store import DetectDrillRecord

if TYPE_CHECKING:
    from rich.console import Console


def _document(record: DetectDrillRecord) -> dict[str, Any]:
    try:
        parsed = json.loads(record.document or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def summary(record: DetectDrillRecord) -> dict[str, Any]:
    """One line of `drill list --format json`: the drill and its time to visible per
    source (seconds until the last call was seen; null: not every call was)."""
    sources = _document(record).get("sources") or []
    return {
        "drill_id": record.drill_id, "account_id": record.account_id, "user": record.user,
        "status": record.status, "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at) if record.finished_at else None,
        "key_state": record.journal.get("key_state"),
        "last_seen_seconds": {str(s.get("location")): s.get("last_seconds")
                              for s in sources if isinstance(s, dict)},
    }


def show_document(record: DetectDrillRecord) -> str:
    """`drill show --format json`: the stored document, or the journal's summary."""
    if record.document:
        return record.document if record.document.endswith("\n") else record.document + "\n"
    return json.dumps(summary(record), indent=2, sort_keys=True) + "\n"


def _seconds(value: Any) -> str:
    return "not seen" if value is None else f"{float(value):.0f} s"


def print_detect_list(console: Console, records: list[DetectDrillRecord]) -> None:
    from rich.table import Table

    table = Table(title="Detection drills")
    for column in ("drill", "account", "canary", "status", "started (UTC)",
                   "last call visible after"):
        table.add_column(column, overflow="fold")
    for record in records:
        seen = summary(record)["last_seen_seconds"]
        table.add_row(record.drill_id, record.account_id, record.user, record.status,
                      iso(record.started_at),
                      "; ".join(f"{where}: {_seconds(s)}" for where, s in seen.items()) or "-")
    console.print(table)


def print_stored(console: Console, record: DetectDrillRecord) -> None:
    document = _document(record)

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False)

    say(f"Detection drill {record.drill_id} of {record.user} ({record.account_id}): "
        f"{record.status}")
    if document.get("outcome"):
        say(str(document["outcome"]))
    say(f"temporary key {record.journal.get('key_id') or '(none)'}: "
        f"{record.journal.get('key_state')}")
    for source in document.get("sources") or []:
        say(f"{source.get('source')} ({source.get('location')}): first call after "
            f"{_seconds(source.get('first_seconds'))}, last after "
            f"{_seconds(source.get('last_seconds'))}")
        for call in source.get("calls") or []:
            say(f"  {call.get('call')}: {_seconds(call.get('seen_after_seconds'))}")
        if "queries" in source:  # Athena's: reported, never counted
            ids = ", ".join(str(q.get("query_id")) for q in source["queries"]) or "none"
            say(f"  not counted for the result; queries {ids}: "
                f"{source.get('bytes_scanned', 0):,} bytes scanned, "
                f"${float(source.get('cost_usd', 0.0)):.4f}")
    if record.status in ("RUNNING", "INTERRUPTED"):
        say(f"cut off: `irready drill rollback {record.drill_id}` deletes any key it left "
            "and closes it")
