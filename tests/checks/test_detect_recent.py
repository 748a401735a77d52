"""drill.detect_recent: logic on detection drills written to a real history store as
the drill writes them (begun, then finished with its figure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.config import AuditSettings, Config
from auditor.facts import Facts
from auditor.models import Status
from auditor.runner import run_check
from auditor.store import HistoryStore
from checks import drills

ACCOUNT = "123456789012"
NOW = datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with HistoryStore(tmp_path / "history.sqlite3") as opened:
        yield opened


def detection(store: HistoryStore, drill_id: str, *, age_days: float = 10,
              status: str = "SEEN", minutes: float | None = 6,
              account: str = ACCOUNT) -> None:
    started = NOW - timedelta(days=age_days)
    store.begin_detect_drill(drill_id=drill_id, account_id=account, user="canary-user",
                             started_at=started, journal={})
    store.finish_detect_drill(drill_id, status, started + timedelta(minutes=30), "{}",
                              None if minutes is None else minutes * 60)


def finding(store: HistoryStore, config: Config | None = None) -> Any:
    config = config or Config()
    facts = Facts(None, config, history=store, account_id=ACCOUNT)
    (only,) = run_check(drills.detect_recent, facts, config)
    return only


@pytest.mark.parametrize(("drills_", "expected", "words"), [
    pytest.param([], Status.FAIL, "No detection drill is recorded", id="no drill"),
    pytest.param([("d-1", {"status": "FAILED", "minutes": None})], Status.FAIL,
                 "No detection drill is recorded", id="only a drill that replayed nothing"),
    pytest.param([("d-1", {})], Status.PASS,
                 "Detection drill d-1 (10 days ago) saw every call within 6 min (target 15 "
                 "min)", id="a good drill"),
    pytest.param([("d-1", {"age_days": 120})], Status.FAIL,
                 "The last detection drill was 120 days ago (every 100 days",
                 id="an old drill"),
    pytest.param([("d-1", {"minutes": 40})], Status.FAIL,
                 "saw every call only after 40 min; the target is 15 min", id="slow logs"),
    pytest.param([("d-1", {"age_days": 30}),
                  ("d-2", {"age_days": 2, "status": "NOT_SEEN", "minutes": None})],
                 Status.FAIL, "Detection drill d-2 did not see every replayed call",
                 id="the newest drill saw nothing although an older one did"),
    pytest.param([("d-1", {"age_days": 5}),
                  ("d-2", {"age_days": 1, "status": "INTERRUPTED", "minutes": None})],
                 Status.PASS, "Detection drill d-1", id="a cut-off drill after a good one"),
    pytest.param([("d-1", {"account": "111122223333"})], Status.FAIL,
                 "No detection drill is recorded", id="a drill of another account"),
])
def test_detect_recent(store: HistoryStore, drills_: list[tuple[str, dict[str, Any]]],
                       expected: Status, words: str) -> None:
    for drill_id, figures in drills_:
        detection(store, drill_id, **figures)
    result = finding(store)
    assert result.status is expected
    assert words in result.message


def test_thresholds_come_from_config(store: HistoryStore) -> None:
    detection(store, "d-1", age_days=10, minutes=40)
    config = replace(Config(), audit=AuditSettings(detect_interval_days=7,
                                                   detect_target_minutes=60))
    assert finding(store, config).status is Status.FAIL
    detection(store, "d-2", age_days=3, minutes=40)
    assert finding(store, config).status is Status.PASS


def test_without_history_store_is_error() -> None:
    facts = Facts(None, Config(), account_id=ACCOUNT)
    (result,) = run_check(drills.detect_recent, facts, facts.config)
    assert result.status is Status.ERROR
    assert "no history store is open" in result.message
