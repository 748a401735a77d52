"""The detection drill against moto under IAM enforcement, CloudTrail's delivery played
by a simulated delivery (moto logs nothing): every call seen, never seen, the canary
refused, and every way the drill can stop: the temporary key is gone from IAM after
each of them, and its secret is in no artifact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from detectkit import BUCKET, CANARY, PREFIX, DetectWorld, schema_errors, widened, world_of

from auditor.errors import AwsUnavailable, UsageError
from auditor.store import HistoryStore
from demo.detect_delivery import SimulatedDelivery
from drills.detect.cli_run import detect_options, run_from_cli
from drills.detect.model import DetectStatus
from drills.detect.policy import detect_policy
from drills.detect.recovery import close_detect_drill
from drills.detect.run import run_detect
from drills.detect.sequence import STORY
from drills.errors import DrillUnfinished

ACCOUNT = "123456789012"


@pytest.fixture
def world(aws: Any, tmp_path: Path) -> Iterator[DetectWorld]:
    from moto.core import enable_iam_authentication

    made = world_of(aws, tmp_path)
    with enable_iam_authentication():
        yield made


def delivery(world: DetectWorld, delay: float | None, *, s3: bool = True,
             lookup: bool = True) -> SimulatedDelivery:
    return SimulatedDelivery(ACCOUNT, CANARY, delay,
                             s3=world.admin.client("s3") if s3 else None, bucket=BUCKET,
                             prefix=PREFIX, history=world.history if lookup else None)


def run(world: DetectWorld, played: Any, *, timeout: float = 5.0,
        sources: list[str] | None = None, **kwargs: Any) -> Any:
    config = world.config()
    options, choices = detect_options(config, user=CANARY, sequence="story",
                                      sources=sources, timeout=timeout, poll=0.05)
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        return run_detect(world.ctx(), config, store, options, choices, delivery=played,
                          **kwargs)


def stored(world: DetectWorld) -> str:
    return (world.tmp / "history.sqlite3").read_bytes().decode("latin-1")


def test_every_call_seen_in_both_sources_after_the_delivery(world: DetectWorld) -> None:
    played = delivery(world, 0.3)
    result = run(world, played)
    assert result.status is DetectStatus.SEEN
    assert [r.call for r in result.replayed] == list(STORY)
    # the canary may do nothing: every call but "who am I" was denied, and logged so
    assert [r.outcome for r in result.replayed] == ["ok"] + ["AccessDenied"] * 5
    assert [s.source.value for s in result.sources] == ["lookup", "s3"]
    assert result.sources[1].location == f"s3://{BUCKET}/{PREFIX}"
    for source in result.sources:
        assert source.all_seen
        assert source.first_seconds is not None
        assert source.first_seconds >= 0.3
        assert source.last_seconds is not None
        assert source.last_seconds >= source.first_seconds
    assert world.canary_keys() == []
    assert result.key_deleted
    assert result.key_id.startswith("AKIA")
    assert result.user_agent == f"irready-detect/{result.drill_id}"
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        (record,) = store.detect_drills()
    # each call counted from the first source that showed it; the figure is the slowest
    assert record.seen_seconds == max(
        min(s.sightings[i].seen_after or 0.0 for s in result.sources)
        for i in range(len(STORY)))


def test_calls_never_delivered_are_not_seen_a_result_not_an_error(
        world: DetectWorld) -> None:
    result = run(world, delivery(world, None), timeout=1.2)
    assert result.status is DetectStatus.NOT_SEEN
    for source in result.sources:
        assert [s.seen_after for s in source.sightings] == [None] * len(STORY)
        assert source.polls >= 2
    assert world.canary_keys() == []


def test_calls_seen_in_event_history_only_still_pass(world: DetectWorld) -> None:
    result = run(world, delivery(world, 0.1, s3=False), timeout=1.0)
    assert result.status is DetectStatus.SEEN
    lookup, files = result.sources
    assert lookup.all_seen
    assert not files.all_seen
    assert files.first_seconds is None


def test_a_probe_of_the_key_is_not_taken_for_a_replayed_call(world: DetectWorld) -> None:
    """The drill's own GetCallerIdentity probes are signed by the key too; only the
    records carrying the drill id in their user agent count."""
    def without_agent(key_id: str, replayed: Any, agent: str) -> None:
        delivery(world, 0.0)(key_id, replayed, "Boto3/1.34 irready-drill")

    result = run(world, without_agent, timeout=0.4, sources=["lookup"])
    assert result.status is DetectStatus.NOT_SEEN


def test_the_user_agent_carries_the_drill_id(world: DetectWorld) -> None:
    agents: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        agent = request.headers.get("User-Agent", b"")
        agents.append(agent.decode() if isinstance(agent, bytes) else str(agent))

    world.operator.events.register("before-send.iam.*", capture)
    result = run(world, delivery(world, 0.0), timeout=1.0)
    tagged = [a for a in agents if f"irready-detect/{result.drill_id}" in a]
    assert len(tagged) == 5  # the five IAM calls of the story (the sixth is STS)


def test_the_secret_is_in_no_artifact(world: DetectWorld, capsys: Any) -> None:
    secrets: list[str] = []
    original = world.operator.client

    def spy(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("aws_secret_access_key"):
            secrets.append(kwargs["aws_secret_access_key"])
        return original(*args, **kwargs)

    world.operator.client = spy  # type: ignore[method-assign]
    config = world.config()
    output = world.tmp / "detect.json"
    code = run_from_cli(config, user=CANARY, sequence="story", sources=None, timeout=2.0,
                        poll=0.05, json_out=False, output=output, ctx_factory=world.ctx,
                        delivery=delivery(world, 0.1))
    assert code == 0
    captured = capsys.readouterr()
    assert secrets
    for secret in set(secrets):
        for artifact in (captured.out, captured.err, output.read_text(), stored(world)):
            assert secret not in artifact
    document = json.loads(output.read_text())
    schema = json.loads(files("reports").joinpath("schemas/detect-drill.schema.json")
                        .read_text())
    assert schema_errors(document, schema) == []
    assert document["status"] == "SEEN"


@pytest.mark.parametrize(("change", "reason"), [
    pytest.param(lambda iam: iam.untag_user(UserName=CANARY, TagKeys=["irready:canary"]),
                 f"{CANARY} is not a canary: list it in [drill] canaries or tag it "
                 "irready:canary=true", id="neither tagged nor listed"),
    pytest.param(lambda iam: iam.attach_user_policy(
        UserName=CANARY, PolicyArn=iam.create_policy(
            PolicyName="ReadAll", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}]})
        )["Policy"]["Arn"]),
        f"{CANARY} cannot be a canary: it has attached policies ReadAll", id="a policy"),
    pytest.param(lambda iam: iam.put_user_policy(
        UserName=CANARY, PolicyName="ses", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*"}]})),
        f"{CANARY} cannot be a canary: it has inline policies ses", id="an inline policy"),
    pytest.param(lambda iam: (iam.create_group(GroupName="devs"),
                              iam.add_user_to_group(GroupName="devs", UserName=CANARY)),
                 f"{CANARY} cannot be a canary: it has groups devs", id="a group"),
    pytest.param(lambda iam: iam.create_login_profile(UserName=CANARY, Password="Pa55-word!x"),
                 f"{CANARY} cannot be a canary: it has a console password", id="a password"),
    pytest.param(lambda iam: (iam.create_access_key(UserName=CANARY),
                              iam.create_access_key(UserName=CANARY)),
                 f"{CANARY} cannot be a canary: it has two access keys (no room for the "
                 "drill's)", id="two keys"),
])
def test_a_user_that_is_no_canary_is_refused_before_any_key(
        world: DetectWorld, change: Any, reason: str) -> None:
    change(world.admin.client("iam"))
    before = world.canary_keys()
    with pytest.raises(UsageError) as refused:
        run(world, None)
    assert refused.value.message.startswith(reason)
    assert world.canary_keys() == before


def test_an_inventory_entry_is_refused(world: DetectWorld) -> None:
    from dataclasses import replace

    from auditor.config import InventoryEntry

    entry = InventoryEntry(user=CANARY, owner="ops", rotation_target="")
    config = replace(world.config(), inventory=(entry,))
    options, choices = detect_options(config, user=CANARY, sequence="story", sources=None,
                                      timeout=1, poll=0.1)
    with HistoryStore(world.tmp / "history.sqlite3") as store, \
            pytest.raises(UsageError, match="is in the key inventory"):
        run_detect(world.ctx(), config, store, options, choices)
    assert world.canary_keys() == []


def test_ctrl_c_during_the_replay_deletes_the_key(world: DetectWorld) -> None:
    calls = {"n": 0}

    def now() -> datetime:
        calls["n"] += 1
        if calls["n"] == 4:  # inside the replay, after two calls
            raise KeyboardInterrupt
        return datetime.now(UTC)

    with pytest.raises(DrillUnfinished, match="its temporary key was deleted"):
        run(world, None, now=now)
    assert world.canary_keys() == []
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        (record,) = store.detect_drills()
        assert record.status == "INTERRUPTED"
        assert close_detect_drill(world.ctx(), store, record.drill_id) == \
            "no key of the drill was left; detection drill closed"
        assert store.load_detect_drill(record.drill_id).status == "CLOSED"


def test_ctrl_c_while_polling_keeps_what_was_seen(world: DetectWorld) -> None:
    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(DrillUnfinished):
        run(world, interrupt)
    assert world.canary_keys() == []
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        (record,) = store.detect_drills()
    assert record.status == "INTERRUPTED"
    document = json.loads(record.document or "{}")
    assert document["status"] == "INTERRUPTED"
    schema = json.loads(files("reports").joinpath("schemas/detect-drill.schema.json")
                        .read_text())
    assert schema_errors(document, schema) == []


class SimulatedKill(BaseException):
    """kill -9: nothing catches it, not even the key's `finally` gets to AWS."""


def test_a_killed_drill_leaves_a_key_that_rollback_deletes(world: DetectWorld,
                                                          monkeypatch: Any) -> None:
    import drills.detect.keys as keys

    def killed(*_: Any, **__: Any) -> list[str]:
        raise SimulatedKill

    monkeypatch.setattr(keys, "delete_drill_keys", killed)
    with pytest.raises(SimulatedKill):
        run(world, None)
    assert len(world.canary_keys()) == 1
    monkeypatch.undo()
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        (record,) = store.detect_drills()
        assert record.status == "RUNNING"
        assert record.journal["key_state"] == "created"
        message = close_detect_drill(world.ctx(), store, record.drill_id)
    assert message == f"deleted the temporary key {record.journal['key_id']}; detection " \
                      "drill closed"
    assert world.canary_keys() == []


def test_a_deletion_denied_leaves_the_drill_open_until_rollback(aws: Any,
                                                                tmp_path: Path) -> None:
    from moto.core import enable_iam_authentication

    policy = widened(detect_policy([CANARY]))
    policy["Statement"][1]["Action"] = ["iam:CreateAccessKey"]
    world = world_of(aws, tmp_path, operator_policy=policy)
    with enable_iam_authentication():
        with pytest.raises(DrillUnfinished, match="may still exist"):
            run(world, None)
        assert len(world.canary_keys()) == 1
        with HistoryStore(world.tmp / "history.sqlite3") as store:
            (record,) = store.detect_drills()
            assert record.status == "INTERRUPTED"
            assert "iam:DeleteAccessKey" in record.journal["cleanup_error"] or \
                "AccessDenied" in record.journal["cleanup_error"]
            admin = DetectWorld(world.admin, world.admin, tmp_path)
            close_detect_drill(admin.ctx(), store, record.drill_id)
        assert world.canary_keys() == []


def test_a_key_aws_never_accepts_fails_and_is_deleted(world: DetectWorld,
                                                      monkeypatch: Any) -> None:
    import drills.detect.run as run_module
    from drills.verify import Waited

    monkeypatch.setattr(run_module, "wait_accepted",
                        lambda *_, **__: Waited(False, 3, 5.0, 4.0, "InvalidClientTokenId"))
    result = run(world, None)
    assert result.status is DetectStatus.FAILED
    assert "was not accepted within 5 s (3 attempts, last answer InvalidClientTokenId)" in \
        result.outcome
    assert result.replayed == ()
    assert world.canary_keys() == []


def test_a_key_creation_denied_is_exit_3_and_leaves_nothing(aws: Any, tmp_path: Path) -> None:
    from moto.core import enable_iam_authentication

    policy = widened(detect_policy([CANARY]))
    policy["Statement"][1]["Action"] = ["iam:DeleteAccessKey"]
    world = world_of(aws, tmp_path, operator_policy=policy)
    with enable_iam_authentication():
        with pytest.raises(AwsUnavailable, match="CreateAccessKey: AccessDenied"):
            run(world, None)
        assert world.canary_keys() == []




def guardduty_answers(ctx: Any, answers: list[list[str]]) -> list[dict[str, Any]]:
    """moto has no GuardDuty findings (and, under IAM enforcement, refuses GuardDuty's
    signatures): one detector, "detector-1", and ListFindings answered from `answers`,
    one per call (the last one repeats); the requests are kept."""
    from botocore.awsrequest import AWSResponse

    asked: list[dict[str, Any]] = []
    no_url: Any = None

    def detectors(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(no_url, 200, {}, None), {"DetectorIds": ["detector-1"]}

    def keep(params: dict[str, Any], **_: Any) -> None:
        asked.append(dict(params))

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        ids = answers[min(len(asked), len(answers)) - 1]
        return AWSResponse(no_url, 200, {}, None), {"FindingIds": ids}

    events = ctx.client("guardduty").meta.events
    events.register_first("before-call.guardduty.ListDetectors", detectors)
    events.register("before-parameter-build.guardduty.ListFindings", keep)
    events.register_first("before-call.guardduty.ListFindings", answer)
    return asked


@pytest.mark.parametrize(("answers", "found"), [
    pytest.param([[]], [], id="no finding: expected, and not held against the drill"),
    pytest.param([[], ["finding-1"]], ["finding-1"], id="a finding names the key"),
])
def test_guardduty_is_watched_beside_the_logs(world: DetectWorld, answers: list[list[str]],
                                              found: list[str]) -> None:
    ctx = world.ctx()
    asked = guardduty_answers(ctx, answers)
    config = world.config()
    options, choices = detect_options(config, user=CANARY, sequence="story",
                                      sources=["lookup", "guardduty"], timeout=3.0, poll=0.05)
    with HistoryStore(world.tmp / "history.sqlite3") as store:
        result = run_detect(ctx, config, store, options, choices,
                            delivery=delivery(world, 0.6, s3=False))
    assert result.status is DetectStatus.SEEN
    assert [s.source.value for s in result.sources] == ["lookup"]
    assert result.guardduty is not None
    assert result.guardduty["detectors"] == ["detector-1"]
    assert result.guardduty["finding_ids"] == found
    assert (result.guardduty["seen_after_seconds"] is None) == (not found)
    assert asked[0]["FindingCriteria"] == {"Criterion": {
        "resource.accessKeyDetails.accessKeyId": {"Eq": [result.key_id]}}}
    from drills.detect.jsonform import document

    schema = json.loads(files("reports").joinpath("schemas/detect-drill.schema.json")
                        .read_text())
    assert schema_errors(document(result), schema) == []
    assert world.canary_keys() == []
