"""Fixtures for the audit engine's guarantees: a seeded moto account (helpers live in
auditkit.py; a user that holds a given IAM policy and moto's IAM enforcement are in
tests/conftest.py, the playbook's tests use them too)."""

from __future__ import annotations

from typing import Any

import pytest
from auditkit import seed_account


@pytest.fixture
def seeded(aws: Any) -> Any:
    seed_account(aws)
    return aws
