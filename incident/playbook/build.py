"""The playbook model from stored data only: the latest complete audit's snapshot, the
config ([playbook], the inventory, [athena]), the drills and the run's open failures.
No AWS call is made here, and nothing secret is read: the snapshot keeps none."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from auditor.awsfacts.iam import ROOT_USER
from auditor.config import Config
from auditor.detection import logs_show_after
from auditor.durations import duration
from auditor.estimate import INCIDENT_WINDOW_SECONDS, newest_successful_drill
from auditor.models import AuditRun, Status
from auditor.snapshot import AccountSnapshot, AthenaTable, BucketRetention, TrailInfo
from auditor.store import ContainmentRecord, DetectDrillRecord, DrillRecord
from incident.playbook import athena
from incident.playbook.model import (
    Contact,
    Containment,
    KeyRow,
    KeyStatus,
    Logs,
    Playbook,
    Trail,
    Who,
)
from incident.playbook.model import Status as PlaybookStatus


@dataclass(frozen=True, slots=True)
class Sources:
    """What the playbook is built from, all of it already stored."""

    snapshot: AccountSnapshot
    run: AuditRun  # the complete audit that took the snapshot
    config: Config
    drills: tuple[DrillRecord, ...]
    notes: str  # the [playbook] notes file's text, "" when none
    containments: tuple[ContainmentRecord, ...] = ()  # newest first
    detections: tuple[DetectDrillRecord, ...] = ()  # `irready drill detect`'s, any order


def build_playbook(sources: Sources, today: date) -> Playbook:
    snapshot, config = sources.snapshot, sources.config
    settings = config.playbook
    contacts = None if snapshot.contacts is None else tuple(
        Contact(c.type, c.name, c.email) for c in snapshot.contacts)
    who = Who(contacts=contacts,
              security_missing=contacts is not None and all(
                  c.type != "SECURITY" for c in contacts),
              incident_lead=settings.incident_lead, support_plan=settings.support_plan,
              vendors=tuple(settings.vendors))
    return Playbook(
        account_id=snapshot.account_id,
        root_keys=root_has_keys(snapshot),
        who=who,
        logs=replace(_logs(snapshot, config),
                     visible_after=logs_show_after(sources.detections)),
        containment=_containment(snapshot, config, sources.drills, sources.containments),
        notes=sources.notes,
        status=_status(sources, today),
    )


def _expires_after(trail: TrailInfo, retention: tuple[BucketRetention, ...] | None
                   ) -> int | None:
    """The fewest days an enabled lifecycle rule keeps the trail's logs."""
    logs = f"{trail.key_prefix.strip('/')}/AWSLogs/".lstrip("/")
    days = [rule.days for bucket in retention or () if bucket.bucket == trail.bucket
            for rule in bucket.expirations or ()
            if rule.days and not rule.tag_filtered
            and (logs.startswith(rule.prefix) or rule.prefix.startswith(logs))]
    return min(days, default=None)


def _pick_table(tables: tuple[AthenaTable, ...] | None, trails: tuple[TrailInfo, ...],
                config: Config) -> AthenaTable | None:
    """The table the queries use: the one [athena] names, else one over a trail's
    bucket, else none."""
    candidates = sorted(tables or (), key=lambda t: (t.database, t.table, t.region))
    if config.athena.table:
        named = [t for t in candidates if t.table == config.athena.table
                 and (not config.athena.database or t.database == config.athena.database)]
        if named:
            return named[0]
    buckets = {t.bucket for t in trails if t.bucket}
    return next((t for t in candidates
                 if any(t.location.startswith(f"s3://{b}/") or t.location == f"s3://{b}"
                        for b in buckets)), None)


def _logs(snapshot: AccountSnapshot, config: Config) -> Logs:
    regions = tuple(sorted(snapshot.regions or ()))
    known_trails = snapshot.trails
    trails = None if known_trails is None else tuple(sorted(
        (Trail(t.name, t.home_region, t.multi_region, t.bucket, t.key_prefix, t.logging,
               _expires_after(t, snapshot.retention)) for t in known_trails),
        key=lambda t: t.name))
    gaps: list[str] = []
    logging = [t for t in trails or () if t.logging is not False and t.bucket]
    if trails is None:
        gaps.append("The latest audit could not read the trails: check CloudTrail before "
                    "relying on the steps below.")
    elif not logging:
        gaps.append("No trail: only 90 days of management events in CloudTrail's event "
                    "history; nothing older, no data events. Enable now: `aws cloudtrail "
                    "create-trail --name account-trail --s3-bucket-name BUCKET "
                    "--is-multi-region-trail` then `aws cloudtrail start-logging --name "
                    "account-trail`.")
    elif not any(t.multi_region for t in logging):
        names = ", ".join(t.name for t in logging)
        gaps.append(f"No multi-region trail: {names} records only its home region; calls "
                    "in the other regions are in each region's 90-day event history only. "
                    f"Enable now: `aws cloudtrail update-trail --name {logging[0].name} "
                    "--is-multi-region-trail`.")
    for trail in logging:
        days = trail.expires_after_days
        if days is not None and days < config.audit.log_retention_days:
            gaps.append(f"Logs of {trail.name} expire after {days} days: events older than "
                        f"{days} days are gone. Raise the lifecycle expiration of "
                        f"s3://{trail.bucket} to at least {config.audit.log_retention_days} "
                        "days now.")
    table = _pick_table(snapshot.athena_tables, tuple(known_trails or ()), config)
    source = next((t for t in sorted(known_trails or (), key=lambda t: t.name)
                   if t.logging is not False and t.bucket), None)
    create = ""
    if table is not None:
        name, location, columns = (f"{table.database}.{table.table}", table.location,
                                   table.partition_columns)
    else:
        database = config.athena.database or athena.DEFAULT_DATABASE
        name = f"{database}.{config.athena.table or athena.DEFAULT_TABLE}"
        columns = ("region", "day")
        location = (athena.logs_location(source.bucket, source.key_prefix,
                                         snapshot.account_id) if source is not None else "")
        if source is not None:
            create = athena.create_table(database, name.split(".", 1)[1], location, regions)
            gaps.append(f"No Athena table over the trail's logs: the queries below can't run "
                        f"yet. Run the CREATE TABLE below first (it creates {name}).")
        elif snapshot.athena_tables is None:
            gaps.append("The latest audit could not read the Athena tables.")
    return Logs(
        regions=regions, trails=trails, table=name if location else "",
        table_region=table.region if table is not None else (
            source.home_region if source is not None else ""),
        location=location, partition_columns=columns, gaps=tuple(gaps), create_table=create,
        queries=athena.queries(name, columns) if location else (),
        lookup_events=athena.lookup_events(regions),
    )


def _last_success(drills: Iterable[DrillRecord], user: str) -> DrillRecord | None:
    return newest_successful_drill(d for d in drills if d.user == user)


def _containment(snapshot: AccountSnapshot, config: Config,
                 drills: tuple[DrillRecord, ...],
                 containments: tuple[ContainmentRecord, ...] = ()) -> Containment:
    rows = []
    for entry in sorted(config.inventory, key=lambda e: (e.user, e.rotation_target)):
        last = _last_success(drills, entry.user)
        target = f" --target {entry.rotation_target}" if entry.rotation_target else ""
        rows.append(KeyRow(
            user=entry.user, owner=entry.owner, application=entry.application,
            rotation_target=entry.rotation_target,
            last_drill="never" if last is None else f"{last.started_at:%Y-%m-%d}",
            measured=duration(None if last is None else last.rotation_seconds),
            command=f"irready drill rotate --user {entry.user}{target}"))
    known = {entry.user for entry in config.inventory}
    users = sorted({k.user for k in snapshot.active_keys or ()})
    newest = newest_successful_drill(drills)
    per_key = None if newest is None else newest.rotation_seconds
    count = None if snapshot.active_keys is None else len(snapshot.active_keys)
    total = None if per_key is None or count is None else per_key * count
    safe = [c for c in containments if c.safe_seconds is not None]
    return Containment(
        rows=tuple(rows),
        unknown_users=tuple(u for u in users if u not in known and u != ROOT_USER),
        active_keys=count,
        per_key=duration(per_key),
        total=duration(total),
        within_window=None if total is None else total <= INCIDENT_WINDOW_SECONDS,
        never_drilled=tuple(u for u in users if u != ROOT_USER
                            and _last_success(drills, u) is None),
        containments=len(safe),
        time_to_safe=duration(safe[0].safe_seconds if safe else None),
    )


def root_has_keys(snapshot: AccountSnapshot) -> bool | None:
    if snapshot.active_keys is None:
        return None
    return any(k.user == ROOT_USER for k in snapshot.active_keys)


def _status(sources: Sources, today: date) -> PlaybookStatus:
    keys = tuple(sorted(
        (KeyStatus(user=k.user, slot=k.slot,
                   age_days=None if k.created is None else (today - k.created.date()).days,
                   last_used="never" if k.last_used is None else f"{k.last_used:%Y-%m-%d}")
         for k in sources.snapshot.active_keys or ()),
        key=lambda k: (k.user, k.slot)))
    failures = tuple(sorted(
        f"{f.check_id} ({f.resource}): {f.message}" for f in sources.run.findings
        if f.status is Status.FAIL))
    assert sources.run.run_id is not None
    return PlaybookStatus(as_of=today, audit_run_id=sources.run.run_id,
                          audit_date=sources.snapshot.taken_at.date(), keys=keys,
                          open_failures=failures)
