"""The fact cache: each read happens once per run even when many checks ask at the same
moment, a failed read is memoized as a FactError, and regional reads really run
side by side in a bounded pool."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from auditor.awsfacts.guardduty import DETECTORS
from auditor.config import Config
from auditor.facts import Fact, FactError, Facts, map_concurrently
from auditor.session import AwsContext

WAIT = 10  # seconds; only a broken implementation ever waits that long


def in_facts_get(thread: threading.Thread) -> bool:
    """Whether `thread` is inside Facts.get right now (fetching, or waiting for it)."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == "get" and frame.f_code.co_filename.endswith("facts.py"):
            return True
        frame = frame.f_back
    return False


def test_a_fact_is_fetched_once_when_many_ask_at_the_same_time() -> None:
    fetches = 0
    release = threading.Event()

    def fetch(_facts: Facts) -> object:
        nonlocal fetches
        fetches += 1
        assert release.wait(WAIT), "the test never released the fetch"
        return object()

    slow = Fact("test.slow", fetch)
    facts = Facts(None)
    askers = 12
    start = threading.Barrier(askers + 1)
    results: list[object] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait(WAIT)
        value = facts.get(slow)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=ask) for _ in range(askers)]
    for thread in threads:
        thread.start()
    start.wait(WAIT)
    # hold the one fetch until every asker is inside get(): all of them ask concurrently
    for thread in threads:
        while not in_facts_get(thread):
            assert thread.is_alive()
            threading.Event().wait(0.001)
    release.set()
    for thread in threads:
        thread.join(WAIT)

    assert fetches == 1
    assert len(results) == askers
    assert all(value is results[0] for value in results)


def test_a_failed_read_is_tried_once_and_named() -> None:
    attempts = 0

    def fetch(_facts: Facts) -> str:
        nonlocal attempts
        attempts += 1
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetAccountSummary")

    denied = Fact("iam.test_summary", fetch, ("iam:GetAccountSummary",))
    facts = Facts(None)
    for _ in range(3):
        with pytest.raises(FactError) as raised:
            facts.get(denied)
        assert raised.value.describe() == "access denied: needs iam:GetAccountSummary"
    assert attempts == 1


def test_regional_reads_run_side_by_side_in_a_bounded_pool() -> None:
    workers = 3
    # the barrier only opens when `workers` reads are in flight at once: a serial loop
    # would break it (BrokenBarrierError), an unbounded pool would exceed the peak
    together = threading.Barrier(workers, timeout=WAIT)
    lock = threading.Lock()
    in_flight = peak = 0

    def read(region: str) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        together.wait()
        with lock:
            in_flight -= 1
        return region.upper()

    regions = [f"region-{n}" for n in range(workers * 3)]
    result = map_concurrently(read, regions, workers)

    assert result == {region: region.upper() for region in regions}
    assert list(result) == regions
    assert peak == workers


@pytest.fixture
def regional_barrier(aws: Any) -> Iterator[threading.Barrier]:
    """Every GuardDuty ListDetectors call waits until a second one is in flight."""
    barrier = threading.Barrier(2, timeout=WAIT)

    def hold(**_: Any) -> None:
        barrier.wait()

    aws.events.register("before-call.guardduty.ListDetectors", hold)
    yield barrier
    aws.events.unregister("before-call.guardduty.ListDetectors", hold)


def test_a_regional_fact_reads_its_regions_concurrently(
    ctx: AwsContext, config: Config, regional_barrier: threading.Barrier
) -> None:
    facts = Facts(ctx, config, account_id="123456789012")
    detectors = facts.get(DETECTORS)

    assert [d.region for d in detectors] == list(config.audit.regions)
    assert all(d.error == "" for d in detectors), [d.error for d in detectors]
    assert not regional_barrier.broken


def test_prefetch_reads_independent_facts_concurrently(ctx: AwsContext) -> None:
    together = threading.Barrier(3, timeout=WAIT)

    def fetch(facts: Facts) -> int:
        together.wait()
        return 1

    first, second, third = (Fact(f"test.parallel_{n}", fetch) for n in range(3))
    facts = Facts(ctx)
    facts.prefetch([first, second, third, first], workers=3)

    assert facts.fetched() == ["test.parallel_0", "test.parallel_1", "test.parallel_2"]
    assert not together.broken
