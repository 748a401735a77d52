"""A rotation procedure that has not run this quarter is a hope, not a procedure. This
check reads the drills recorded by `irready drill rotate` in the history store."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.awsfacts.local import DRILLS
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
