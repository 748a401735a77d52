"""The few simulated weeks `irready demo` replays so that its compliance PDF has a real
trend and a real drill to show: the story's unprepared account, then one fix after
another (the trail made multi-region, log retention raised, an Athena table created,
MFA enabled, the contacts set, ...), with an audit after each.

Each fix changes the in-process moto account through its public API, exactly as a
team would with the AWS CLI; the demo's loop (demo/run.py) audits with a
simulated clock between them. The report it ends with says on every page that it is
a simulation."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.account import DEMO_REGIONS, TRAIL_NAME, DemoAccount

if TYPE_CHECKING:
    from auditor.store import HistoryStore

SIMULATION_NOTICE = (
    "SIMULATION: this report was made by `irready demo` on an embedded, simulated AWS "
    "account (moto). The weeks of audits are replayed with a simulated clock; no real "
    "account was read or changed."
)
LOG_DATABASE = "security_logs"
LOG_TABLE = "cloudtrail_logs"
ACCESS_LOG_BUCKET = "irready-demo-access-logs-123456789012"
REPORT_NAME = "compliance-report.pdf"
ORG_REPORT_NAME = "org-compliance.pdf"  # the organization edition, of the demo's org run


@dataclass(frozen=True)
class Fix:
    """One change a team makes in a week; `checks` are the controls it should pass."""

    title: str
    checks: tuple[str, ...]
    apply: Callable[[Any, DemoAccount], None]


def _multi_region(session: Any, account: DemoAccount) -> None:
    session.client("cloudtrail").update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=True)


def _retention(session: Any, account: DemoAccount) -> None:
    session.client("s3").put_bucket_lifecycle_configuration(
        Bucket=account.trail_bucket,
        LifecycleConfiguration={"Rules": [{
            "ID": "keep-logs-400-days", "Status": "Enabled", "Filter": {"Prefix": "AWSLogs/"},
            "Expiration": {"Days": 400},
        }]},
    )


def _athena_table(session: Any, account: DemoAccount) -> None:
    glue = session.client("glue", region_name=account.region)
    glue.create_database(DatabaseInput={"Name": LOG_DATABASE})
    glue.create_table(DatabaseName=LOG_DATABASE, TableInput={
        "Name": LOG_TABLE,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Location": f"s3://{account.trail_bucket}/AWSLogs/",
            "Columns": [{"Name": "eventtime", "Type": "string"},
                        {"Name": "eventname", "Type": "string"},
                        {"Name": "useridentity", "Type": "string"},
                        {"Name": "sourceipaddress", "Type": "string"}],
            "InputFormat": "com.amazon.emr.cloudtrail.CloudTrailInputFormat",
            "SerdeInfo": {"SerializationLibrary":
                          "org.apache.hive.hcatalog.data.JsonSerDe"},
        },
    })


def _admin_mfa(session: Any, account: DemoAccount) -> None:
    iam = session.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="admin-user")
    iam.enable_mfa_device(UserName="admin-user",
                          SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
                          AuthenticationCode1="123456", AuthenticationCode2="654321")


def _contacts(session: Any, account: DemoAccount) -> None:
    client = session.client("account")
    for kind, name, email in (("SECURITY", "Security team", "security@example.com"),
                              ("OPERATIONS", "On-call", "oncall@example.com")):
        client.put_alternate_contact(AlternateContactType=kind, Name=name, Title=name,
                                     EmailAddress=email, PhoneNumber="+1-555-0100")


def _log_hygiene(session: Any, account: DemoAccount) -> None:
    session.client("cloudtrail").update_trail(Name=TRAIL_NAME, EnableLogFileValidation=True)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=ACCESS_LOG_BUCKET, ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket=account.trail_bucket, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": ACCESS_LOG_BUCKET,
                           "TargetPrefix": f"{account.trail_bucket}/"}})


def _guardduty_everywhere(session: Any, account: DemoAccount) -> None:
    for region in DEMO_REGIONS:
        client = session.client("guardduty", region_name=region)
        if not client.list_detectors()["DetectorIds"]:
            client.create_detector(Enable=True)


FIXES: tuple[Fix, ...] = (
    Fix("The trail is made multi-region", ("cloudtrail.multi_region",), _multi_region),
    Fix("Log retention raised to 400 days", ("cloudtrail.bucket_retention",), _retention),
    Fix("An Athena table is created over the CloudTrail logs", ("athena.cloudtrail_table",),
        _athena_table),
    Fix("MFA enabled for admin-user", ("iam.console_mfa",), _admin_mfa),
    Fix("Security and operations contacts set", ("account.alternate_contacts",), _contacts),
    Fix("Log file validation and access logging turned on",
        ("cloudtrail.log_validation", "cloudtrail.bucket_access_logging"), _log_hygiene),
    Fix("GuardDuty enabled in every audited region", ("guardduty.enabled",),
        _guardduty_everywhere),
)


def simulated_weeks(end: datetime, count: int) -> tuple[datetime, ...]:
    """`count` audit times a week apart, the last one a week before `end`, at 06:00
    UTC: the demo's weekly cron, replayed."""
    last = (end.astimezone(UTC) - timedelta(days=7)).replace(hour=6, minute=0, second=0,
                                                                microsecond=0)
    return tuple(last - timedelta(days=7 * (count - 1 - i)) for i in range(count))


def ticking_clock(start: datetime, step_seconds: float = 3.0) -> Callable[[], datetime]:
    """A clock for `perform_audit(clock=...)` that starts at `start` and moves
    `step_seconds` at every reading, so a simulated audit has a plausible duration."""
    ticks = itertools.count()

    def now() -> datetime:
        return start + timedelta(seconds=step_seconds * next(ticks))

    return now


def write_demo_report(store: HistoryStore, output_dir: Path, account: DemoAccount, *,
                      generated_at: datetime) -> list[Path]:
    """The demo's compliance PDF over everything in its history store, labelled as a
    simulation; returns the files written (the PDF first)."""
    from auditor.errors import NotFound
    from reports.compliance_pdf import write_compliance_report
    from reports.compliance_period import Period

    runs = store.runs(account_id=account.account_id)
    drills = store.drills(account_id=account.account_id)
    moments = [r.started_at for r in runs] + [d.started_at for d in drills]
    if not moments:
        raise NotFound("the demo recorded no audit and no drill to report on")
    first = min(moments).astimezone(UTC)
    start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(max(moments), generated_at).astimezone(UTC) + timedelta(seconds=1)
    period = Period(start, end, "simulated weeks")
    return write_compliance_report(store, output_dir / REPORT_NAME, period=period,
                                   generated_at=generated_at, account_id=account.account_id,
                                   alias="irready-demo", notice=SIMULATION_NOTICE)
