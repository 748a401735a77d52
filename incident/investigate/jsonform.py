"""An investigation as a JSON document (schema `irready.investigation/1`) and back.

The document is what the history store keeps and what `--format json` prints; a stored
investigation is rendered again from it, so `from_document` is the exact inverse of
`to_document` (times are kept to the millisecond, as the audit's are). Keys are sorted
and times are ISO-8601 UTC with a Z, so two renders of one investigation are
byte-identical. The `verdict` block is derived (counts and the first and last
suspicious times) for machines that only want the answer; it is not read back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from auditor.clock import iso, parse_iso
from incident.investigate.model import (
    SCHEMA_ID,
    Credential,
    CredentialKind,
    Event,
    FollowUp,
    Investigation,
    Owner,
    OwnerType,
    SkippedSource,
    SourceIp,
    SourceReport,
    Tactic,
    Window,
)


def tactic_counts(counts: dict[str, int]) -> dict[str, int]:
    """Every tactic of the vocabulary with its count, 0 when none: a reader can tell
    "no defense evasion" from "not counted". Names outside the vocabulary are kept."""
    return {**{tactic.value: 0 for tactic in Tactic}, **counts}


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def _owner(owner: Owner) -> dict[str, Any]:
    return {"type": owner.type.value, "arn": owner.arn, "user": owner.user,
            "from_logs": owner.from_logs}


def _source(source: SourceReport) -> dict[str, Any]:
    return {"kind": source.kind, "location": source.location, "files": source.files,
            "records_scanned": source.records_scanned, "complete": source.complete,
            "notes": list(source.notes), "queries": list(source.queries),
            "bytes_scanned": source.bytes_scanned, "cost_usd": round(source.cost_usd, 6)}


def _credential(credential: Credential) -> dict[str, Any]:
    return {"access_key_id": credential.access_key_id, "kind": credential.kind.value,
            "derived_from": credential.derived_from, "event_id": credential.event_id,
            "expires": _time(credential.expires), "account_id": credential.account_id,
            "principal_arn": credential.principal_arn,
            "minted_at": _time(credential.minted_at)}


def event_dict(event: Event) -> dict[str, Any]:
    return {"event_id": event.event_id, "event_time": iso(event.event_time),
            "event_name": event.event_name, "event_source": event.event_source,
            "region": event.region, "access_key_id": event.access_key_id,
            "principal_arn": event.principal_arn, "source_ip": event.source_ip,
            "user_agent": event.user_agent, "error_code": event.error_code,
            "tactics": [tactic.value for tactic in event.tactics],
            "suspicious": event.suspicious, "chain": list(event.chain),
            "account_id": event.account_id}


def _source_ip(source_ip: SourceIp) -> dict[str, Any]:
    return {"ip": source_ip.ip, "first_seen": iso(source_ip.first_seen),
            "last_seen": iso(source_ip.last_seen), "events": source_ip.events,
            "new": source_ip.new}


def _follow_up(follow_up: FollowUp) -> dict[str, Any]:
    return {"kind": follow_up.kind, "resource": follow_up.resource,
            "event_id": follow_up.event_id, "event_time": iso(follow_up.event_time),
            "command": follow_up.command, "note": follow_up.note}


def _verdict(inv: Investigation) -> dict[str, Any]:
    times = [event.event_time for event in inv.suspicious]
    return {"suspicious_events": len(times),
            "first_suspicious": _time(min(times)) if times else None,
            "last_suspicious": _time(max(times)) if times else None,
            "follow_ups": len(inv.follow_ups)}


def to_document(inv: Investigation, *, tool_version: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "irready", "version": tool_version},
        "investigation_id": inv.investigation_id,
        "started_at": iso(inv.started_at),
        "finished_at": iso(inv.finished_at),
        "key": inv.key,
        "account_id": inv.account_id,
        "owner": _owner(inv.owner),
        "window": {"from": iso(inv.window.start), "to": iso(inv.window.end),
                   "baseline_from": iso(inv.window.baseline_start)},
        "sources": [_source(source) for source in inv.sources],
        "complete": inv.complete,
        "incomplete_because": list(inv.incomplete_because),
        "notes": list(inv.notes),
        "skipped_sources": [{"kind": skipped.kind, "why": skipped.why}
                            for skipped in inv.skipped_sources],
        "credentials": [_credential(credential) for credential in inv.credentials],
        "events": [event_dict(event) for event in inv.events],
        "mentions": [event_dict(event) for event in inv.mentions],
        "source_ips": [_source_ip(source_ip) for source_ip in inv.source_ips],
        "tactics": tactic_counts(inv.tactics),
        "follow_ups": [_follow_up(follow_up) for follow_up in inv.follow_ups],
        "verdict": _verdict(inv),
    }


def render_json(inv: Investigation, *, tool_version: str) -> str:
    return json.dumps(to_document(inv, tool_version=tool_version), indent=2,
                      sort_keys=True) + "\n"


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


def _read_event(item: dict[str, Any]) -> Event:
    return Event(event_id=item["event_id"], event_time=parse_iso(item["event_time"]),
                 event_name=item["event_name"], event_source=item["event_source"],
                 region=item["region"], access_key_id=item["access_key_id"],
                 principal_arn=item["principal_arn"], source_ip=item["source_ip"],
                 user_agent=item["user_agent"], error_code=item["error_code"],
                 tactics=tuple(Tactic(name) for name in item["tactics"]),
                 suspicious=bool(item["suspicious"]), chain=tuple(item["chain"]),
                 account_id=item["account_id"])


def _read(doc: dict[str, Any]) -> Investigation:
    owner, window = doc["owner"], doc["window"]
    return Investigation(
        investigation_id=doc["investigation_id"],
        started_at=parse_iso(doc["started_at"]),
        finished_at=parse_iso(doc["finished_at"]),
        key=doc["key"],
        account_id=doc["account_id"],
        owner=Owner(type=OwnerType(owner["type"]), arn=owner["arn"], user=owner["user"],
                    from_logs=bool(owner["from_logs"])),
        window=Window(start=parse_iso(window["from"]), end=parse_iso(window["to"]),
                      baseline_start=parse_iso(window["baseline_from"])),
        sources=tuple(
            SourceReport(kind=item["kind"], location=item["location"], files=item["files"],
                         records_scanned=item["records_scanned"],
                         complete=bool(item["complete"]), notes=tuple(item["notes"]),
                         queries=tuple(item.get("queries", ())),
                         bytes_scanned=int(item.get("bytes_scanned", 0)))
            for item in doc["sources"]),
        complete=bool(doc["complete"]),
        incomplete_because=tuple(doc["incomplete_because"]),
        notes=tuple(doc["notes"]),
        skipped_sources=tuple(SkippedSource(str(item["kind"]), str(item["why"]))
                              for item in doc.get("skipped_sources", ())),
        credentials=tuple(
            Credential(access_key_id=item["access_key_id"],
                       kind=CredentialKind(item["kind"]),
                       derived_from=item["derived_from"], event_id=item["event_id"],
                       expires=_maybe_time(item["expires"]), account_id=item["account_id"],
                       principal_arn=item["principal_arn"],
                       minted_at=_maybe_time(item["minted_at"]))
            for item in doc["credentials"]),
        events=tuple(_read_event(item) for item in doc["events"]),
        mentions=tuple(_read_event(item) for item in doc["mentions"]),
        source_ips=tuple(
            SourceIp(ip=item["ip"], first_seen=parse_iso(item["first_seen"]),
                     last_seen=parse_iso(item["last_seen"]), events=item["events"],
                     new=bool(item["new"]))
            for item in doc["source_ips"]),
        tactics={str(name): int(count) for name, count in doc["tactics"].items()},
        follow_ups=tuple(
            FollowUp(kind=item["kind"], resource=item["resource"], event_id=item["event_id"],
                     event_time=parse_iso(item["event_time"]), command=item["command"],
                     note=item["note"])
            for item in doc["follow_ups"]),
    )


def from_document(doc: dict[str, Any]) -> Investigation:
    """The investigation a document holds. Another schema (an audit, a later version of
    this one) is refused rather than half-read: a stored result must read back whole.
    Its `tactics` hold every tactic (see `tactic_counts`): an investigation reads back
    equal when the search filled its counts the same way."""
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema != SCHEMA_ID:
        raise ValueError(f"not an investigation document: schema is {schema!r}, "
                         f"expected {SCHEMA_ID!r}")
    try:
        return _read(doc)
    except KeyError as missing:
        raise ValueError(f"investigation document lacks the field {missing}") from None
    except (TypeError, ValueError, AttributeError) as bad:
        raise ValueError(f"investigation document is malformed: {bad}") from None
