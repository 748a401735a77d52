"""A rotation procedure that has not run this quarter is a hope, not a procedure. This
check reads the drills recorded by `irready drill rotate` in the history store."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.awsfacts.local import DETECT_DRILLS, DRILLS
from auditor.config import Config
from auditor.durations import duration
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from checks._util import days_since


@check(
    id="drill.recent",
    title="A rotation drill succeeded recently and within the target time",
    severity=Severity.HIGH,
    plain=(
        "Key rotation has not been rehearsed recently and successfully: nobody knows how "
        "long it would really take."
    ),
    requires=(DRILLS,),
    remediation="irready drill rotate --user DRILL-USER --target TARGET",
)
def recent(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Passes when the newest successful drill is within `drill_interval_days` and took
    no longer than `rotation_target_minutes`. The newest one, not the best one: it is
    the latest measure of how fast a key can be rotated today. Failed drills do not
    count; a drill that recorded no rotation time proves no time."""
    interval = config.audit.drill_interval_days
    target = config.audit.rotation_target_minutes
    if _no_access_keys(facts):
        yield Outcome(Status.NOT_APPLICABLE, "account",
                      "No IAM user of this account has an active access key: there is no key "
                      "to rotate.")
        return
    succeeded = [d for d in facts.get(DRILLS) if d.succeeded]
    if not succeeded:
        yield Outcome(Status.FAIL, "account",
                      "No successful rotation drill is recorded for this account.")
        return
    last = succeeded[0]
    age = days_since(last.started_at, facts.now)
    if last.rotation_seconds is None:
        yield Outcome(Status.FAIL, "account",
                      f"Drill {last.drill_id} succeeded but recorded no rotation time, so "
                      f"nothing shows a rotation within {target} min.",
                      evidence={"drill_id": last.drill_id, "age_days": str(age)})
        return
    minutes = last.rotation_seconds / 60
    resource = "account"  # stable across drills, so history compares like with like
    evidence = {"drill_id": last.drill_id, "user": last.user, "age_days": str(age),
                "rotation_minutes": f"{minutes:.1f}"}
    if age > interval:
        yield Outcome(Status.FAIL, resource,
                      f"The last successful drill was {age} days ago (every {interval} days "
                      "is the target).", evidence=evidence)
    elif minutes > target:
        yield Outcome(Status.FAIL, resource,
                      f"The last drill rotated in {duration(last.rotation_seconds)}; the target "
                      f"is {target} min.",
                      evidence=evidence)
    else:
        yield Outcome(Status.PASS, resource,
                      f"Drill {last.drill_id} ({age} days ago) rotated {last.user}'s key in "
                      f"{duration(last.rotation_seconds)} (target {target} min).",
                      evidence=evidence)


def _no_access_keys(facts: Facts) -> bool:
    """True only when the credential report was read and shows no active key at all (an
    organization's member accounts often have none): an unreadable report proves nothing,
    and the drill is then judged as everywhere else."""
    if facts.error_of(CREDENTIAL_REPORT) is not None:
        return False
    report = facts.get(CREDENTIAL_REPORT)
    return not any(row.active_keys for row in report.users)


@check(
    id="drill.detect_recent",
    title="A detection drill recently saw a key's calls within the target time",
    severity=Severity.MEDIUM,
    plain=(
        "Nobody has checked lately that a leaked key's calls actually show up in the logs, "
        "and how long they take to appear."
    ),
    requires=(DETECT_DRILLS,),
    remediation="irready drill detect --user CANARY-USER",
)
def detect_recent(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Passes when the newest detection drill that measured something (every call seen,
    or not within its timeout) is within `detect_interval_days`, saw every replayed call
    in event history or the trail's files, and the last one within
    `detect_target_minutes`. A drill that could replay nothing measured nothing; an
    account without access keys (an organization's member run by roles) has none to leak."""
    interval = config.audit.detect_interval_days
    target = config.audit.detect_target_minutes
    if _no_access_keys(facts):
        yield Outcome(Status.NOT_APPLICABLE, "account",
                      "No IAM user of this account has an active access key: there is no key "
                      "whose calls to look for.")
        return
    measured = [d for d in facts.get(DETECT_DRILLS) if d.status in ("SEEN", "NOT_SEEN")]
    if not measured:
        yield Outcome(Status.FAIL, "account",
                      "No detection drill is recorded for this account: nothing shows that "
                      "a key's calls reach the logs.")
        return
    last = measured[0]
    age = days_since(last.started_at, facts.now)
    evidence = {"drill_id": last.drill_id, "user": last.user, "age_days": str(age)}
    if last.seen_seconds is not None:
        evidence["seen_minutes"] = f"{last.seen_seconds / 60:.1f}"
    if age > interval:
        yield Outcome(Status.FAIL, "account",
                      f"The last detection drill was {age} days ago (every {interval} days is "
                      "the target).", evidence=evidence)
    elif last.status != "SEEN" or last.seen_seconds is None:
        yield Outcome(Status.FAIL, "account",
                      f"Detection drill {last.drill_id} did not see every replayed call in "
                      "event history or the trail's files within its timeout.",
                      evidence=evidence)
    elif last.seen_seconds > target * 60:
        yield Outcome(Status.FAIL, "account",
                      f"Detection drill {last.drill_id} saw every call only after "
                      f"{duration(last.seen_seconds)}; the target is {target} min.",
                      evidence=evidence)
    else:
        yield Outcome(Status.PASS, "account",
                      f"Detection drill {last.drill_id} ({age} days ago) saw every call "
                      f"within {duration(last.seen_seconds)} (target {target} min).",
                      evidence=evidence)
