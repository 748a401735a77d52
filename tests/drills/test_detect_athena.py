"""The detection drill's Athena source against moto, which never runs SQL: the query's
answer is queued (moto's `set_athena_result`) when the simulated delivery writes the
trail's files. Athena is asked only once those files show every call, each query's id,
scanned bytes and cost are reported, an answer without the calls is "not seen", and
none of it decides the drill's result. The temporary key is gone after each run and its
secret is in no artifact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from detectkit import (
    BUCKET,
    CANARY,
    PREFIX,
    DetectWorld,
    athena_row,
    queue,
    schema_errors,
    widened,
    world_of,
)

from auditor.models import AuditRun
from auditor.snapshot import AccountSnapshot, AthenaTable, TrailInfo
from auditor.store import HistoryStore
from demo.detect_delivery import SimulatedDelivery, records_for
from drills.detect.cli_run import detect_options, run_from_cli
from drills.detect.model import DetectSource, DetectStatus, Replayed
from drills.detect.policy import detect_policy
from drills.detect.run import run_detect
from drills.detect.sequence import STORY

ACCOUNT = "123456789012"
REGION = "us-east-1"
SCANNED = 3 * 1024**3
TABLE = AthenaTable(REGION, "security_logs", "cloudtrail_logs",
                    f"s3://{BUCKET}/{PREFIX}/AWSLogs/{ACCOUNT}/CloudTrail/", ("region", "day"))


def audited(world: DetectWorld, tables: tuple[AthenaTable, ...] | None = (TABLE,)) -> None:
    """The latest audit's snapshot: the trail, and the Athena tables it found."""
    now = datetime.now(UTC)
    trail = TrailInfo("main", f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main", REGION,
                      True, False, BUCKET, PREFIX, "", True)
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        run_id = store.save_run(AuditRun(ACCOUNT, now, now, ()))
        store.save_snapshot(run_id, AccountSnapshot(ACCOUNT, now, (trail,), (), tables,
                                                    (REGION,), None, None, None))


@pytest.fixture
def world(aws: Any, tmp_path: Path) -> Iterator[DetectWorld]:
    """The operator holds `irready policy detect --athena`; Athena says every query
    scanned 3 GB; each StartQueryExecution notes whether the trail's files were there."""
    from moto.core import enable_iam_authentication

    made = world_of(aws, tmp_path,
                    operator_policy=widened(detect_policy([CANARY], athena=True)))
    audited(made)

    def scanned(parsed: dict[str, Any], **_: Any) -> None:
        parsed["QueryExecution"].setdefault("Statistics", {})["DataScannedInBytes"] = SCANNED

    made.operator.events.register("after-call.athena.GetQueryExecution", scanned)
    with enable_iam_authentication():
        yield made


def files_there(world: DetectWorld) -> list[bool]:
    """At each query Athena was asked, whether the trail's files had been delivered."""
    asked: list[bool] = []

    def note(**_: Any) -> None:
        listed = world.admin.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
        asked.append(listed.get("KeyCount", 0) > 0)

    world.operator.events.register("before-call.athena.StartQueryExecution", note)
    return asked


def delivery(world: DetectWorld, *, s3: bool = True, answer: bool = True) -> Any:
    """CloudTrail's delivery after 0.3 s; with it, Athena's answer to the next query:
    the replayed calls' rows, or (answer False) no row at all."""
    played = SimulatedDelivery(ACCOUNT, CANARY, 0.3,
                               s3=world.admin.client("s3") if s3 else None, bucket=BUCKET,
                               prefix=PREFIX, history=world.history)

    def deliver(key_id: str, replayed: tuple[Replayed, ...], agent: str) -> None:
        records = records_for(key_id, replayed, agent, account=ACCOUNT, user=CANARY)
        queue([athena_row(record) for record in records] if answer else [])
        played(key_id, replayed, agent)

    return deliver


def run(world: DetectWorld, played: Any, *, sources: list[str], timeout: float = 3.0) -> Any:
    config = world.config()
    options, choices = detect_options(config, user=CANARY, sequence="story", sources=sources,
                                      timeout=timeout, poll=0.05)
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        return run_detect(world.ctx(), config, store, options, choices, delivery=played)


def test_athena_answers_the_calls_after_the_files_show_them(world: DetectWorld) -> None:
    asked = files_there(world)
    # the drill ends as soon as every source has seen every call: the long timeout only
    # keeps a loaded machine from cutting the watch short before Athena's one query
    result = run(world, delivery(world), sources=["lookup", "s3", "athena"], timeout=15.0)
    assert result.status is DetectStatus.SEEN
    lookup, s3, athena = result.sources
    assert lookup.all_seen
    assert athena.source is DetectSource.ATHENA
    assert athena.location == f"athena:security_logs.cloudtrail_logs ({REGION})"
    assert athena.all_seen
    assert not athena.counted
    # never asked before the files were there, and seen no sooner than in them
    assert asked == [True]
    assert s3.last_seconds is not None
    assert athena.first_seconds is not None
    assert athena.first_seconds >= s3.last_seconds
    (query,) = athena.queries
    assert query.bytes_scanned == SCANNED
    assert query.cost_usd == pytest.approx(3 / 1024 * 5.0)
    assert world.canary_keys() == []
    from drills.detect.jsonform import document

    entry = document(result)["sources"][2]
    assert entry["queries"] == [{"query_id": query.query_id, "bytes_scanned": SCANNED,
                                 "cost_usd": round(3 / 1024 * 5.0, 6)}]
    assert entry["bytes_scanned"] == SCANNED
    assert entry["counted"] is False
    assert [c["seen_after_seconds"] is not None for c in entry["calls"]] == [True] * len(STORY)


def test_an_answer_without_the_calls_is_not_seen_and_does_not_fail_the_drill(
        world: DetectWorld) -> None:
    asked = files_there(world)
    result = run(world, delivery(world, answer=False), sources=["athena"], timeout=1.0)
    assert result.status is DetectStatus.SEEN  # the trail's files showed every call
    s3, athena = result.sources
    assert s3.source is DetectSource.S3
    assert s3.all_seen
    assert [s.seen_after for s in athena.sightings] == [None] * len(STORY)
    assert athena.queries
    assert all(asked)
    assert len(athena.queries) == len(asked) == athena.polls
    assert athena.bytes_scanned == SCANNED * len(athena.queries)
    assert "Athena is queried only once the trail's files show every call: every trail's " \
           "files were watched too" in result.notes
    assert world.canary_keys() == []


def test_athena_is_not_queried_while_the_files_do_not_show_the_calls(
        world: DetectWorld) -> None:
    asked = files_there(world)
    result = run(world, delivery(world, s3=False), sources=["lookup", "s3", "athena"],
                 timeout=1.0)
    assert result.status is DetectStatus.SEEN  # event history showed them
    athena = result.sources[2]
    assert asked == []
    assert athena.polls == 0
    assert athena.queries == ()
    assert athena.notes == ("not queried: the trail's files did not show every call "
                            "within the timeout, and Athena reads those very files (each "
                            "query costs money)",)
    assert world.canary_keys() == []


def test_athena_alone_never_passes_a_drill_the_files_did_not(world: DetectWorld) -> None:
    """A drill whose only counted source (the files) saw nothing fails, whatever Athena
    would say: it is not even asked."""
    result = run(world, delivery(world, s3=False), sources=["athena"], timeout=0.5)
    assert result.status is DetectStatus.NOT_SEEN
    assert world.canary_keys() == []


def test_the_json_names_the_queries_and_no_artifact_holds_the_secret(
        world: DetectWorld, capsys: Any) -> None:
    secrets: list[str] = []
    original = world.operator.client

    def spy(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("aws_secret_access_key"):
            secrets.append(kwargs["aws_secret_access_key"])
        return original(*args, **kwargs)

    world.operator.client = spy  # type: ignore[method-assign]
    output = world.tmp / "detect.json"
    code = run_from_cli(world.config(), user=CANARY, sequence="story",
                        sources=["lookup", "s3", "athena"], timeout=3.0, poll=0.05,
                        json_out=False, output=output, ctx_factory=world.ctx,
                        delivery=delivery(world))
    assert code == 0
    captured = capsys.readouterr()
    assert secrets
    stored = (world.tmp / "history.sqlite3").read_bytes().decode("latin-1")
    for secret in set(secrets):
        for artifact in (captured.out, captured.err, output.read_text(), stored):
            assert secret not in artifact
    document = json.loads(output.read_text())
    schema = json.loads(files("reports").joinpath("schemas/detect-drill.schema.json")
                        .read_text())
    assert schema_errors(document, schema) == []
    athena = document["sources"][2]
    assert athena["source"] == "athena"
    (query,) = athena["queries"]
    assert query["query_id"] in captured.out
    assert "not counted for the result" in captured.out
    assert f"{SCANNED:,} bytes" in captured.out
    assert world.canary_keys() == []
