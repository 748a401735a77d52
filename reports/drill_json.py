"""A drill as JSON: schema `irready.drill/1` for one drill, `irready.drills/1` for a list,
with sorted keys and ISO-8601 UTC times, for scripts and for the reports (the drill
report embeds it). Everything here comes from the history store, which holds no secret;
a detail whose key names a secret is masked all the same."""

from __future__ import annotations

import json
from typing import Any

from auditor.clock import iso
from auditor.redact import redact_fields
from auditor.store import DrillRecord, DrillStep
from reports.drill_terminal import step_title

DRILL_SCHEMA = "irready.drill/1"
DRILLS_SCHEMA = "irready.drills/1"


def step_dict(step: DrillStep) -> dict[str, Any]:
    return {
        "seq": step.seq, "step": step.name, "number": step.detail.get("step"),
        "title": step_title(step.name), "state": step.state,
        "started_at": iso(step.started_at),
        "finished_at": iso(step.finished_at) if step.finished_at else None,
        "seconds": None if step.seconds is None else round(step.seconds, 3),
        "detail": redact_fields({k: v for k, v in step.detail.items() if k != "step"}),
    }


def drill_dict(record: DrillRecord, cut_off: bool = False) -> dict[str, Any]:
    detail = record.detail
    return {
        "drill_id": record.drill_id,
        "account_id": record.account_id,
        "user": record.user,
        "target": record.target,
        "status": record.status,
        "cut_off": cut_off,
        "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at) if record.finished_at else None,
        "rotation_seconds": record.rotation_seconds,
        "target_seconds": record.target_seconds,
        "within_target": record.within_target if record.rotation_seconds is not None else None,
        "old_key_id": detail.get("old_key_id"),
        "new_key_id": detail.get("new_key_id"),
        "outcome": detail.get("outcome", ""),
        "failure": detail.get("failure"),
        "old_key_check": detail.get("old_key_check"),
        "restart_failure": detail.get("restart_failure"),
        "rolled_back": detail.get("rolled_back"),
        "propagation": detail.get("propagation"),
        "estimate": detail.get("estimate"),
        "options": redact_fields(detail.get("options", {})),
        "steps": [step_dict(s) for s in record.steps],
    }


def render_drill_json(record: DrillRecord, cut_off: bool = False) -> str:
    return json.dumps({"schema": DRILL_SCHEMA, **drill_dict(record, cut_off)},
                      indent=2, sort_keys=True) + "\n"


def render_drills_json(records: list[DrillRecord], cut_off: set[str] | None = None) -> str:
    cut = cut_off or set()
    return json.dumps({"schema": DRILLS_SCHEMA,
                       "drills": [drill_dict(r, r.drill_id in cut) for r in records]},
                      indent=2, sort_keys=True) + "\n"
