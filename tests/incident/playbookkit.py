"""The playbook tests' account: a logging multi-region trail, its bucket's lifecycle, an
Athena table with partition columns over it, a SECURITY contact, three users with keys
(two in the inventory), and a config that names them."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
BUCKET = "org-trail-logs-123456789012"
TABLE_LOCATION = f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/"
USERS = ("billing-app", "ci-deployer", "legacy-etl")


def seed(session: Any) -> dict[str, str]:
    """The account; returns each user's secret key (that must never be written)."""
    iam = session.client("iam")
    secrets = {}
    for user in USERS:
        iam.create_user(UserName=user)
        secrets[user] = iam.create_access_key(UserName=user)["AccessKey"]["SecretAccessKey"]
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": "keep-400-days", "Status": "Enabled", "Filter": {"Prefix": "AWSLogs/"},
        "Expiration": {"Days": 400}}]})
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                            EnableLogFileValidation=True)
    cloudtrail.start_logging(Name="org-trail")
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": "forensics"})
    glue.create_table(DatabaseName="forensics", TableInput={
        "Name": "trail_events",
        "StorageDescriptor": {"Location": TABLE_LOCATION},
        "PartitionKeys": [{"Name": "region", "Type": "string"},
                          {"Name": "day", "Type": "string"}]})
    session.client("account").put_alternate_contact(
        AlternateContactType="SECURITY", Name="Security team", Title="SecOps",
        EmailAddress="security@example.com", PhoneNumber="+15555550100")
    return secrets


CONFIG = """
[audit]
regions = ["us-east-1", "eu-west-1"]

[[inventory]]
user = "billing-app"
owner = "payments@example.com"
application = "billing"
rotation_target = "secretsmanager:prod/billing/aws"

[[inventory]]
user = "ci-deployer"
owner = "platform@example.com"
application = "ci"
rotation_target = "ssm:/ci/aws-key"

[playbook]
incident_lead = "Dana (on-call lead) +1 555 0100"
support_plan = "Business"
vendors = ["CI vendor: support@ci.example"]
notes = "notes.md"

[history]
path = "history.sqlite3"
"""
NOTES = "### Escalation\n\n- Legal: legal@example.com | 24/7\n"
