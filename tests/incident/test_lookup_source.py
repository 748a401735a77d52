"""CloudTrail event history as a record source, against real cloudtrail clients whose
LookupEvents answers come from botocore's Stubber (moto does not implement it) or from
lookupkit's FakeEventHistory: pages, keys, mentions, dedupe, the window, throttling,
denied and disabled regions, unreadable events, pacing, progress and Ctrl-C."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lookupkit import FakeEventHistory, page, request, stubbed

from auditor.session import AwsContext
from demo.cloudtrail_records import (
    event,
    iam_user,
    response_time,
    session_credentials,
    user_session,
)
from incident.investigate.lookup_source import (
    EVENT_HISTORY_DAYS,
    WHAT_IT_CANNOT_SHOW,
    LookupSource,
    lookup_limits,
)
from incident.investigate.search import search

ACCOUNT = "123456789012"
KEY = "AKIAIOSFODNN7EXAMPLE"
OTHER_KEY = "AKIAI44QH8DHBEXAMPLE"
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
MAILER = iam_user("mailer", ACCOUNT)
ADMIN = iam_user("admin", ACCOUNT)


def call(name: str, *, key: str = KEY, minute: int = 0, region: str = "us-east-1",
         principal: Any = MAILER, request_params: dict[str, Any] | None = None,
         event_id: str = "") -> dict[str, Any]:
    return event(name, "iam", START + timedelta(days=2, minutes=minute), principal=principal,
                 key=key, region=region, request=request_params, event_id=event_id)


class FakeTime:
    """A clock and a sleep; each thread has its own time, which only its sleeps move on
    (a region is searched by one thread, so its calls are timed exactly)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.lock = threading.Lock()
        self.local = threading.local()

    def clock(self) -> float:
        return float(getattr(self.local, "now", 0.0))

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
        self.local.now = self.clock() + seconds


@pytest.fixture
def history_ctx() -> AwsContext:
    return AwsContext(region="us-east-1", max_attempts=1)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def source(ctx: AwsContext, regions: tuple[str, ...], fake: FakeTime, **options: Any
           ) -> LookupSource:
    return LookupSource(ctx, ACCOUNT, regions, START, END, sleep=fake.sleep,
                        clock=fake.clock, **options)


def ids(records: list[dict[str, Any]]) -> set[str]:
    return {str(record["eventID"]) for record in records}


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [thread for thread in threading.enumerate()
            if thread not in before and thread.name.startswith("lookup-events")]
    assert not left, f"threads still running: {left}"


# -- requests and answers ----------------------------------------------------------------


def test_reads_every_page_of_a_search(history_ctx: AwsContext, fake_time: FakeTime) -> None:
    first, second, third = ([call("ListUsers", minute=m + 10 * p) for m in range(3)]
                            for p in range(3))
    stub = stubbed(history_ctx, ("us-east-1",))["us-east-1"]
    stub.add_response("lookup_events", page(first, "t1"), request(KEY, "AccessKeyId", START, END))
    stub.add_response("lookup_events", page(second, "t2"),
                      request(KEY, "AccessKeyId", START, END, "t1"))
    stub.add_response("lookup_events", page(third), request(KEY, "AccessKeyId", START, END, "t2"))
    stub.add_response("lookup_events", page([]), request(KEY, "ResourceName", START, END))
    lookup = source(history_ctx, ("us-east-1",), fake_time)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    stub.assert_no_pending_responses()
    assert ids(found) == ids(first + second + third)
    assert found[0]["userIdentity"]["accessKeyId"] == KEY  # the record itself, parsed
    report = lookup.report()
    assert (report.kind, report.files, report.records_scanned, report.complete, report.notes) \
        == ("lookup", 0, 9, True, ())
    assert report.location == "CloudTrail event history (1 region)"
    assert not lookup.interrupted


def test_two_keys_and_mentions_are_searched_one_attribute_a_call(
        history_ctx: AwsContext, fake_time: FakeTime) -> None:
    by_key = call("GetCallerIdentity")
    by_other = call("ListBuckets", key=OTHER_KEY)
    # the admin deactivating the leaked key: a mention, signed by another key
    mention = call("UpdateAccessKey", key="AKIAADMINKEYEXAMPLE1", principal=ADMIN,
                   request_params={"accessKeyId": KEY, "status": "Inactive"})
    stub = stubbed(history_ctx, ("eu-west-1",))["eu-west-1"]
    stub.add_response("lookup_events", page([by_key]), request(KEY, "AccessKeyId", START, END))
    stub.add_response("lookup_events", page([mention]), request(KEY, "ResourceName", START, END))
    stub.add_response("lookup_events", page([by_other]),
                      request(OTHER_KEY, "AccessKeyId", START, END))
    stub.add_response("lookup_events", page([]), request(OTHER_KEY, "ResourceName", START, END))

    found = source(history_ctx, ("eu-west-1",), fake_time).find((KEY, OTHER_KEY), None, None,
                                                                None)

    stub.assert_no_pending_responses()
    assert ids(found) == ids([by_key, mention, by_other])


def test_an_event_found_twice_is_returned_once(history_ctx: AwsContext,
                                               fake_time: FakeTime) -> None:
    """A key's own UpdateAccessKey is both signed by it and names it; a global event can
    be answered by two regions."""
    own = call("UpdateAccessKey", request_params={"accessKeyId": KEY, "status": "Active"})
    stubs = stubbed(history_ctx, ("us-east-1", "us-west-2"))
    for stub in stubs.values():
        stub.add_response("lookup_events", page([own]), request(KEY, "AccessKeyId", START, END))
        stub.add_response("lookup_events", page([own]), request(KEY, "ResourceName", START, END))
    lookup = source(history_ctx, ("us-east-1", "us-west-2"), fake_time)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    assert [record["eventID"] for record in found] == [own["eventID"]]
    assert lookup.report().records_scanned == 4  # what the service returned


@pytest.mark.parametrize(("since", "expected_start"), [
    pytest.param(START + timedelta(days=3), START + timedelta(days=3),
                 id="a session minted on day 3 is searched from day 3"),
    pytest.param(START - timedelta(days=3), START, id="never before the window"),
])
def test_since_moves_the_start_of_the_search(history_ctx: AwsContext, fake_time: FakeTime,
                                             since: datetime, expected_start: datetime) -> None:
    stub = stubbed(history_ctx, ("us-east-1",))["us-east-1"]
    stub.add_response("lookup_events", page([]),
                      request(KEY, "AccessKeyId", expected_start, END))
    stub.add_response("lookup_events", page([]),
                      request(KEY, "ResourceName", expected_start, END))

    source(history_ctx, ("us-east-1",), fake_time).find((KEY,), ACCOUNT, since, None)

    stub.assert_no_pending_responses()


def test_nothing_is_asked_outside_the_window_or_the_account(history_ctx: AwsContext,
                                                            fake_time: FakeTime) -> None:
    stubbed(history_ctx, ("us-east-1",))  # no response queued: any call would fail the test
    lookup = source(history_ctx, ("us-east-1",), fake_time)

    assert lookup.find((KEY,), ACCOUNT, END + timedelta(seconds=1), None) == []
    assert lookup.find((KEY,), "111122223333", None, None) == []
    assert lookup.holds(ACCOUNT)
    assert not lookup.holds("111122223333")
    assert lookup.report().complete


def test_no_region_is_a_note(history_ctx: AwsContext, fake_time: FakeTime) -> None:
    lookup = source(history_ctx, (), fake_time)

    assert lookup.find((KEY,), ACCOUNT, None, None) == []
    assert lookup.location == "CloudTrail event history (0 regions)"
    assert lookup.report().notes == ("no region to search: event history was not searched",)


# -- failures ----------------------------------------------------------------------------


def test_throttling_is_retried_with_backoff(history_ctx: AwsContext,
                                            fake_time: FakeTime) -> None:
    record = call("ListUsers")
    stub = stubbed(history_ctx, ("us-east-1",))["us-east-1"]
    for _ in range(2):
        stub.add_client_error("lookup_events", "ThrottlingException", "Rate exceeded")
    stub.add_response("lookup_events", page([record]), request(KEY, "AccessKeyId", START, END))
    stub.add_response("lookup_events", page([]), request(KEY, "ResourceName", START, END))
    lookup = source(history_ctx, ("us-east-1",), fake_time)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    stub.assert_no_pending_responses()
    assert ids(found) == ids([record])
    assert lookup.report().complete
    assert [s for s in fake_time.sleeps if s >= 1] == [1.0, 2.0]


def test_throttling_that_does_not_end_is_a_note(history_ctx: AwsContext,
                                                fake_time: FakeTime) -> None:
    mention = call("DeleteAccessKey", key="AKIAADMINKEYEXAMPLE1", principal=ADMIN,
                   request_params={"accessKeyId": KEY})
    stub = stubbed(history_ctx, ("us-east-1",))["us-east-1"]
    for _ in range(4):
        stub.add_client_error("lookup_events", "ThrottlingException", "Rate exceeded")
    stub.add_response("lookup_events", page([mention]), request(KEY, "ResourceName", START, END))
    lookup = source(history_ctx, ("us-east-1",), fake_time)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    stub.assert_no_pending_responses()
    assert ids(found) == ids([mention])  # the next search still ran
    report = lookup.report()
    assert not report.complete
    assert report.notes == (f"us-east-1: LookupEvents was throttled 4 times searching "
                            f"AccessKeyId={KEY}: its remaining events were not read",)


@pytest.mark.parametrize(("status", "code"), [
    pytest.param(400, "AccessDeniedException", id="AccessDeniedException"),
    pytest.param(403, "403", id="a JSON service's bare 403"),
])
def test_a_denied_region_is_a_note_and_the_others_answer(
        history_ctx: AwsContext, fake_time: FakeTime, status: int, code: str) -> None:
    record = call("ListUsers", region="us-east-1")
    stubs = stubbed(history_ctx, ("us-east-1", "eu-west-1"))
    stubs["us-east-1"].add_response("lookup_events", page([record]),
                                    request(KEY, "AccessKeyId", START, END))
    stubs["us-east-1"].add_response("lookup_events", page([]),
                                    request(KEY, "ResourceName", START, END))
    stubs["eu-west-1"].add_client_error("lookup_events", code, "not authorized",
                                        http_status_code=status)
    lookup = source(history_ctx, ("us-east-1", "eu-west-1"), fake_time)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    assert ids(found) == ids([record])
    report = lookup.report()
    assert not report.complete
    assert len(report.notes) == 1
    assert "eu-west-1" in report.notes[0]
    assert "cloudtrail:LookupEvents was denied" in report.notes[0]


@pytest.mark.parametrize("code", ["UnrecognizedClientException", "InvalidClientTokenId"])
def test_a_region_not_enabled_is_a_note(history_ctx: AwsContext, fake_time: FakeTime,
                                        code: str) -> None:
    stub = stubbed(history_ctx, ("ap-east-1",))["ap-east-1"]
    stub.add_client_error("lookup_events", code, "The security token is invalid")
    lookup = source(history_ctx, ("ap-east-1",), fake_time)

    assert lookup.find((KEY,), ACCOUNT, None, None) == []

    notes = lookup.report().notes
    assert len(notes) == 1
    assert notes[0].startswith("ap-east-1: the region is not enabled")
    assert code in notes[0]


def test_any_other_error_is_a_note_with_its_code(history_ctx: AwsContext,
                                                 fake_time: FakeTime) -> None:
    record = call("ListUsers")
    stub = stubbed(history_ctx, ("us-east-1",))["us-east-1"]
    stub.add_client_error("lookup_events", "InvalidTimeRangeException", "bad range")
    stub.add_response("lookup_events", page([record]), request(KEY, "ResourceName", START, END))
    lookup = source(history_ctx, ("us-east-1",), fake_time)

    assert ids(lookup.find((KEY,), ACCOUNT, None, None)) == ids([record])
    assert lookup.report().notes == (
        f"us-east-1: LookupEvents failed (InvalidTimeRangeException) searching "
        f"AccessKeyId={KEY}: bad range",)


def test_an_unreadable_event_is_a_note(history_ctx: AwsContext, fake_time: FakeTime) -> None:
    good = call("ListUsers")
    broken = page([call("ListRoles", event_id="broken-1")])
    broken["Events"][0]["CloudTrailEvent"] = '{"eventVersion": "1.09", "userIdent'
    not_a_record = page([call("ListGroups", event_id="broken-2")])
    not_a_record["Events"][0]["CloudTrailEvent"] = "[1, 2]"
    stub = stubbed(history_ctx, ("us-east-1",))["us-east-1"]
    stub.add_response("lookup_events", {"Events": [*broken["Events"], *not_a_record["Events"],
                                                   *page([good])["Events"]]},
                      request(KEY, "AccessKeyId", START, END))
    stub.add_response("lookup_events", page([]), request(KEY, "ResourceName", START, END))
    lookup = source(history_ctx, ("us-east-1",), fake_time)

    assert ids(lookup.find((KEY,), ACCOUNT, None, None)) == ids([good])
    report = lookup.report()
    assert report.records_scanned == 3
    assert report.notes == tuple(
        f"us-east-1: event {event_id} has no readable CloudTrailEvent (not a JSON record): "
        "skipped" for event_id in ("broken-1", "broken-2"))


# -- pacing and progress -----------------------------------------------------------------


def test_calls_are_paced_per_region_and_progress_reaches_the_total(
        history_ctx: AwsContext, fake_time: FakeTime) -> None:
    regions = ("us-east-1", "eu-west-1", "ap-south-1")
    records = [call("ListUsers", key=key, minute=minute, region=region)
               for region in regions for key in (KEY, OTHER_KEY) for minute in range(23)]
    stamps: dict[str, list[float]] = {region: [] for region in regions}
    history = FakeEventHistory(records, page_size=5, throttled={"eu-west-1": 2},
                               on_call=lambda region, _: stamps[region].append(
                                   fake_time.clock()))
    history.install(history_ctx, regions)
    seen: list[tuple[int, int]] = []
    lookup = source(history_ctx, regions, fake_time, parallel_regions=2)

    found = lookup.find((KEY, OTHER_KEY), ACCOUNT, None,
                        lambda what, done, total: seen.append((done, total)))

    assert ids(found) == ids(records)
    assert lookup.report().complete
    for region, times in stamps.items():
        assert len(times) >= 10
        busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
        assert busiest <= 2, f"{region}: {busiest} calls in one second"
    assert seen[0] == (0, 12)
    assert seen[-1] == (12, 12)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_stopped_region_still_counts_its_searches_as_done(history_ctx: AwsContext,
                                                            fake_time: FakeTime) -> None:
    history = FakeEventHistory([], denied=frozenset({"eu-west-1"}))
    history.install(history_ctx, ("us-east-1", "eu-west-1"))
    seen: list[int] = []

    source(history_ctx, ("us-east-1", "eu-west-1"), fake_time).find(
        (KEY, OTHER_KEY), ACCOUNT, None, lambda what, done, total: seen.append(done))

    assert seen[-1] == 8
    assert sum(1 for region, _ in history.calls if region == "eu-west-1") == 1


# -- Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_in_a_pause_keeps_what_was_found(history_ctx: AwsContext) -> None:
    records = [call("ListUsers", minute=minute) for minute in range(12)]
    history = FakeEventHistory(records, page_size=5)
    history.install(history_ctx, ("us-east-1",))
    pauses = 0

    def sleep(seconds: float) -> None:
        nonlocal pauses
        pauses += 1
        if pauses == 2:  # before the third page
            raise KeyboardInterrupt

    lookup = LookupSource(history_ctx, ACCOUNT, ("us-east-1",), START, END, sleep=sleep,
                          clock=lambda: 0.0)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    assert len(found) == 10
    assert lookup.interrupted
    report = lookup.report()
    assert not report.complete
    assert report.notes == ("interrupted (Ctrl-C) in us-east-1 after 0 of 2 searches",)
    assert lookup.find((OTHER_KEY,), ACCOUNT, None, None) == []  # stopped for good
    assert len(history.calls) == 2


def test_ctrl_c_in_one_region_stops_every_region(history_ctx: AwsContext,
                                                 fake_time: FakeTime) -> None:
    regions = ("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1")
    records = [call("ListUsers", minute=minute, region=region)
               for region in regions for minute in range(30)]

    cut = threading.Event()

    def on_call(region: str, params: dict[str, Any]) -> None:
        if region == "eu-west-1" and params.get("NextToken") == "10":
            cut.set()
            raise KeyboardInterrupt
        if region != "eu-west-1":  # however the threads are scheduled: Ctrl-C comes first
            cut.wait(10)

    history = FakeEventHistory(records, page_size=5, on_call=on_call)
    history.install(history_ctx, regions)
    lookup = source(history_ctx, regions, fake_time, parallel_regions=2)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    assert lookup.interrupted
    eu_found = [record for record in found if record["awsRegion"] == "eu-west-1"]
    assert len(eu_found) == 10  # the two pages read before Ctrl-C
    (note,) = lookup.report().notes
    assert note.startswith("interrupted (Ctrl-C) in eu-west-1 after 0 of 2 searches")
    assert note.endswith("not searched: ap-south-1, sa-east-1")
    assert {region for region, _ in history.calls} == {"us-east-1", "eu-west-1"}


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="SIGINT reaches only the main thread")
def test_a_real_ctrl_c_stops_the_workers(history_ctx: AwsContext) -> None:
    """SIGINT, as the terminal sends it: the KeyboardInterrupt lands in the main thread,
    waiting for the regions; the workers stop before their next call."""
    regions = ("us-east-1", "eu-west-1")
    records = [call("ListUsers", minute=minute, region=region)
               for region in regions for minute in range(20)]
    history = FakeEventHistory(records, page_size=5)
    history.install(history_ctx, regions)
    sent = threading.Event()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            if len(history.calls) >= 3 and not sent.is_set():
                sent.set()
                os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # real time, for the main thread to take the signal

    lookup = LookupSource(history_ctx, ACCOUNT, regions, START, END, sleep=sleep,
                          clock=lambda: 0.0)

    found = lookup.find((KEY,), ACCOUNT, None, None)

    assert lookup.interrupted
    assert 0 < len(found) < len(records)
    assert lookup.report().notes[0].startswith("interrupted (Ctrl-C) in ")


# -- what it cannot show -----------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "expected"), [
    pytest.param(END - timedelta(days=30), END, "", id="a month: covered"),
    pytest.param(END - timedelta(days=90), END, "", id="exactly 90 days: covered"),
    pytest.param(END - timedelta(days=100), END,
                 "event history keeps 90 days: the window starts 2026-08-23, 10 days before "
                 "that", id="100 days"),
    pytest.param(END - timedelta(days=90, hours=1), END,
                 "event history keeps 90 days: the window starts 2026-09-01, 1 day before "
                 "that", id="an hour too early"),
    pytest.param(END - timedelta(days=200), END - timedelta(days=150),
                 "event history keeps 90 days: the window starts 2026-05-15, 110 days before "
                 "that, and ends before it too: none of the window is there",
                 id="entirely older"),
])
def test_lookup_limits(start: datetime, end: datetime, expected: str) -> None:
    assert lookup_limits(start, end, END) == expected


def test_what_it_cannot_show_names_data_events_and_the_90_days() -> None:
    assert EVENT_HISTORY_DAYS == 90
    assert "data events" in WHAT_IT_CANNOT_SHOW
    assert "90 days" in WHAT_IT_CANNOT_SHOW
    assert "no trail" in WHAT_IT_CANNOT_SHOW


# -- with the search ---------------------------------------------------------------------


def test_the_search_follows_minted_credentials_through_event_history(
        history_ctx: AwsContext, fake_time: FakeTime) -> None:
    """The leaked key mints a session (used in eu-west-1) and a backdoor key (used in
    us-west-2); the admin deactivates the backdoor key: every region's history is
    searched for every credential, and the mention is found by ResourceName."""
    minted_at = START + timedelta(days=2, minutes=5)
    session_key, backdoor_key = "ASIAQEXAMPLESESSION1", "AKIAQEXAMPLEBACKDOR1"
    session = user_session(MAILER, minted_at)
    backdoor = iam_user("svc-backup", ACCOUNT)
    records = [
        call("GetCallerIdentity", minute=1),
        event("GetSessionToken", "sts", minted_at, principal=MAILER, key=KEY,
              response={"credentials": session_credentials(session_key, minted_at,
                                                           timedelta(hours=12))}),
        event("DescribeInstances", "ec2", minted_at + timedelta(minutes=2), principal=session,
              key=session_key, region="eu-west-1"),
        event("CreateAccessKey", "iam", minted_at + timedelta(minutes=3), principal=session,
              key=session_key, request={"userName": "svc-backup"},
              response={"accessKey": {"userName": "svc-backup", "accessKeyId": backdoor_key,
                                      "status": "Active",
                                      "createDate": response_time(minted_at)}}),
        event("RunInstances", "ec2", minted_at + timedelta(minutes=9), principal=backdoor,
              key=backdoor_key, region="us-west-2"),
        call("UpdateAccessKey", key="AKIAADMINKEYEXAMPLE1", principal=ADMIN, minute=60,
             request_params={"accessKeyId": backdoor_key, "status": "Inactive"}),
        call("ListUsers", key=OTHER_KEY, minute=3),  # someone else: never found
    ]
    regions = ("us-east-1", "eu-west-1", "us-west-2")
    history = FakeEventHistory(records)
    history.install(history_ctx, regions)
    lookup = source(history_ctx, regions, fake_time)

    found = search([lookup], KEY, ACCOUNT, START, END)

    assert ids(list(found.records)) == ids(records[:-1])
    assert [c.access_key_id for c in found.credentials] == [KEY, session_key, backdoor_key]
    assert found.sources == (lookup.report(),)
    assert found.sources[0].complete
    asked = {(region, params["LookupAttributes"][0]["AttributeValue"],
              params["LookupAttributes"][0]["AttributeKey"]) for region, params in history.calls}
    assert asked == {(region, key, attribute) for region in regions
                     for key in (KEY, session_key, backdoor_key)
                     for attribute in ("AccessKeyId", "ResourceName")}
    session_calls = [params for _, params in history.calls
                     if params["LookupAttributes"][0]["AttributeValue"] == session_key]
    assert {params["StartTime"] for params in session_calls} == {minted_at}


def test_real_sleep_and_clock_pace_the_calls(history_ctx: AwsContext) -> None:
    records = [call("ListUsers", minute=minute) for minute in range(4)]
    stamps: list[float] = []
    history = FakeEventHistory(records, page_size=1,
                               on_call=lambda region, _: stamps.append(time.monotonic()))
    history.install(history_ctx, ("us-east-1",))
    lookup = LookupSource(history_ctx, ACCOUNT, ("us-east-1",), START, END,
                          per_region_rate=20.0)

    assert len(lookup.find((KEY,), ACCOUNT, None, None)) == 4
    assert len(stamps) == 5  # 4 pages by key, 1 by resource name
    assert all(later - earlier >= 0.045 for earlier, later in itertools.pairwise(stamps))
