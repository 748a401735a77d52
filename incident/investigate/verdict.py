"""From the records the search found to what a responder reads: the attacker's events
(signed by a credential of the chain, within the window), the others' events that only
name one (`mentions`: the defender's own UpdateAccessKey), which events are suspicious,
the source IPs, and the follow-ups.

Suspicious, defined: an event that carries a tactic, or that comes from a source IP or
user agent the chain had not used in the baseline window before --from. The
application's usual traffic (a known IP and a known user agent, and no tactic, or only
the reconnaissance its own code does every day: the same call from the same place in
the baseline) is reported but is not activity. With no event before --from, the
baseline is the chain's first day in the logs, and the result says so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incident.investigate.followups import follow_ups
from incident.investigate.minted import Minted
from incident.investigate.model import (
    Credential,
    CredentialKind,
    Event,
    FollowUp,
    SourceIp,
    Tactic,
    Window,
)
from incident.investigate.record_fields import event_name, event_time, identity, signing_key, text
from incident.investigate.tactics import Catalogue, is_denied, probing_bursts

FALLBACK_BASELINE = timedelta(days=1)
ROUTINE = frozenset({Tactic.RECONNAISSANCE, Tactic.TEMPORARY_CREDENTIALS})


@dataclass(frozen=True, slots=True)
class Verdict:
    events: tuple[Event, ...]
    mentions: tuple[Event, ...]
    source_ips: tuple[SourceIp, ...]
    tactics: dict[str, int]
    follow_ups: tuple[FollowUp, ...]
    notes: tuple[str, ...]
    leaked_identity: dict[str, Any] | None  # the leaked key's userIdentity, as logged


@dataclass(frozen=True, slots=True)
class _Usual:
    ips: frozenset[str]
    agents: frozenset[str]
    calls: frozenset[tuple[str, str, str]]  # (event name, ip, user agent)


def judge(records: Sequence[dict[str, Any]], credentials: Sequence[Credential],
          window: Window, catalogue: Catalogue, *, trail_buckets: Collection[str] = (),
          now: datetime) -> Verdict:
    chain = {c.access_key_id: c for c in credentials}
    leaked = next(c.access_key_id for c in credentials if c.kind is CredentialKind.LEAKED)
    ours: list[tuple[datetime, dict[str, Any]]] = []
    before: list[dict[str, Any]] = []
    others: list[tuple[datetime, dict[str, Any]]] = []
    leaked_identity: dict[str, Any] | None = None
    for record in records:
        moment = event_time(record)
        if moment is None:
            continue
        signer = signing_key(record)
        if signer == leaked and leaked_identity is None:
            leaked_identity = identity(record)
        if signer in chain:
            if window.start <= moment <= window.end:
                ours.append((moment, record))
            elif window.baseline_start <= moment < window.start:
                before.append(record)
        elif window.start <= moment <= window.end:
            others.append((moment, record))
    notes: list[str] = []
    if not before and ours:
        first = min(moment for moment, _ in ours)
        before = [r for moment, r in ours if moment < first + FALLBACK_BASELINE
                  and not catalogue.tactics_of(r, trail_buckets)]
        notes.append(f"nothing of the key before {window.start:%Y-%m-%d %H:%M} UTC: its "
                     f"usual IPs and user agents are learned from its first day in the logs "
                     f"({first:%Y-%m-%d}); a call made that day from a new place may pass "
                     "as usual")
    usual = _usual(before, catalogue, trail_buckets)
    bursts = probing_bursts([r for _, r in ours])
    events = tuple(_event(r, moment, chain, catalogue, trail_buckets, bursts, usual)
                   for moment, r in sorted(ours, key=lambda pair: pair[0]))
    mentions = tuple(_event(r, moment, chain, catalogue, trail_buckets, set(), None)
                     for moment, r in sorted(others, key=lambda pair: pair[0]))
    counts = Counter(tactic for event in events for tactic in event.tactics)
    # a session the application minted as usual and nobody misused needs no revoking
    flagged = {e.event_id for e in events if e.suspicious}
    misused = {e.access_key_id for e in events if e.suspicious}
    minted = [Minted(c.access_key_id, c.kind, c.event_id, c.minted_at or now, c.expires,
                     c.account_id, c.principal_arn)
              for c in credentials if c.kind is not CredentialKind.LEAKED
              and (c.event_id in flagged or c.access_key_id in misused)]
    return Verdict(
        events=events, mentions=mentions,
        source_ips=_source_ips(events, usual.ips),
        tactics={str(tactic): counts.get(tactic, 0) for tactic in Tactic},
        follow_ups=follow_ups([r for _, r in sorted(ours, key=lambda pair: pair[0])],
                              minted, now),
        notes=tuple(notes), leaked_identity=leaked_identity)


def _usual(records: Sequence[dict[str, Any]], catalogue: Catalogue,
           trail_buckets: Collection[str]) -> _Usual:
    """What the baseline teaches. Places (IPs, user agents) come from its plain calls
    only, so that an attacker who started before --from does not make their own IP
    usual; a routine call (reconnaissance, temporary credentials) is usual only when
    made from such a place."""
    tactics = [(r, set(catalogue.tactics_of(r, trail_buckets))) for r in records
               if not is_denied(r)]
    plain = [r for r, found in tactics if not found]
    ips = frozenset(text(r.get("sourceIPAddress")) for r in plain)
    agents = frozenset(text(r.get("userAgent")) for r in plain)
    calls = frozenset(
        (event_name(r), text(r.get("sourceIPAddress")), text(r.get("userAgent")))
        for r, found in tactics if found <= ROUTINE
        and text(r.get("sourceIPAddress")) in ips and text(r.get("userAgent")) in agents)
    return _Usual(ips, agents, calls)


def _event(record: dict[str, Any], moment: datetime, chain: dict[str, Credential],
           catalogue: Catalogue, trail_buckets: Collection[str], bursts: set[str],
           usual: _Usual | None) -> Event:
    signer = signing_key(record)
    event_id = text(record.get("eventID"))
    tactics = set(catalogue.tactics_of(record, trail_buckets))
    if event_id in bursts:
        tactics.add(Tactic.PERMISSION_PROBING)
    name = event_name(record)
    ip = text(record.get("sourceIPAddress"))
    agent = text(record.get("userAgent"))
    suspicious = False
    if usual is not None:
        known_place = ip in usual.ips and agent in usual.agents
        # the application's own daily calls (a ListBuckets, the hourly AssumeRole) from
        # where it always makes them are its traffic, not reconnaissance
        routine = tactics <= ROUTINE and (name, ip, agent) in usual.calls
        suspicious = not known_place or (bool(tactics) and not routine)
    return Event(
        event_id=event_id, event_time=moment, event_name=name,
        event_source=text(record.get("eventSource")),
        region=text(record.get("awsRegion")), access_key_id=signer,
        principal_arn=text(identity(record).get("arn")), source_ip=ip, user_agent=agent,
        error_code=text(record.get("errorCode")),
        tactics=tuple(sorted(tactics, key=list(Tactic).index)), suspicious=suspicious,
        chain=_chain(signer, chain) if signer in chain else (),
        account_id=text(record.get("recipientAccountId")),
    )


def _chain(key: str, chain: dict[str, Credential]) -> tuple[str, ...]:
    path = [key]
    while chain[path[-1]].derived_from and len(path) <= len(chain):
        path.append(chain[path[-1]].derived_from)
    return tuple(reversed(path))


def _source_ips(events: Sequence[Event], known: frozenset[str]) -> tuple[SourceIp, ...]:
    seen: dict[str, list[datetime]] = {}
    for event in events:
        seen.setdefault(event.source_ip, []).append(event.event_time)
    return tuple(sorted(
        (SourceIp(ip, min(times), max(times), len(times), ip not in known)
         for ip, times in seen.items()), key=lambda s: s.first_seen))
