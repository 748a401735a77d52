"""Every long-lived key is a key that can leak. Old keys have been copied to more
places; unused keys are risk with no benefit. Inactive keys are not counted: they
cannot be used, and an investigation may still need them."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.iam import CREDENTIAL_REPORT, QUARANTINED_USERS
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from checks._util import days_since


@check(
    id="iam.access_key_age",
    title="No active access key is older than the maximum age",
    severity=Severity.MEDIUM,
    plain=(
        "{n} user(s) hold keys older than our rotation policy allows: old keys have been "
        "copied to more places and are more likely to leak."
    ),
    requires=(CREDENTIAL_REPORT,),
    remediation="irready drill rotate --user USER --target TARGET (or: aws iam "
                "create-access-key, ship it, then aws iam update-access-key --status Inactive)",
    references=("CIS 1.13", "IAM.3"),
)
def access_key_age(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A key that is rotated regularly is a key whose rotation is known to work."""
    limit = config.audit.key_max_age_days
    at = facts.now
    checked = failed = 0
    for row in facts.get(CREDENTIAL_REPORT).users:
        old = []
        for key in row.active_keys:
            checked += 1
            if key.last_rotated is not None and days_since(key.last_rotated, at) > limit:
                old.append(f"key {key.slot} is {days_since(key.last_rotated, at)} days old")
        if old:
            failed += 1
            yield Outcome(Status.FAIL, row.arn or row.user,
                          f"{row.user}: {'; '.join(old)} (limit {limit}).")
    if not failed:
        yield Outcome(Status.PASS, "account",
                      f"All {checked} active key(s) are within the {limit}-day limit.")


@check(
    id="iam.unused_access_keys",
    title="No active access key is left unused",
    severity=Severity.MEDIUM,
    plain=(
        "{n} user(s) hold keys that nobody uses: risk with no benefit, and a misuse would "
        "go unnoticed."
    ),
    requires=(CREDENTIAL_REPORT,),
    remediation="aws iam update-access-key --user-name USER --access-key-id KEY "
                "--status Inactive (delete it once nothing breaks)",
    references=("CIS 1.11", "IAM.22"),
)
def unused_access_keys(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A never-used key counts from its creation: an old key nobody uses is a key nobody
    would miss, and nobody would notice being used."""
    limit = config.audit.unused_key_days
    at = facts.now
    failed = 0
    for row in facts.get(CREDENTIAL_REPORT).users:
        idle = []
        for key in row.active_keys:
            since = key.last_used or key.last_rotated
            if since is None or days_since(since, at) <= limit:
                continue
            how = "last used" if key.last_used else "never used, created"
            idle.append(f"key {key.slot} {how} {days_since(since, at)} days ago")
        if idle:
            failed += 1
            yield Outcome(Status.FAIL, row.arn or row.user,
                          f"{row.user}: {'; '.join(idle)} (limit {limit}).")
    if not failed:
        yield Outcome(Status.PASS, "account",
                      f"Every active key was used within the last {limit} days.")


@check(
    id="iam.quarantine_policy",
    title="No user carries AWS's compromised-key quarantine policy",
    severity=Severity.CRITICAL,
    plain=(
        "AWS has already found one of our keys exposed in public: an incident is open "
        "now."
    ),
    requires=(QUARANTINED_USERS,),
    remediation=(
        "An incident is open: rotate the user's key now (irready drill rotate, or the "
        "playbook), review CloudTrail for the key, then detach the quarantine policy"
    ),
)
def quarantine_policy(facts: Facts, config: Config) -> Iterator[Outcome]:
    """AWS attaches AWSCompromisedKeyQuarantine* when it finds a key in public: if any
    user carries it, the leak already happened."""
    quarantined = facts.get(QUARANTINED_USERS)
    policies: dict[str, list[str]] = {}
    containments: dict[str, str] = {}
    for user, policy, containment in quarantined:
        policies.setdefault(user, []).append(policy.rsplit("/", 1)[-1])
        if containment:
            containments[user] = containment
    for user, names in sorted(policies.items()):
        resource = f"arn:aws:iam::{facts.account_id}:user/{user}"
        evidence = {"policies": ", ".join(names)}
        if user in containments:
            yield Outcome(Status.FAIL, resource,
                          f"irready quarantined {user} ({', '.join(names)}) in containment "
                          f"{containments[user]}: an incident is open.",
                          evidence={**evidence, "attached_by": "irready",
                                    "containment": containments[user]})
            continue
        yield Outcome(Status.FAIL, resource,
                      f"AWS quarantined {user} ({', '.join(names)}): its key was found "
                      "exposed; an incident is open.", evidence=evidence)
    if not quarantined:
        yield Outcome(Status.PASS, "account", "No user carries a quarantine policy.")
