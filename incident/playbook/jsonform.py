"""The playbook as JSON (`irready playbook --format json`, schema irready.playbook/1):
the same model the Markdown renders, its facts apart from its dated status."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

from incident.playbook.model import Playbook

SCHEMA = "irready.playbook/1"


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def render_json(playbook: Playbook) -> str:
    body = _plain(dataclasses.asdict(playbook))
    status = body.pop("status")
    return json.dumps({"schema": SCHEMA, "facts": body, "status": status}, indent=2,
                      sort_keys=True) + "\n"
