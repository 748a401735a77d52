"""Which sources `irready investigate` reads, and why not the others: `auto` takes the
trail's files when they can be listed, event history when there is no trail or its
bucket cannot be read, and Athena instead of files that are too many to download, when
a table exists whose scan stays under the limit. Planned against moto (files listed,
regions described); nothing is searched here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from investigatekit import ATTACK_DAY, BUCKET, NOW, leaked_user, story_in_bucket
from lookupkit import FakeEventHistory

from auditor.clock import utcnow
from auditor.errors import UsageError
from auditor.session import AwsContext
from auditor.snapshot import AccountSnapshot, AthenaTable, TrailInfo
from demo.attack import (
    BACKDOOR_KEY,
    ROLE_SESSION_KEY,
    SESSION_KEY,
    attack_records,
    defender_records,
)
from incident.investigate.athena_source import AthenaSource
from incident.investigate.file_source import FileSource
from incident.investigate.lookup_source import LookupSource
from incident.investigate.plan import GB, Limits, NoSource, Scope, check_specs, plan_sources
from incident.investigate.run import Request, run_investigation
from incident.investigate.source_spec import parse_sources
from incident.investigate.window import make_window

ACCOUNT = "123456789012"
WINDOW = make_window(NOW + timedelta(minutes=1), since="7d", start=None, end=None,
                     baseline="14d")
TRAIL = TrailInfo("main-trail", f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main-trail",
                  "us-east-1", True, False, BUCKET, "", "", True)
PARTITIONED = AthenaTable("us-east-1", "security_logs", "cloudtrail_logs",
                          f"s3://{BUCKET}/AWSLogs/", ("region", "day"))
UNPARTITIONED = AthenaTable("us-east-1", "security_logs", "cloudtrail_flat",
                            f"s3://{BUCKET}/AWSLogs/", ())


def _snapshot(trails: tuple[TrailInfo, ...] | None = (TRAIL,),
              tables: tuple[AthenaTable, ...] = ()) -> AccountSnapshot:
    return AccountSnapshot(ACCOUNT, datetime.now(UTC), trails, (), tables, ("us-east-1",),
                           (), (), ())


def _plan(aws: Any, snapshot: AccountSnapshot | None, *sources: str,
          limits: Limits | None = None) -> Any:
    scope = Scope(AwsContext(session=aws, max_attempts=1), snapshot, ACCOUNT, WINDOW, NOW,
                  limits or Limits(workers=1))
    return plan_sources(parse_sources(list(sources) or None), scope)


@pytest.fixture
def story(aws: Any) -> Any:
    key_id, _ = leaked_user(aws)
    story_in_bucket(aws, key_id)
    return aws


def test_auto_reads_the_trails_files_when_they_can_be_listed(story: Any) -> None:
    plan = _plan(story, _snapshot())
    assert [type(s) for s in plan.sources] == [FileSource]
    assert {(s.kind, s.why.split(":")[0]) for s in plan.skipped} == {
        ("lookup", "the trail's log files are readable (event history holds less"),
        ("athena", "not needed")}


def test_auto_without_a_trail_searches_event_history_in_every_enabled_region(
        aws: Any) -> None:
    plan = _plan(aws, None)
    assert [type(s) for s in plan.sources] == [LookupSource]
    assert plan.sources[0].location.startswith("CloudTrail event history")
    assert {s.kind: s.why for s in plan.skipped} == {
        "s3": "no audit of this account is stored", "athena": "no audit of this account is "
                                                              "stored"}
    assert any("90 days" in note for note in plan.notes)


def test_auto_falls_back_to_event_history_when_the_bucket_cannot_be_listed(aws: Any) -> None:
    plan = _plan(aws, _snapshot())  # the bucket was never created
    assert [type(s) for s in plan.sources] == [LookupSource]
    (skipped,) = [s for s in plan.skipped if s.kind == "s3"]
    assert skipped.why.startswith(f"s3://{BUCKET}: ")


def test_auto_lets_athena_scan_what_is_too_large_to_download(story: Any) -> None:
    plan = _plan(story, _snapshot(tables=(PARTITIONED,)),
                 limits=Limits(max_download_bytes=0, workers=1))
    assert [type(s) for s in plan.sources] == [AthenaSource]
    (skipped,) = [s for s in plan.skipped if s.kind == "s3"]
    assert "Athena scans them instead" in skipped.why


def test_an_athena_scan_over_the_limit_is_skipped_and_the_files_are_read(story: Any) -> None:
    plan = _plan(story, _snapshot(tables=(UNPARTITIONED,)),
                 limits=Limits(max_scan_bytes=1, max_download_bytes=0, workers=1))
    assert [type(s) for s in plan.sources] == [FileSource]
    (skipped,) = [s for s in plan.skipped if s.kind == "athena"]
    assert "irready playbook" in skipped.why


def test_athena_asked_for_without_a_table_is_no_source(story: Any) -> None:
    with pytest.raises(NoSource) as raised:
        _plan(story, _snapshot(), "athena")
    assert raised.value.message.startswith("--source athena: no Athena table over the "
                                           "trail's logs is known")


def test_event_history_alone_cannot_reach_past_90_days() -> None:
    window = make_window(NOW, since="120d", start=None, end=None, baseline="14d")
    with pytest.raises(UsageError) as raised:
        check_specs(parse_sources(["lookup"]), window, NOW)
    assert raised.value.message.startswith("--source lookup: ")
    assert "90 days" in raised.value.message
    check_specs(parse_sources(["lookup", "s3"]), window, NOW)  # with the files, it may


def test_the_limits_are_gigabytes() -> None:
    assert Limits().max_scan_bytes == 50 * GB



def _history(aws: Any, key_id: str, **options: Any) -> tuple[AwsContext, FakeEventHistory]:
    """A context whose event history holds the story's attack in every enabled region's
    answer (moto has no LookupEvents: the fake answers it)."""
    ctx = AwsContext(session=aws, max_attempts=1)
    regions = [r["RegionName"] for r in
               ctx.client("ec2").describe_regions(AllRegions=False)["Regions"]]
    history = FakeEventHistory([*attack_records(key_id, ATTACK_DAY),
                                *defender_records(ATTACK_DAY)], **options)
    history.install(ctx, regions)
    return ctx, history


def test_with_no_trail_the_story_is_told_from_event_history(aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    ctx, _ = _history(aws, key_id)
    found = run_investigation(Request(key_id, WINDOW, parse_sources(None), Limits(workers=1)),
                              context=lambda: ctx, snapshot_of=lambda account: None,
                              clock=utcnow)
    assert [s.kind for s in found.sources] == ["lookup"]
    assert {c.access_key_id for c in found.credentials} == {
        key_id, SESSION_KEY, BACKDOOR_KEY, ROLE_SESSION_KEY}
    assert "StopLogging" in {e.event_name for e in found.suspicious}
    assert [m.event_name for m in found.mentions] == ["UpdateAccessKey"]
    assert {s.kind for s in found.skipped_sources} == {"s3", "athena"}
    assert any("management events only" in note for note in found.notes)


def test_ctrl_c_in_event_history_keeps_what_was_found(aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    calls = iter(range(1000))

    def interrupt_late(region: str, params: dict[str, Any]) -> None:
        if next(calls) == 12:
            raise KeyboardInterrupt

    ctx, _ = _history(aws, key_id, on_call=interrupt_late)
    found = run_investigation(Request(key_id, WINDOW, parse_sources(["lookup"]),
                                      Limits(workers=1)),
                              context=lambda: ctx, snapshot_of=lambda account: None,
                              clock=utcnow)
    assert found.complete is False
    assert any(why.startswith("interrupted (Ctrl-C)") for why in found.incomplete_because)
