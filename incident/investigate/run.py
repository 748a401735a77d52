"""One investigation, start to end: whose key it is, where its logs are, the search, the
verdict, and everything that makes the search incomplete said in plain words: a folder
or file that could not be read, a session acting in an account whose logs are
elsewhere, a trail that logs one region, a bucket that already deleted the window's
first days, a trail the attacker stopped."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from auditor.errors import AwsUnavailable
from incident.investigate.model import (
    Credential,
    CredentialKind,
    Event,
    Investigation,
    Owner,
    OwnerType,
    SourceReport,
    Tactic,
    Window,
)
from incident.investigate.owner import OwnerLookup, look_up_owner, owner_from_logs
from incident.investigate.plan import Limits, NoSource, Plan, Scope, plan_sources
from incident.investigate.record_source import Progress
from incident.investigate.search import search
from incident.investigate.source_spec import SourceSpec
from incident.investigate.verdict import judge

if TYPE_CHECKING:
    from auditor.session import AwsContext
    from auditor.snapshot import AccountSnapshot, TrailInfo
    from incident.investigate.tactics import Catalogue

LOGGING_STOPPED = ("StopLogging", "DeleteTrail")
LOGGING_CHANGED = ("PutEventSelectors", "PutInsightSelectors", "UpdateTrail")
FILE_KINDS = ("s3", "local")
__all__ = ["NoSource", "Request", "run_investigation"]


@dataclass(frozen=True, slots=True)
class Request:
    key_id: str
    window: Window
    sources: tuple[SourceSpec, ...]
    limits: Limits = field(default_factory=Limits)


def new_investigation_id(at: datetime) -> str:
    return f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def run_investigation(request: Request, *, context: Callable[[], AwsContext] | None,
                      snapshot_of: Callable[[str], AccountSnapshot | None],
                      clock: Callable[[], datetime],
                      progress: Progress | None = None) -> Investigation:
    """`context` makes the AWS session (None: no AWS access, local sources only);
    `snapshot_of(account)` is the latest audit's snapshot of an account."""
    started = clock()
    notes: list[str] = []
    lookup = OwnerLookup(None, None, ())
    ctx: AwsContext | None = None
    snapshot: AccountSnapshot | None = None
    specs = list(request.sources)
    if any(spec.needs_aws for spec in specs):
        try:
            if context is None:
                raise AwsUnavailable("no AWS access")
            ctx = context()
            caller = ctx.identity()
        except AwsUnavailable as exc:
            if all(spec.needs_aws for spec in specs):
                raise NoSource(f"no source could be read: {exc.message}") from None
            notes.append(f"the AWS sources were skipped: {exc.message}")
            specs = [spec for spec in specs if not spec.needs_aws]
        else:
            lookup = look_up_owner(ctx, request.key_id, caller.account_id)
            snapshot = snapshot_of(lookup.account_id or caller.account_id)
            lookup = OwnerLookup(lookup.owner, lookup.account_id or caller.account_id,
                                 lookup.notes)
    window = request.window
    plan = plan_sources(tuple(specs), Scope(ctx, snapshot, lookup.account_id, window,
                                            started, request.limits))
    found = search(plan.sources, request.key_id, lookup.account_id, window.start,
                   window.end, baseline_start=window.baseline_start, progress=progress)
    if not found.sources or found.unreadable:
        why = "; ".join(note for s in found.sources for note in s.notes[:1])
        why = why or "; ".join(f"{s.kind}: {s.why}" for s in plan.skipped)
        raise NoSource(f"no source could be read: {why or 'no source was given'}")
    buckets = plan.trail_buckets
    verdict = judge(found.records, found.credentials, window, _catalogue(),
                    trail_buckets=buckets, now=started)
    owner = lookup.owner or (owner_from_logs(verdict.leaked_identity)
                             if verdict.leaked_identity is not None
                             else Owner(OwnerType.UNKNOWN, "", "", True))
    account = lookup.account_id or (
        str(verdict.leaked_identity.get("accountId") or "")
        if verdict.leaked_identity is not None else "")
    credentials = tuple(
        Credential(c.access_key_id, c.kind, c.derived_from, c.event_id, c.expires,
                   c.account_id or account, c.principal_arn or owner.arn, c.minted_at)
        if c.kind is CredentialKind.LEAKED else c for c in found.credentials)
    incomplete = [*_source_gaps(found.sources), *_empty(found.sources), *found.unfollowed,
                  *plan.incomplete, *_trail_gaps(plan.trails, snapshot, window, started),
                  *_stopped_logging(verdict.events, verdict.mentions)]
    return Investigation(
        investigation_id=new_investigation_id(started), started_at=started,
        finished_at=clock(), key=request.key_id, account_id=account, owner=owner,
        window=window, sources=found.sources, complete=not incomplete,
        incomplete_because=tuple(incomplete), credentials=credentials,
        events=verdict.events, mentions=verdict.mentions, source_ips=verdict.source_ips,
        tactics=verdict.tactics, follow_ups=verdict.follow_ups,
        notes=(*lookup.notes, *notes, *plan.notes, *_unknown_trails(plan, found.sources),
               *verdict.notes),
        skipped_sources=tuple(plan.skipped))


def _catalogue() -> Catalogue:
    from incident.investigate.tactics import load_catalogue

    return load_catalogue()


def _source_gaps(sources: tuple[SourceReport, ...]) -> list[str]:
    gaps = []
    for source in sources:
        if not source.complete:
            count = len(source.notes)
            gaps.append(f"{source.location}: {count} folder{'s' if count != 1 else ''} or "
                        f"file{'s' if count != 1 else ''} could not be read (see the source's "
                        "notes)")
    return gaps


def _unknown_trails(plan: Plan, sources: tuple[SourceReport, ...]) -> list[str]:
    """Files read with no audited trail behind them: what the trail logs and keeps is
    not known here, so its gaps could not be checked."""
    if plan.trails or not any(s.kind in FILE_KINDS for s in sources):
        return []
    return ["no audited trail is known for these files: whether the trail logs every "
            "region, and how long its bucket keeps logs, were not checked (`irready audit` "
            "records both)"]


def _empty(sources: tuple[SourceReport, ...]) -> list[str]:
    """A source with no log file in the window's days cannot say nothing happened."""
    return [f"{source.location}: no log file in the window's days (is the trail logging "
            "there?)" for source in sources
            if source.kind in FILE_KINDS and source.complete and not source.files]


def _trail_gaps(trails: list[TrailInfo], snapshot: AccountSnapshot | None, window: Window,
                now: datetime) -> list[str]:
    gaps = []
    if trails and not any(t.multi_region for t in trails):
        homes = ", ".join(sorted({t.home_region for t in trails}))
        gaps.append(f"the trail logs only {homes}: calls the key made in other regions "
                    "are in no log file")
    if snapshot is not None and snapshot.retention is not None:
        searched = {t.bucket for t in trails}
        for bucket in snapshot.retention:
            days = [e.days for e in bucket.expirations or () if e.days and not e.tag_filtered]
            # the baseline only teaches what is usual: its lost days are not a gap
            if bucket.bucket in searched and days and now - timedelta(days=min(days)) > (
                    window.start):
                kept = now - timedelta(days=min(days))
                gaps.append(f"bucket {bucket.bucket} deletes logs after {min(days)} days: "
                            f"nothing before {kept:%Y-%m-%d} is left to search")
    return gaps


def _stopped_logging(events: tuple[Event, ...], mentions: tuple[Event, ...]) -> list[str]:
    gaps = []
    restarts = sorted(e.event_time for e in (*events, *mentions)
                      if e.event_name == "StartLogging" and not e.error_code)
    for event in events:
        if event.event_name in LOGGING_STOPPED and not event.error_code:
            until = next((t for t in restarts if t > event.event_time), None)
            gap = (f"until it was restarted at {until:%Y-%m-%d %H:%M} UTC" if until is not None
                   else "until it was restarted; no restart is among the events searched: "
                   "aws cloudtrail get-trail-status tells")
            gaps.append(f"{event.event_name} at {event.event_time:%Y-%m-%d %H:%M} UTC by "
                        f"{event.access_key_id}: calls after it are in no log file of that "
                        f"trail {gap}")
        elif event.event_name in LOGGING_CHANGED and not event.error_code:
            gaps.append(f"{event.event_name} at {event.event_time:%Y-%m-%d %H:%M} UTC by "
                        f"{event.access_key_id} changed what the trail logs or where: calls "
                        "after it may be in no log file searched")
        elif (event.event_source == "s3.amazonaws.com" and not event.error_code
              and Tactic.DEFENSE_EVASION in event.tactics):
            gaps.append(f"{event.event_name} at {event.event_time:%Y-%m-%d %H:%M} UTC by "
                        f"{event.access_key_id} on the trail's bucket: its logs may have been "
                        "deleted or may expire early")
    return gaps
