"""Fixtures of the drill tests: a drillable moto account under IAM enforcement.

`world` seeds a tagged drill user whose key sits in a Secrets Manager secret, an admin
that sets up and inspects, and an operator that holds only the actions of the shipped
drill policy (moto matches IAM resources only against "*", so the resources are widened;
the policy's scoping is tested on its own). Then enforcement is switched on, and moto is
made to refuse inactive keys as AWS does, so "the old key is rejected" is tested for
real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from drillkit import SECRET, USER, World, seed, session

from auditor.config import Config, DrillSettings
from auditor.store import HistoryStore
from drills.model import DrillOptions


@pytest.fixture
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries of injected faults happen without their random pause."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0.0)


@pytest.fixture
def world(aws: Any, tmp_path: Path, inactive_keys_rejected: None) -> Iterator[World]:
    from moto.core import enable_iam_authentication

    keys = seed(aws)

    def of(name: str) -> Any:
        return session(keys[f"{name}_id"], keys[f"{name}_secret"])

    with enable_iam_authentication():
        yield World(admin=of("admin"), operator=of("operator"), tmp=tmp_path,
                    original=(keys[f"{USER}_id"], keys[f"{USER}_secret"]),
                    operator_key=(keys["operator_id"], keys["operator_secret"]))


@pytest.fixture
def drill_config(tmp_path: Path) -> Config:
    return replace(Config(), drill=DrillSettings(propagation_timeout_seconds=1),
                   history_path=str(tmp_path / "history.sqlite3"))


@pytest.fixture
def options() -> Callable[..., DrillOptions]:
    def make(target: str = f"secretsmanager:{SECRET}", **kwargs: Any) -> DrillOptions:
        defaults: dict[str, Any] = {"user": USER, "target": target, "propagation_timeout": 1.0,
                                    "health_timeout": 1.0, "command_timeout": 10.0}
        return DrillOptions(**{**defaults, **kwargs})

    return make


@pytest.fixture
def history(drill_config: Config) -> Iterator[HistoryStore]:
    with HistoryStore(drill_config.history_file) as store:
        yield store
