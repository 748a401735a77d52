"""An investigation's events as CSV, one row per event: the attacker's chain first,
then others' mentions of its keys, told apart by the `kind` column. The columns are the
JSON event's fields; every text cell goes through the audit CSV's formula guard, since
user agents and names come from the logs and a spreadsheet would run `=...`."""

from __future__ import annotations

import csv
import io

from auditor.clock import iso
from incident.investigate.model import Event, Investigation
from reports.csv_report import cell

COLUMNS = ("kind", "event_id", "event_time", "event_name", "event_source", "region",
           "access_key_id", "principal_arn", "source_ip", "user_agent", "error_code",
           "tactics", "suspicious", "chain", "account_id")


def event_row(kind: str, event: Event) -> list[str]:
    return [kind, cell(event.event_id), iso(event.event_time), cell(event.event_name),
            cell(event.event_source), cell(event.region), cell(event.access_key_id),
            cell(event.principal_arn), cell(event.source_ip), cell(event.user_agent),
            cell(event.error_code), ";".join(tactic.value for tactic in event.tactics),
            "true" if event.suspicious else "false", cell(";".join(event.chain)),
            cell(event.account_id)]


def render_csv(inv: Investigation) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(event_row("attacker", event) for event in inv.events)
    writer.writerows(event_row("mention", event) for event in inv.mentions)
    return buffer.getvalue()
