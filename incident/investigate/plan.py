"""Which sources an investigation reads, and why the others are not read. `auto` takes
the trail's log files when they can be listed; CloudTrail's event history when there is
no trail or its bucket cannot be read (it needs no trail, and keeps 90 days of
management events); Athena when the window's files are more than one machine should
download and a table exists whose scan stays under --max-scan-gb. Every source not
taken is listed with why, so a reader knows what the answer rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from auditor.errors import IrreadyError, UsageError
from incident.investigate.file_source import FileSource
from incident.investigate.model import SkippedSource, Window
from incident.investigate.record_source import RecordSource
from incident.investigate.source_spec import SourceKind, SourceSpec

if TYPE_CHECKING:
    from auditor.session import AwsContext
    from auditor.snapshot import AccountSnapshot, AthenaTable, TrailInfo
    from incident.investigate.logfiles.layout import LogStore

GB = 1024**3
# LookupEvents' limit (2 requests a second) is per account and region: regions run at
# once, each paced on its own; the threads mostly wait
LOOKUP_REGIONS_AT_ONCE = 16


class NoSource(IrreadyError):
    """No source could be read at all: nothing was searched."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class Limits:
    max_scan_bytes: int = 50 * GB  # Athena: refuse a scan larger than this
    max_download_bytes: int = 20 * GB  # auto: above this, let Athena scan instead
    workers: int | None = None


@dataclass
class Plan:
    sources: list[RecordSource] = field(default_factory=list)
    trails: list[TrailInfo] = field(default_factory=list)  # whose files are searched
    skipped: list[SkippedSource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    trail_buckets: set[str] = field(default_factory=set)  # S3 calls on these are evasion


@dataclass(frozen=True, slots=True)
class Scope:
    """What planning needs to know: the AWS session (None: local sources only), the
    latest audit's snapshot, the key's account, the window and the time now."""

    ctx: AwsContext | None
    snapshot: AccountSnapshot | None
    account: str | None
    window: Window
    now: datetime
    limits: Limits


def check_specs(specs: tuple[SourceSpec, ...], window: Window, now: datetime) -> None:
    """What can be refused before anything is read: event history alone for a window
    it does not keep."""
    if specs and all(spec.kind is SourceKind.LOOKUP for spec in specs):
        from incident.investigate.lookup_source import lookup_limits

        if limit := lookup_limits(window.start, window.end, now):
            raise UsageError(f"--source lookup: {limit}: name the trail's logs too "
                             "(--source s3 or local:DIR), or shorten the window")


def plan_sources(specs: tuple[SourceSpec, ...], scope: Scope) -> Plan:
    plan = Plan()
    known = _known_trails(scope.snapshot)
    plan.trail_buckets = {t.bucket for t in known} | {
        spec.bucket for spec in specs if spec.kind is SourceKind.S3 and spec.bucket}
    lookup_only = all(spec.kind is SourceKind.LOOKUP for spec in specs)
    for spec in specs:
        if spec.kind is SourceKind.LOCAL:
            from incident.investigate.logfiles.sources import LocalLogs

            assert spec.path is not None
            plan.sources.append(_files(LocalLogs(spec.path), scope))
        elif spec.kind is SourceKind.S3 and spec.bucket:
            from incident.investigate.logfiles.sources import S3Logs

            plan.sources.append(_files(S3Logs(_ctx(scope).client("s3"), spec.bucket,
                                              spec.prefix), scope))
            # a bucket named outright is still some audited trail's: its gaps apply
            plan.trails += [t for t in known if t.bucket == spec.bucket]
        elif spec.kind is SourceKind.S3:
            _add_trails(plan, scope, _audited_trails(scope.snapshot))
        elif spec.kind is SourceKind.LOOKUP:
            _add_lookup(plan, scope, alone=lookup_only)
        elif spec.kind is SourceKind.ATHENA:
            _add_athena(plan, scope, explicit=True)
            plan.trails += list(known)
        else:
            _auto(plan, scope)
    return plan


def _ctx(scope: Scope) -> AwsContext:
    assert scope.ctx is not None  # S3, lookup and Athena sources come with a session
    return scope.ctx


def _files(store: LogStore, scope: Scope) -> FileSource:
    window = scope.window
    return FileSource(store, window.baseline_start.date(),
                      window.end.date() + timedelta(days=1), scope.limits.workers)


def _trail_sources(scope: Scope, trails: tuple[TrailInfo, ...]
                   ) -> list[tuple[TrailInfo, FileSource]]:
    from incident.investigate.logfiles.sources import S3Logs

    seen: set[str] = set()
    found = []
    for trail in trails:
        store = S3Logs(_ctx(scope).client("s3", trail.home_region), trail.bucket,
                       trail.key_prefix)
        if store.location not in seen:
            seen.add(store.location)
            found.append((trail, _files(store, scope)))
    return found


def _add_trails(plan: Plan, scope: Scope, trails: tuple[TrailInfo, ...]) -> None:
    plan.sources += [source for _, source in _trail_sources(scope, trails)]
    plan.trails += list(trails)  # two trails may share a bucket: each has its own gaps


def _audited_trails(snapshot: AccountSnapshot | None) -> tuple[TrailInfo, ...]:
    if snapshot is None:
        raise NoSource("no audit of this account is stored, so no trail bucket is known: "
                       "run `irready audit` first, or name the logs with --source "
                       "s3://BUCKET[/PREFIX] or --source local:DIR")
    if snapshot.trails is None:
        raise NoSource("the latest audit could not read the trails: run `irready audit` "
                       "again, or name the logs with --source s3://BUCKET[/PREFIX]")
    trails = tuple(t for t in snapshot.trails if t.bucket)
    if not trails:
        raise NoSource("the latest audit found no trail that writes log files: use "
                       "--source lookup (CloudTrail's 90-day event history)")
    return trails


def _known_trails(snapshot: AccountSnapshot | None) -> tuple[TrailInfo, ...]:
    if snapshot is None or snapshot.trails is None:
        return ()
    return tuple(t for t in snapshot.trails if t.bucket)


def _add_lookup(plan: Plan, scope: Scope, *, alone: bool) -> None:
    from incident.investigate.lookup_source import (
        WHAT_IT_CANNOT_SHOW,
        LookupSource,
        lookup_limits,
    )

    limit = lookup_limits(scope.window.start, scope.window.end, scope.now)
    if limit and alone:
        raise UsageError(f"--source lookup: {limit}: name the trail's logs too (--source "
                         "s3 or local:DIR), or shorten the window")
    if limit:
        plan.incomplete.append(f"event history: {limit}")
    regions = _enabled_regions(plan, scope)
    plan.sources.append(LookupSource(_ctx(scope), scope.account or "", regions,
                                     max(scope.window.baseline_start,
                                         scope.now - timedelta(days=90)), scope.window.end,
                                     parallel_regions=LOOKUP_REGIONS_AT_ONCE))
    plan.notes.append(f"event history: {WHAT_IT_CANNOT_SHOW}")


def _enabled_regions(plan: Plan, scope: Scope) -> tuple[str, ...]:
    """Every enabled region, not only the audited ones: calls through a regional
    endpoint are logged in the region called."""
    try:
        answer = _ctx(scope).client("ec2").describe_regions(AllRegions=False)
        return tuple(sorted(region["RegionName"] for region in answer["Regions"]))
    except Exception as exc:  # noqa: BLE001 - fall back, and say so
        from auditor.session import error_code

        known = tuple(scope.snapshot.regions or ()) if scope.snapshot is not None else ()
        regions = known or (_ctx(scope).region,)
        plan.incomplete.append(
            f"ec2:DescribeRegions failed ({error_code(exc)}): event history was searched in "
            f"{', '.join(regions)} only")
        return regions


def _add_athena(plan: Plan, scope: Scope, *, explicit: bool) -> bool:
    """Add an Athena source over the audited table; False (with why) when there is none
    or its scan would be too large."""
    from incident.investigate.athena_source import AthenaSource

    snapshot = scope.snapshot
    found = audited_table(snapshot)
    if found is None:
        why = ("no Athena table over the trail's logs is known (the latest audit found "
               "none): `irready playbook` prints the CREATE TABLE")
        if explicit:
            raise NoSource(f"--source athena: {why}")
        plan.skipped.append(SkippedSource("athena", why))
        return False
    table, reads_a_trail = found
    if not reads_a_trail and not explicit:
        plan.skipped.append(SkippedSource(
            "athena", "no Athena table reads the trail's log files (the tables found point "
                      "elsewhere)"))
        return False
    organization = organization_logs(snapshot)
    source = AthenaSource(_ctx(scope), table, scope.account or "",
                          scope.window.baseline_start, scope.window.end,
                          organization=organization,
                          max_scan_bytes=scope.limits.max_scan_bytes)
    refusal = source.refusal
    if refusal and not explicit:
        plan.skipped.append(SkippedSource("athena", refusal))
        return False
    plan.sources.append(source)
    return True


def audited_table(snapshot: AccountSnapshot | None) -> tuple[AthenaTable, bool] | None:
    """The Athena table the latest audit found, preferring one over a known trail's
    files (True then); None when the audit found none. `investigate` and the detection
    drill both query this one."""
    tables = () if snapshot is None or snapshot.athena_tables is None else (
        snapshot.athena_tables)
    if not tables:
        return None
    prefixes = [f"s3://{t.bucket}/{t.key_prefix}".rstrip("/") for t in _known_trails(snapshot)]
    matching = [t for t in tables if any(t.location.startswith(p) for p in prefixes)]
    return (matching or list(tables))[0], bool(matching)


def organization_logs(snapshot: AccountSnapshot | None) -> bool:
    """Whether the audited logs are an organization trail's (every account's)."""
    return any(t.organization for t in (snapshot.trails or ())) if snapshot else False


def _auto(plan: Plan, scope: Scope) -> None:
    snapshot = scope.snapshot
    trails = () if snapshot is None or snapshot.trails is None else tuple(
        t for t in snapshot.trails if t.bucket)
    if not trails:
        why = ("no audit of this account is stored" if snapshot is None else
               "the latest audit could not read the trails" if snapshot.trails is None else
               "no trail writes log files (the latest audit found none)")
        plan.skipped.append(SkippedSource("s3", why))
        plan.skipped.append(SkippedSource("athena", why))
        _add_lookup(plan, scope, alone=False)
        return
    readable: list[tuple[TrailInfo, FileSource]] = []
    size = 0
    for trail, source in _trail_sources(scope, trails):
        why = source.prepare(scope.account)
        if why:
            plan.skipped.append(SkippedSource("s3", f"{source.location}: {why}"))
        else:
            readable.append((trail, source))
            size += source.listed_bytes
    if not readable:
        _add_lookup(plan, scope, alone=False)
        return
    if size > scope.limits.max_download_bytes and _add_athena(plan, scope, explicit=False):
        plan.trails += list(trails)  # the table reads their files
        plan.skipped.append(SkippedSource(
            "s3", f"the window's log files are {size / GB:.1f} GB, more than "
                  f"--max-download-gb {scope.limits.max_download_bytes / GB:g}: Athena scans "
                  "them instead"))
        return
    plan.sources += [source for _, source in readable]
    plan.trails += list(trails)  # two trails may share a bucket: each has its own gaps
    plan.skipped.append(SkippedSource("lookup", "the trail's log files are readable (event "
                                                "history holds less: 90 days, no data "
                                                "events)"))
    if size <= scope.limits.max_download_bytes:
        plan.skipped.append(SkippedSource(
            "athena", f"not needed: the window's log files are {size / GB:.2f} GB"))
