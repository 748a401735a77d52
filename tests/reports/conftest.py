"""Fixtures for the report tests: a real history store seeded with known runs and
drills (see report_seed.py)."""

from __future__ import annotations

import pytest
from report_seed import seed

from auditor.store import HistoryStore


@pytest.fixture
def run_ids(store: HistoryStore) -> list[int]:
    """The store fixture, seeded; the ids of its runs, oldest first."""
    return seed(store)
