"""What a finding's resource is to the tools security teams already use (Security Hub,
an OCSF data lake): its type, its partition, and the region a finding about it belongs
to. A check names its resource as an ARN, "account", or a name of its own
("alternate-contact/SECURITY", "guardduty/eu-west-1"); ASFF and OCSF both need a typed
resource, and account-wide findings (region "global") need a real region: the run's home
region. One mapping here, so the ASFF and OCSF outputs never disagree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditor.models import AuditRun, Finding

GLOBAL = "global"  # Finding.region of an account-wide check
DEFAULT_HOME_REGION = "us-east-1"  # as AwsContext without a configured region
OTHER = "Other"  # ASFF's resource type for what it has no type for

# (service, resource kind) of an ARN -> the ASFF resource type (AwsIamUser, ...)
ARN_TYPES: Mapping[tuple[str, str], str] = {
    ("iam", "user"): "AwsIamUser",
    ("iam", "role"): "AwsIamRole",
    ("iam", "root"): "AwsAccount",
    ("cloudtrail", "trail"): "AwsCloudTrailTrail",
    ("s3", ""): "AwsS3Bucket",
    ("guardduty", "detector"): "AwsGuardDutyDetector",
    ("athena", "workgroup"): "AwsAthenaWorkGroup",
}

# region prefixes of the partitions other than "aws"
PARTITION_PREFIXES: tuple[tuple[str, str], ...] = (
    ("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"),
)


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A finding's resource as ASFF and OCSF name it."""

    id: str  # the ARN, "AWS::::Account:ID" for the account, else the check's own name
    type: str  # an ASFF resource type: AwsIamUser, AwsAccount, ..., or Other
    partition: str  # aws, aws-cn, aws-us-gov, ...
    region: str | None  # where the resource lives; None for global ones (IAM, the account)


def partition_of_region(region: str) -> str:
    for prefix, partition in PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def home_region(run: AuditRun, given: str | None = None) -> str:
    """Where account-wide findings go: `given` (the region the audit's session used),
    else, for a stored run that did not record it, us-east-1 when the run audited it (or
    recorded no regions), else the first region the run audited."""
    if given:
        return given
    if not run.regions or DEFAULT_HOME_REGION in run.regions:
        return DEFAULT_HOME_REGION
    return run.regions[0]


def delivery_region(finding: Finding, home: str) -> str:
    """The region a finding belongs to: its own, or the home region for a global one."""
    return home if finding.region == GLOBAL else finding.region


def resource_ref(finding: Finding, home: str) -> ResourceRef:
    resource = finding.resource
    regional = None if finding.region == GLOBAL else finding.region
    if resource == "account":
        return ResourceRef(f"AWS::::Account:{finding.account_id}", "AwsAccount",
                           partition_of_region(home), None)
    if resource.startswith("arn:"):
        parts = resource.split(":", 5)
        if len(parts) == 6:
            service, rest = parts[2], parts[5]
            kind = rest.split("/", 1)[0] if "/" in rest or service == "iam" else ""
            if service == "s3":
                kind = ""
            kind = kind.split(":", 1)[0]
            return ResourceRef(resource, ARN_TYPES.get((service, kind), OTHER), parts[1],
                               parts[3] or regional)
    return ResourceRef(resource, OTHER, partition_of_region(regional or home), regional)
