"""The places a detection drill watches, named with --source and resolved before the
key exists: `lookup` (CloudTrail event history, in the drill's region and us-east-1,
where IAM's global calls are logged), `s3` (the log files of every trail that writes
them, as DescribeTrails says), `s3://BUCKET[/PREFIX]` (a bucket named outright) or
`athena` (the table the latest audit found, as `investigate --source athena` queries
it; asked only once the trail's files show every call, since each query costs money,
and never counted for the drill's result). Nothing named: event history and every
trail's files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from auditor.errors import AwsUnavailable, UsageError
from drills.detect.model import DetectSource
from drills.detect.visibility import Watched
from drills.engine.aws import AWS_ERRORS, describe_error

if TYPE_CHECKING:
    from auditor.session import AwsContext
    from auditor.snapshot import AccountSnapshot
    from incident.investigate.record_source import RecordSource

USAGE = "lookup, s3, s3://BUCKET[/PREFIX], athena or guardduty"
GLOBAL_REGION = "us-east-1"  # IAM and other global services log their calls here


@dataclass(frozen=True)
class SourceChoice:
    source: DetectSource
    bucket: str = ""  # empty with S3: every trail's bucket
    prefix: str = ""
    explicit: bool = True


def parse_detect_sources(values: list[str] | None) -> tuple[SourceChoice, ...]:
    from incident.investigate.source_spec import SourceKind, parse_source

    if not values:
        return (SourceChoice(DetectSource.LOOKUP, explicit=False),
                SourceChoice(DetectSource.S3, explicit=False))
    chosen: list[SourceChoice] = []
    for value in values:
        if value.strip() not in ("lookup", "s3", DetectSource.GUARDDUTY,
                                 DetectSource.ATHENA) and not value.startswith("s3://"):
            raise UsageError(f"--source {value}: a detection drill watches {USAGE}")
        if value.strip() in (DetectSource.GUARDDUTY, DetectSource.ATHENA):
            if SourceChoice(DetectSource(value.strip())) not in chosen:
                chosen.append(SourceChoice(DetectSource(value.strip())))
            continue
        spec = parse_source(value)
        choice = SourceChoice(DetectSource.LOOKUP) if spec.kind is SourceKind.LOOKUP else \
            SourceChoice(DetectSource.S3, spec.bucket, spec.prefix)
        if choice not in chosen:
            chosen.append(choice)
    if all(choice.source is DetectSource.GUARDDUTY for choice in chosen):
        raise UsageError("--source guardduty is watched beside the logs, never alone: add "
                         "--source lookup or --source s3")
    athena = SourceChoice(DetectSource.ATHENA)
    if athena in chosen and not any(c.source is DetectSource.S3 for c in chosen):
        # Athena is asked once the trail's files show the calls: watch the files too
        chosen.insert(chosen.index(athena), SourceChoice(DetectSource.S3, explicit=False))
    return tuple(chosen)


def _trail_buckets(ctx: AwsContext) -> list[tuple[str, str, str]]:
    """(bucket, prefix, home region) of every trail that writes log files."""
    try:
        trails = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True)
    except AWS_ERRORS as exc:
        raise AwsUnavailable(f"cloudtrail:DescribeTrails failed ({describe_error(exc)}); the "
                             "detection drill needs the policy that `irready policy detect` "
                             "prints") from None
    found: dict[tuple[str, str], str] = {}
    for trail in trails.get("trailList", []):
        bucket = str(trail.get("S3BucketName") or "")
        if bucket:
            key = (bucket, str(trail.get("S3KeyPrefix") or ""))
            found.setdefault(key, str(trail.get("HomeRegion") or ctx.region))
    return [(bucket, prefix, region) for (bucket, prefix), region in found.items()]


def resolve(ctx: AwsContext, account_id: str, choices: tuple[SourceChoice, ...],
            start: datetime, end: datetime, snapshot: AccountSnapshot | None = None
            ) -> tuple[list[Watched], list[str]]:
    """The watched sources, and notes on what is not watched. UsageError when a source
    named cannot be watched at all; read-only. `snapshot` is the latest audit's, where
    the Athena table is found."""
    watched: list[Watched] = []
    notes: list[str] = []
    athena = None
    if any(choice.source is DetectSource.ATHENA for choice in choices):
        # the table first: without one there is nothing to drill, whatever the trails
        athena = _athena(ctx, account_id, snapshot, start, end)
        if not any(c.source is DetectSource.S3 and c.explicit for c in choices):
            notes.append("Athena is queried only once the trail's files show every call: "
                         "every trail's files were watched too")
    for choice in choices:
        if choice.source is DetectSource.GUARDDUTY:
            continue  # drills.detect.guardduty
        if choice.source is DetectSource.ATHENA:
            if athena is None or not any(w.source is DetectSource.S3 for w in watched):
                raise UsageError("--source athena: Athena is queried once the trail's files "
                                 "show the calls, and no trail writes log files to S3: name "
                                 "the bucket with --source s3://BUCKET[/PREFIX]")
            watched.append(athena)
            continue
        if choice.source is DetectSource.LOOKUP:
            watched.append(Watched(DetectSource.LOOKUP, "CloudTrail event history",
                                   _lookup(ctx, account_id, start, end)))
            continue
        buckets = [(choice.bucket, choice.prefix, ctx.region)] if choice.bucket \
            else _trail_buckets(ctx)
        if not buckets:
            if choice.explicit:
                raise UsageError("--source s3: no trail writes log files to S3; name a bucket "
                                 "with --source s3://BUCKET[/PREFIX], or use --source lookup")
            notes.append("no trail writes log files to S3: only event history was watched")
        for bucket, prefix, region in buckets:
            reader = _files(ctx, bucket, prefix, region, start, end)
            location = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
            watched.append(Watched(DetectSource.S3, location, reader))
    return watched, notes


def _athena(ctx: AwsContext, account_id: str, snapshot: AccountSnapshot | None,
            start: datetime, end: datetime) -> Watched:
    """The audited table, as `investigate --source athena` queries it (one reader kept
    across polls, so its queries add up); UsageError when there is none to query."""
    from incident.investigate.athena_source import FIX, AthenaSource
    from incident.investigate.plan import Limits, audited_table, organization_logs

    found = audited_table(snapshot)
    if found is None:
        if snapshot is None:
            why = f"no audit of account {account_id} is stored: run `irready audit` first"
        elif snapshot.athena_tables is None:
            why = (f"the latest audit of account {account_id} could not list the Athena "
                   "tables: run `irready audit` again")
        else:
            why = (f"the latest audit of account {account_id} found no Athena table over "
                   "the trail's logs: create it (`irready playbook` prints the CREATE "
                   "TABLE), then run `irready audit`")
        raise UsageError(f"--source athena: {why}")
    source = AthenaSource(ctx, found[0], account_id, start - timedelta(minutes=5),
                          end + timedelta(minutes=5), organization=organization_logs(snapshot),
                          max_scan_bytes=Limits().max_scan_bytes)
    if source.refusal:  # the drill has no --max-scan-gb to raise
        raise UsageError("--source athena: " + source.refusal.replace(
            FIX, "create the partitioned table `irready playbook` prints (Athena section)"))
    return Watched(DetectSource.ATHENA, source.location, lambda: source,
                   after=DetectSource.S3)


def _lookup(ctx: AwsContext, account_id: str, start: datetime, end: datetime
            ) -> Callable[[], RecordSource]:
    from incident.investigate.lookup_source import LookupSource

    regions = tuple(dict.fromkeys((ctx.region, GLOBAL_REGION)))
    return lambda: LookupSource(ctx, account_id, regions, start - timedelta(minutes=5),
                                end + timedelta(minutes=5))


def _files(ctx: AwsContext, bucket: str, prefix: str, region: str, start: datetime,
           end: datetime) -> Callable[[], RecordSource]:
    from incident.investigate.file_source import FileSource
    from incident.investigate.logfiles.sources import S3Logs

    client: Any = ctx.client("s3", region)

    def reader() -> RecordSource:
        # a slot's file lands in the folder of the day its 5 minutes end
        return FileSource(S3Logs(client, bucket, prefix), start.date(),
                          (end + timedelta(days=1)).date(), workers=1)

    return reader
