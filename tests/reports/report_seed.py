"""Known history for the report tests: audit runs and drills written straight into a
real SQLite history store, so each report can be checked against figures computed by
hand. Quarter 2026Q4 holds three audits whose score rises 40 -> 60 -> 73.3 (rounded
in reports to 73), two drills (one failed, one succeeded in 4 min 10 s against a
15-minute target), a waiver, an expired waiver and a finding whose message holds
markup. One audit and one drill in 2026Q3 make "failing since" reach back before the
quarter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from auditor.models import AuditRun, Finding, Severity, Status, WaiverState
from auditor.store import DrillRecord, DrillStep, HistoryStore
from auditor.store.drill_states import DrillStatus, StepName, StepState

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
Q3_RUN = datetime(2026, 9, 28, 6, 0, tzinfo=UTC)
Q4_RUNS = (datetime(2026, 10, 5, 6, 0, tzinfo=UTC), datetime(2026, 10, 12, 6, 0, tzinfo=UTC),
           datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
GENERATED = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
NASTY = "user <script>alert(1)</script> & co"
STEP_SECONDS = ((StepName.PREFLIGHT, 5), (StepName.CREATE_KEY, 3), (StepName.PUBLISH, 12),
                (StepName.VERIFY_NEW, 180), (StepName.DEACTIVATE_OLD, 50),
                (StepName.VERIFY_OLD, 40), (StepName.DELETE_OLD, 2))
GOOD_DRILL = "d-20261020-0001"
FAILED_DRILL = "d-20261010-0001"
Q3_DRILL = "d-20260915-0001"


def finding(check_id: str, status: Status, severity: Severity, resource: str = "account",
            message: str = "", *, references: tuple[str, ...] = (),
            waiver: WaiverState | None = None, evidence: dict[str, str] | None = None,
            region: str = "global") -> Finding:
    return Finding(
        check_id=check_id, title=f"Title of {check_id}", status=status, severity=severity,
        account_id=ACCOUNT, region=region, resource=resource,
        message=message or f"{check_id} is {status.value} on {resource}.",
        remediation=f"fix {check_id} now", references=references,
        evidence=evidence or {}, waiver=waiver,
    )


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def findings_for(week: int, users_without_mfa: int = 3) -> tuple[Finding, ...]:
    """week 0 is the Q3 audit, 1..3 the Q4 audits; each week fixes something."""
    fail, ok = Status.FAIL, Status.PASS
    multi_region = fail if week < 2 else ok
    retention = fail if week < 3 else ok
    found = [
        finding("cloudtrail.enabled", ok, Severity.CRITICAL, references=("CIS 3.1",
                                                                         "CloudTrail.1")),
        finding("cloudtrail.multi_region", multi_region, Severity.HIGH,
                f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main-trail",
                references=("CIS 3.1", "CloudTrail.1")),
        finding("cloudtrail.bucket_retention", retention, Severity.HIGH, "s3://trail-bucket",
                evidence={"log_prefix": "AWSLogs/", "required_days": "365"}),
        finding("guardduty.enabled", Status.ERROR, Severity.MEDIUM,
                message="access denied: needs guardduty:ListDetectors"),
        finding("account.alternate_contacts", Status.WAIVED, Severity.MEDIUM, "BILLING",
                waiver=WaiverState("finance handles billing mail", date(2027, 3, 31)),
                references=("CIS 1.2", "Account.1")),
        finding("cloudtrail.bucket_access_logging", fail, Severity.LOW, "s3://trail-bucket",
                "access logging is off (waiver expired on 2026-09-30)",
                references=("CIS 3.4", "CloudTrail.7"),
                waiver=(WaiverState("access logs planned", date(2026, 9, 30), applies=False)
                        if fail is Status.FAIL else None)),
        finding("iam.key_inventory", ok, Severity.MEDIUM,
                evidence={"account_active_keys": "12", "users_with_keys": "9"}),
        finding("athena.cloudtrail_table", Status.NOT_APPLICABLE, Severity.HIGH),
    ]
    found += [
        finding("iam.console_mfa", fail, Severity.HIGH, user_arn(f"user-{i:04d}"),
                f"user-{i:04d} can sign in to the console without MFA.",
                references=("CIS 1.9", "IAM.5"))
        for i in range(users_without_mfa)
    ]
    found.append(finding("iam.console_mfa", fail, Severity.HIGH, user_arn("nasty"), NASTY,
                         references=("CIS 1.9", "IAM.5")))
    return tuple(found)


def audit_run(at: datetime, findings: tuple[Finding, ...],
              account: str = ACCOUNT) -> AuditRun:
    return AuditRun(account_id=account, started_at=at,
                    finished_at=at + timedelta(seconds=41), findings=findings,
                    regions=("us-east-1", "eu-west-1"), version="0.1.0",
                    caller_arn=f"arn:aws:iam::{account}:user/auditor")


def drill(drill_id: str, at: datetime, *, failed: bool = False,
          account: str = ACCOUNT) -> DrillRecord:
    steps = []
    clock = at
    for seq, (name, seconds) in enumerate(STEP_SECONDS, start=1):
        state = StepState.DONE
        detail: dict[str, object] = {}
        if name is StepName.VERIFY_NEW:
            detail = {"propagation_seconds": 172.5, "attempts": 7}
            if failed:
                state = StepState.FAILED
        if name is StepName.PUBLISH:
            detail = {"target": "secretsmanager:app/creds", "SecretAccessKey": "must-not-show"}
        steps.append(DrillStep(seq, name, state, clock, clock + timedelta(seconds=seconds),
                               detail))
        clock += timedelta(seconds=seconds)
        if failed and state is StepState.FAILED:
            break
    rotation = None if failed else float(sum(s for n, s in STEP_SECONDS[:5]))
    return DrillRecord(
        drill_id=drill_id, account_id=account, user="drill-user",
        target="secretsmanager:app/creds",
        status=DrillStatus.FAILED if failed else DrillStatus.SUCCEEDED,
        started_at=at, finished_at=clock, rotation_seconds=rotation, target_seconds=900.0,
        detail=({"failure": {"step": "verify_new_key",
                             "reason": "the new key was not accepted within 180 s"}}
                if failed else {"propagation": {"seconds": 172.5, "attempts": 7},
                                "outcome": "rotated; the old key is inactive"}),
        steps=tuple(steps),
    )


def seed(store: HistoryStore, users_without_mfa: int = 3) -> list[int]:
    """Writes the history described in the module docstring; returns the run ids,
    oldest first."""
    ids = [store.save_run(audit_run(Q3_RUN, findings_for(0, users_without_mfa)))]
    for week, at in enumerate(Q4_RUNS, start=1):
        ids.append(store.save_run(audit_run(at, findings_for(week, users_without_mfa))))
    store.save_drill(drill(Q3_DRILL, datetime(2026, 9, 15, 7, 0, tzinfo=UTC)))
    store.save_drill(drill(FAILED_DRILL, datetime(2026, 10, 10, 7, 0, tzinfo=UTC),
                           failed=True))
    store.save_drill(drill(GOOD_DRILL, datetime(2026, 10, 20, 7, 0, tzinfo=UTC)))
    return ids


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, read back with pypdf."""
    import io

    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
