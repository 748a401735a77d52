"""A detection drill as JSON (schema irready.detect-drill/1,
reports/schemas/detect-drill.schema.json): what `--format json` prints and what the
history store keeps. Sorted keys, ISO-8601 UTC times, seconds as numbers, and a call
not seen within the timeout as `null`: a result, not a gap. No secret is in it."""

from __future__ import annotations

import json
from typing import Any

from auditor.clock import iso
from drills.detect.model import DetectResult, DetectSource, SourceResult

SCHEMA = "irready.detect-drill/1"


def source_dict(source: SourceResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "source": source.source.value, "location": source.location, "polls": source.polls,
        "all_seen": source.all_seen, "first_seconds": source.first_seconds,
        "last_seconds": source.last_seconds, "notes": list(source.notes),
        "calls": [{"call": s.call.label, "seen_after_seconds": s.seen_after}
                  for s in source.sightings],
    }
    if source.source is DetectSource.ATHENA:  # optional fields: schema /1 still holds
        entry |= {
            "counted": source.counted,
            "queries": [{"query_id": q.query_id, "bytes_scanned": q.bytes_scanned,
                         "cost_usd": round(q.cost_usd, 6)} for q in source.queries],
            "bytes_scanned": source.bytes_scanned,
            "cost_usd": round(source.cost_usd, 6),
        }
    return entry


def document(result: DetectResult) -> dict[str, Any]:
    options = result.options
    return {
        "schema": SCHEMA,
        "drill_id": result.drill_id, "account_id": result.account_id, "user": result.user,
        "key_id": result.key_id, "key_deleted": result.key_deleted,
        "user_agent": result.user_agent,
        "started_at": iso(result.started_at), "finished_at": iso(result.finished_at),
        "status": result.status.value, "outcome": result.outcome,
        "sequence": options.sequence_name, "timeout_seconds": options.timeout,
        "poll_seconds": options.poll,
        "replayed": [{"call": r.call.label, "parameters": dict(r.call.parameters),
                      "at": iso(r.at), "outcome": r.outcome} for r in result.replayed],
        "sources": [source_dict(source) for source in result.sources],
        "notes": list(result.notes),
        "guardduty": result.guardduty,
        "overhead_seconds": result.overhead_seconds,
    }


def document_text(result: DetectResult) -> str:
    return json.dumps(document(result), sort_keys=True, indent=2) + "\n"
