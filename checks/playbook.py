"""A playbook written before the day a key leaks is only useful while it still describes
the account. This check compares the newest playbook `irready playbook` wrote with the
account as this audit finds it: its trails, their buckets' lifecycle, the Athena tables,
the regions, the contacts and who holds active keys."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from auditor.awsfacts.account import ALTERNATE_CONTACTS, REGIONS
from auditor.awsfacts.athena import GLUE_TABLES
from auditor.awsfacts.cloudtrail import TRAILS
from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.awsfacts.local import PLAYBOOK
from auditor.awsfacts.s3 import bucket_lifecycle
from auditor.config import Config
from auditor.facts import Fact, FactError, Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from auditor.snapshot import build_snapshot, fact_digests
from checks._util import days_since

PARTS = {"trails": "trails", "retention": "log retention", "athena": "Athena tables",
         "regions": "regions", "contacts": "alternate contacts",
         "active_keys": "users with active keys"}


def _read(facts: Facts, fact: Fact[Any]) -> None:
    """Read a fact the snapshot is made of; one this account cannot read stays unknown
    and is left out of the comparison (its own check reports it)."""
    with contextlib.suppress(FactError):
        facts.get(fact)


def current_digests(facts: Facts) -> dict[str, str]:
    for fact in (TRAILS, REGIONS, GLUE_TABLES, ALTERNATE_CONTACTS, CREDENTIAL_REPORT):
        _read(facts, fact)
    try:
        trails = facts.get(TRAILS)
    except FactError:
        trails = ()
    for bucket in sorted({t.bucket for t in trails if t.bucket and t.logging is not False}):
        _read(facts, bucket_lifecycle(bucket))
    return fact_digests(build_snapshot(facts, facts.now))


@check(
    id="playbook.current",
    title="A playbook written recently still describes the account",
    severity=Severity.MEDIUM,
    plain=(
        "The incident playbook is missing or out of date: on the day a key leaks, the team "
        "would follow steps written for an account that no longer exists."
    ),
    requires=(PLAYBOOK,),
    remediation="irready playbook --output playbook.md (and commit it)",
)
def current(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Passes when `irready playbook` wrote (or verified) a playbook within
    `[playbook] max_age_days` (14) and the parts it was built from (trails, log
    retention, Athena tables, regions, contacts, users with active keys) are what this
    audit finds. `[playbook] required = false`: NOT_APPLICABLE (the team keeps its
    playbook elsewhere). The scheduler regenerates it after each weekly audit."""
    settings = config.playbook
    if not settings.required:
        yield Outcome(Status.NOT_APPLICABLE, "account",
                      "[playbook] required = false: the team keeps its playbook elsewhere.")
        return
    record = facts.get(PLAYBOOK)
    if record is None:
        yield Outcome(Status.FAIL, "account",
                      "No playbook has been written for this account (irready playbook).")
        return
    age = days_since(record.generated_at, facts.now)
    evidence = {"generated_at": record.generated_at.isoformat(), "age_days": str(age),
                "audit_run_id": str(record.run_id)}
    if age > settings.max_age_days:
        yield Outcome(Status.FAIL, "account",
                      f"The playbook was written {age} days ago (every "
                      f"{settings.max_age_days} days is the target).", evidence=evidence)
        return
    now = current_digests(facts)
    changed = [PARTS.get(part, part) for part in sorted(now)
               if part in record.digests and record.digests[part] != now[part]]
    if changed:
        yield Outcome(Status.FAIL, "account",
                      f"The account changed since the playbook of {record.generated_at:%Y-%m-%d}"
                      f": {', '.join(changed)}.", evidence={**evidence,
                                                            "changed": ", ".join(changed)})
        return
    yield Outcome(Status.PASS, "account",
                  f"The playbook of {record.generated_at:%Y-%m-%d} ({age} days ago) still "
                  "describes the account.", evidence=evidence)
