"""Builders for the fact values that tests of checks hand to `Facts.from_values`: a trail,
a credential report row, a key slot. Defaults describe a healthy account, so each test
states only what differs from it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.awsfacts.cloudtrail import Trail
from auditor.awsfacts.iam import CredentialReport, CredentialRow, KeySlot
from auditor.config import Config
from auditor.facts import Fact, Facts
from auditor.models import Finding, Status
from auditor.registry import Check
from auditor.runner import run_check

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def trail(
    name: str = "main",
    *,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    multi_region: bool = True,
    organization: bool = False,
    bucket: str = "trail-bucket",
    prefix: str = "",
    validation: bool = True,
    logging: bool | None = True,
    read: bool | None = True,
    write: bool | None = True,
    status_error: str = "",
    selectors_error: str = "",
) -> Trail:
    return Trail(
        name=name,
        arn=f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
        home_region=region,
        multi_region=multi_region,
        organization=organization,
        bucket=bucket,
        prefix=prefix,
        log_validation=validation,
        logging=logging,
        management_read=read,
        management_write=write,
        status_error=status_error,
        selectors_error=selectors_error,
    )


def key(slot: int = 1, *, active: bool = True, age_days: float | None = 10,
        used_days_ago: float | None = 1) -> KeySlot:
    return KeySlot(
        slot=slot,
        active=active,
        last_rotated=days_ago(age_days) if age_days is not None else None,
        last_used=days_ago(used_days_ago) if used_days_ago is not None else None,
    )


def user(name: str, *, password: bool = False, mfa: bool = False,
         keys: tuple[KeySlot, ...] = ()) -> CredentialRow:
    return CredentialRow(
        user=name,
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        created=days_ago(400),
        password_enabled=password,
        password_last_used=None,
        mfa_active=mfa,
        keys=keys,
    )


def report(*rows: CredentialRow) -> CredentialReport:
    return CredentialReport(generated=datetime.now(UTC), rows=rows)


def evaluate(check: Check, values: Mapping[Fact[Any], Any], config: Config | None = None,
             account_id: str = ACCOUNT) -> list[Finding]:
    """Run one check the way the runner does (ERROR on a failed fact, crash isolation)."""
    config = config or Config()
    facts = Facts.from_values(values, config=config, account_id=account_id)
    return run_check(check, facts, config)


def statuses(findings: list[Finding]) -> list[Status]:
    return [finding.status for finding in findings]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f"{f.status} {f.resource}: {f.message}" for f in findings]
    return findings[0]
