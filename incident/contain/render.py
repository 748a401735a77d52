"""How a containment and its plan are shown: plain text for a terminal, and JSON (schema
irready.containment/1, reports/schemas/contain.schema.json) for machines. One place, so
`plan`, `run`, `show` and `list` say the same thing the same way."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from auditor.clock import iso

if TYPE_CHECKING:
    from auditor.store import ContainmentRecord
    from incident.contain.model import ContainPlan

SCHEMA = "irready.containment/1"


def plan_text(plan: ContainPlan) -> str:
    lines = [f"Containment plan for {plan.key_id} of {plan.user} (account {plan.account_id});"
             " nothing has changed.",
             f"  investigation: {plan.investigation_id or 'none'}"]
    for number, action in enumerate(plan.actions, 1):
        lines += [f"  {number}. {action.what}", f"     call: {action.call}",
                  f"     undo: {action.undo}"]
    lines += [f"  note: {note}" for note in plan.notes]
    return "\n".join(lines) + "\n"


def plan_json(plan: ContainPlan) -> str:
    return _dump({"schema": SCHEMA, "kind": "plan", "plan": plan.as_dict()})


def record_dict(record: ContainmentRecord) -> dict[str, Any]:
    journal = record.journal
    return {"id": record.containment_id, "account_id": record.account_id,
            "user": record.user, "key_id": record.key_id, "status": record.status,
            "started_at": iso(record.started_at),
            "finished_at": iso(record.finished_at) if record.finished_at else None,
            "safe_seconds": None if record.safe_seconds is None
            else round(record.safe_seconds, 3),
            "outcome": journal.get("outcome", ""), "plan": journal.get("plan", {}),
            "actions": journal.get("actions", []), "undo": journal.get("undo", [])}


def record_json(record: ContainmentRecord) -> str:
    return _dump({"schema": SCHEMA, "kind": "containment", "containment": record_dict(record)})


def list_json(records: list[ContainmentRecord]) -> str:
    return _dump({"schema": SCHEMA, "kind": "list",
                  "containments": [record_dict(r) for r in records]})


def record_text(record: ContainmentRecord, *, cut_off: bool = False) -> str:
    safe = "" if record.safe_seconds is None else f", safe in {record.safe_seconds:.2f} s"
    status = "cut off (running, but no process holds it)" if cut_off else record.status
    lines = [f"Containment {record.containment_id} of {record.key_id} ({record.user}): "
             f"{status}{safe}"]
    for entry in record.journal.get("actions", []):
        error = f" ({entry['error']})" if entry.get("error") else ""
        lines.append(f"  {entry['name']}: {entry.get('state', 'pending')}{error}")
    if record.journal.get("outcome"):
        lines.append(f"  {record.journal['outcome']}")
    if cut_off or record.status in ("interrupted", "needs_attention"):
        lines.append(f"  next: `irready contain resume {record.containment_id}` finishes it "
                     f"(or `irready contain undo {record.containment_id}` reactivates the key)")
    return "\n".join(lines) + "\n"


def list_text(records: list[ContainmentRecord]) -> str:
    if not records:
        return "no containments\n"
    return "".join(
        f"{r.containment_id}  {r.key_id}  {r.user}  {r.status}"
        + ("" if r.safe_seconds is None else f"  safe in {r.safe_seconds:.2f} s") + "\n"
        for r in records)


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2) + "\n"
