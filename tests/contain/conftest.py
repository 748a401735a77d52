"""Fixtures of the containment tests: a moto account under IAM enforcement where
`app-integration-user`'s key leaked; the application reads it from a Secrets Manager
secret. The drill's helpers (sessions, faults, the kill) are reused from tests/drills."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

for _kit in ("drills", "incident"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / _kit))

from containkit import APP_SECRET, APP_USER, Account, seed_account  # noqa: E402

from auditor.config import Config, DrillSettings  # noqa: E402
from auditor.store import HistoryStore  # noqa: E402


@pytest.fixture
def account(aws: Any, tmp_path: Path, inactive_keys_rejected: None) -> Iterator[Account]:
    from moto.core import enable_iam_authentication

    seeded = seed_account(aws, tmp_path)
    with enable_iam_authentication():
        yield seeded


@pytest.fixture
def contain_config(tmp_path: Path) -> Config:
    return replace(Config(), drill=DrillSettings(propagation_timeout_seconds=1),
                   history_path=str(tmp_path / "history.sqlite3"))


@pytest.fixture
def history(contain_config: Config) -> Iterator[HistoryStore]:
    with HistoryStore(contain_config.history_file) as store:
        yield store


__all__ = ["APP_SECRET", "APP_USER"]


@pytest.fixture
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries of injected faults happen without their random pause."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0.0)


@pytest.fixture
def managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto loads AWS's managed policies only when asked, before its backend starts:
    request this fixture before `account`."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
