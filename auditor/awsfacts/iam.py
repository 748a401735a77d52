"""IAM facts. The credential report carries password, MFA and both keys of every user
in one call, so no IAM fact makes a call per user: an audit of 5,000 users costs what
an audit of 10 costs."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditor.clock import iso
from auditor.durations import format_duration
from auditor.facts import FactError, Facts, fact
from auditor.models import Provenance
from auditor.session import error_code

ROOT_USER = "<root_account>"

# IAM serves a credential report up to 4 hours old (GenerateCredentialReport makes a new
# one only after that); past an hour, a fix made this morning may not show in it yet.
REPORT_STALE_AFTER = timedelta(hours=1)

# AWS attaches one of these to a user when it finds the user's key exposed in public.
QUARANTINE_POLICY_ARNS = (
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV4",
)
QUARANTINE_TAG = "irready:quarantine"  # set by `irready contain --quarantine`: the containment


@dataclass(frozen=True, slots=True)
class KeySlot:
    slot: int  # 1 or 2, as in the credential report
    active: bool
    last_rotated: datetime | None
    last_used: datetime | None


@dataclass(frozen=True, slots=True)
class CredentialRow:
    user: str
    arn: str
    created: datetime | None
    password_enabled: bool | None  # None: "not_supported" (root under centralized root access)
    password_last_used: datetime | None
    mfa_active: bool
    keys: tuple[KeySlot, ...]
    has_certificate: bool = False

    @property
    def is_root(self) -> bool:
        return self.user == ROOT_USER

    @property
    def active_keys(self) -> tuple[KeySlot, ...]:
        return tuple(key for key in self.keys if key.active)


@dataclass(frozen=True, slots=True)
class CredentialReport:
    generated: datetime | None
    rows: tuple[CredentialRow, ...]

    @property
    def users(self) -> tuple[CredentialRow, ...]:
        return tuple(row for row in self.rows if not row.is_root)

    @property
    def root(self) -> CredentialRow | None:
        return next((row for row in self.rows if row.is_root), None)

    def provenance(self, now: datetime) -> Provenance:
        """The report's generation time, for the evidence of every check that read it,
        and, when it is more than an hour older than the audit (`now`), a note that
        changes made since may not show yet."""
        if self.generated is None:
            return Provenance()
        evidence = {"credential_report_generated": iso(self.generated)}
        age = now - self.generated
        if age <= REPORT_STALE_AFTER:
            return Provenance(evidence)
        return Provenance(evidence, (
            f" (IAM's credential report is from {self.generated:%Y-%m-%d %H:%M} UTC, "
            f"{format_duration(age.total_seconds())} before this audit: changes made since may not "
            "show yet)"))


def _time(value: str) -> datetime | None:
    if value in ("", "N/A", "no_information", "not_supported"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _flag(value: str) -> bool | None:
    if value == "not_supported":
        return None
    return value.lower() == "true"


def parse_credential_report(content: str, generated: datetime | None = None) -> CredentialReport:
    rows = []
    for line in csv.DictReader(io.StringIO(content)):
        keys = tuple(
            KeySlot(
                slot=n,
                active=line.get(f"access_key_{n}_active", "false").lower() == "true",
                last_rotated=_time(line.get(f"access_key_{n}_last_rotated", "N/A")),
                last_used=_time(line.get(f"access_key_{n}_last_used_date", "N/A")),
            )
            for n in (1, 2)
        )
        rows.append(
            CredentialRow(
                user=line["user"],
                arn=line.get("arn", ""),
                created=_time(line.get("user_creation_time", "")),
                password_enabled=_flag(line.get("password_enabled", "false")),
                password_last_used=_time(line.get("password_last_used", "N/A")),
                mfa_active=line.get("mfa_active", "false").lower() == "true",
                keys=keys,
                has_certificate=any(
                    line.get(f"cert_{n}_active", "false").lower() == "true" for n in (1, 2)
                ),
            )
        )
    return CredentialReport(generated=generated, rows=tuple(rows))


@fact("iam.credential_report", "iam:GenerateCredentialReport", "iam:GetCredentialReport")
def CREDENTIAL_REPORT(facts: Facts) -> CredentialReport:
    """Generate, poll with backoff within a bounded wait, then read the report."""
    iam = facts.aws.client("iam")
    deadline = time.monotonic() + facts.config.audit.credential_report_timeout_seconds
    timeout = facts.config.audit.credential_report_timeout_seconds
    delay = 0.2
    while iam.generate_credential_report()["State"] != "COMPLETE":
        if time.monotonic() + delay > deadline:
            raise FactError(
                "iam.credential_report",
                "Timeout",
                f"the credential report was not ready within {timeout} s; run the audit "
                "again, or raise audit.credential_report_timeout_seconds",
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
    response = iam.get_credential_report()
    content = response["Content"]
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return parse_credential_report(text, response.get("GeneratedTime"))


@fact("iam.account_summary", "iam:GetAccountSummary")
def ACCOUNT_SUMMARY(facts: Facts) -> Mapping[str, int]:
    summary: Mapping[str, int] = facts.aws.client("iam").get_account_summary()["SummaryMap"]
    return dict(summary)


def _partition(facts: Facts) -> str:
    """AWS-managed policy ARNs carry the partition: arn:aws-cn:... in China, and so on.
    A region botocore does not know (an AWS-compatible endpoint's) is taken as "aws"."""
    try:
        return str(facts.aws.session.get_partition_for_region(facts.aws.region) or "aws")
    except Exception:  # noqa: BLE001 - botocore's UnknownRegionError
        return "aws"


@fact("iam.quarantined_users", "iam:ListEntitiesForPolicy")
def QUARANTINED_USERS(facts: Facts) -> tuple[tuple[str, str, str], ...]:
    """(user name, policy ARN, containment) for every user carrying an AWS quarantine
    policy; the containment is the id in the user's irready:quarantine tag when irready
    attached it, else "" (AWS did, or the tags could not be read)."""
    iam = facts.aws.client("iam")
    partition = _partition(facts)
    found: list[tuple[str, str]] = []
    for listed in QUARANTINE_POLICY_ARNS:
        arn = listed.replace("arn:aws:", f"arn:{partition}:", 1)
        try:
            pages = iam.get_paginator("list_entities_for_policy").paginate(
                PolicyArn=arn, EntityFilter="User"
            )
            found.extend((user["UserName"], arn) for page in pages for user in page["PolicyUsers"])
        except Exception as exc:
            if error_code(exc) == "NoSuchEntity":
                continue  # this version of the policy does not exist (yet) in the partition
            raise
    tagged: dict[str, str] = {}
    for user in {user for user, _ in found}:
        try:
            tags = iam.list_user_tags(UserName=user)["Tags"]
        except Exception:  # noqa: BLE001 - without the tag, the quarantine counts as AWS's
            continue
        tagged[user] = next((str(t["Value"]) for t in tags if t["Key"] == QUARANTINE_TAG), "")
    return tuple(sorted((user, arn, tagged.get(user, "")) for user, arn in found))
