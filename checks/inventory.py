"""When a key leaks, the first question is "what breaks if we rotate it?". The key
inventory in the config answers it in advance: every active key maps to an owner and
to the place the application reads it from (its rotation target)."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.config import Config
from auditor.estimate import ACTIVE_KEYS_EVIDENCE
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check


@check(
    id="iam.key_inventory",
    title="Every active access key has an owner and a rotation target",
    severity=Severity.MEDIUM,
    plain=(
        "{n} user(s) hold keys with no known owner or place to rotate them: replacing "
        "those keys after a leak would be guesswork."
    ),
    requires=(CREDENTIAL_REPORT,),
    remediation=(
        "Add to irready.toml: [[inventory]] user = \"USER\" owner = \"team@example.com\" "
        "application = \"APP\" rotation_target = \"secretsmanager:SECRET_ID\""
    ),
)
def key_inventory(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A key without an owner is rotated by guesswork, under pressure. An entry with a
    blank owner or rotation target maps nothing."""
    holders = [row for row in facts.get(CREDENTIAL_REPORT).users if row.active_keys]
    # the compliance report multiplies the drilled rotation time by this count
    counts = {ACTIVE_KEYS_EVIDENCE: str(sum(len(row.active_keys) for row in holders)),
              "users_with_keys": str(len(holders))}
    unmapped = 0
    for row in holders:
        entry = config.inventory_for(row.user)
        if entry is None:
            unmapped += 1
            yield Outcome(Status.FAIL, row.arn or row.user,
                          f"{row.user} has {len(row.active_keys)} active key(s) and no "
                          "inventory entry (owner, rotation target).", evidence=counts)
            continue
        blank = [name for name, value in (("owner", entry.owner),
                                          ("rotation target", entry.rotation_target))
                 if not value.strip()]
        if blank:
            unmapped += 1
            yield Outcome(Status.FAIL, row.arn or row.user,
                          f"{row.user} has {len(row.active_keys)} active key(s) and its "
                          f"inventory entry has no {' and no '.join(blank)}.",
                          evidence=counts)
    if not unmapped:
        yield Outcome(Status.PASS, "account",
                      f"All {len(holders)} user(s) with active keys are in the inventory.",
                      evidence=counts)
