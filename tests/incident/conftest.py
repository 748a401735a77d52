"""Fixtures of the playbook's tests (the account and config live in playbookkit.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clikit import write_config
from playbookkit import CONFIG, NOTES, seed


@pytest.fixture
def secrets(aws: Any) -> dict[str, str]:
    return seed(aws)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "notes.md").write_text(NOTES, encoding="utf-8")
    return write_config(tmp_path, CONFIG)
