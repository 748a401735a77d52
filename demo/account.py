"""The simulated account of `irready demo`: the story of the leaked key, seeded into
moto. An SES-only integration user whose key leaked and is a year old, an admin with a
console password and no MFA, a single-region trail whose bucket deletes logs after 30
days, no Athena table, only a billing contact, GuardDuty in one region, and a drill
user whose application reads its key from Secrets Manager.

Only moto's API is used to seed, except for ages: moto stamps every key "now", so key
and last-use dates are moved back in moto's backend to make the story's old keys old."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DEMO_ACCOUNT = "123456789012"
DEMO_REGION = "us-east-1"
DEMO_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")
TRAIL_BUCKET = f"irready-demo-cloudtrail-{DEMO_ACCOUNT}"
TRAIL_NAME = "main-trail"
DRILL_USER = "drill-user"
DRILL_SECRET = "demo/drill-app/aws-credentials"
LEAKED_USER = "app-integration-user"
MAILER_SECRET = "app/mailer/aws-credentials"

SES_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                   "Resource": "*"}],
}
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DRILL_APP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                   "Resource": "arn:aws:s3:::irready-demo-app-data/*"}],
}


@contextmanager
def moto_report_dated(now: Callable[[], datetime]) -> Iterator[None]:
    """moto dates every credential report 2015-02-02; IAM dates it when it generated it,
    at most 4 hours before it is read. Make in-process moto date it `now()` (the audit's
    clock), so that an audit of a simulated account neither reads a nine-year-old report
    nor prints the real time in a simulated week's evidence."""
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

    original = IamResponse.get_credential_report

    def dated(self: Any) -> ActionResult:
        result = original(self).result
        assert isinstance(result, dict)
        return ActionResult({**result,
                             "GeneratedTime": now().strftime("%Y-%m-%dT%H:%M:%SZ")})

    IamResponse.get_credential_report = dated  # type: ignore[method-assign]
    try:
        yield
    finally:
        IamResponse.get_credential_report = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    region: str
    trail_bucket: str
    drill_user: str
    drill_secret: str
    drill_target: str


def _age_key(user: str, days_old: int, last_used_days_ago: int | None) -> None:
    """Move a key's creation (and last use) back in time inside moto's backend."""
    from moto.core.utils import utcnow
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    backend = iam_backends[DEMO_ACCOUNT]["global"]
    for key in backend.users[user].access_keys:
        key.create_date = utcnow() - timedelta(days=days_old)
        if last_used_days_ago is not None:
            key.last_used = AccessKeyLastUsed(
                timestamp=utcnow() - timedelta(days=last_used_days_ago),
                service="ses", region=DEMO_REGION,
            )


def seed_story(session: Any) -> DemoAccount:
    """Seed the story into whatever endpoint `session` talks to (in-process moto)."""
    iam = session.client("iam")
    iam.create_account_alias(AccountAlias="irready-demo")

    iam.create_user(UserName=LEAKED_USER, Tags=[{"Key": "purpose", "Value": "ses-mailer"}])
    iam.put_user_policy(UserName=LEAKED_USER, PolicyName="ses-send-only",
                        PolicyDocument=json.dumps(SES_ONLY))
    mailer_key = iam.create_access_key(UserName=LEAKED_USER)["AccessKey"]
    # the mailer reads its key here: the day's containment rotates it before it blocks
    session.client("secretsmanager").create_secret(
        Name=MAILER_SECRET, SecretString=json.dumps(
            {"AccessKeyId": mailer_key["AccessKeyId"],
             "SecretAccessKey": mailer_key["SecretAccessKey"]}))
    _age_key(LEAKED_USER, days_old=412, last_used_days_ago=1)

    iam.create_user(UserName="admin-user")
    iam.create_login_profile(UserName="admin-user", Password="Demo-Passw0rd-not-real!")
    iam.put_user_policy(UserName="admin-user", PolicyName="administrator",
                        PolicyDocument=json.dumps(ADMIN))
    iam.create_access_key(UserName="admin-user")
    _age_key("admin-user", days_old=203, last_used_days_ago=None)

    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Demo-Passw0rd-not-real!")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1="123456", AuthenticationCode2="654321")

    iam.create_user(UserName=DRILL_USER, Tags=[{"Key": "irready:drill", "Value": "true"}])
    iam.put_user_policy(UserName=DRILL_USER, PolicyName="drill-app-limited",
                        PolicyDocument=json.dumps(DRILL_APP_POLICY))
    key = iam.create_access_key(UserName=DRILL_USER)["AccessKey"]
    session.client("secretsmanager").create_secret(
        Name=DRILL_SECRET,
        SecretString=json.dumps({"AccessKeyId": key["AccessKeyId"],
                                 "SecretAccessKey": key["SecretAccessKey"]}),
    )

    s3 = session.client("s3")
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    s3.put_bucket_lifecycle_configuration(
        Bucket=TRAIL_BUCKET,
        LifecycleConfiguration={"Rules": [{
            "ID": "save-money", "Status": "Enabled", "Filter": {"Prefix": "AWSLogs/"},
            "Expiration": {"Days": 30},
        }]},
    )
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(Name=TRAIL_NAME, S3BucketName=TRAIL_BUCKET,
                            IsMultiRegionTrail=False)
    cloudtrail.put_event_selectors(
        TrailName=TRAIL_NAME,
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    cloudtrail.start_logging(Name=TRAIL_NAME)

    session.client("account").put_alternate_contact(
        AlternateContactType="BILLING", Name="Finance", Title="Accounts payable",
        EmailAddress="billing@example.com", PhoneNumber="+1-555-0100",
    )
    session.client("guardduty").create_detector(Enable=True)
    return DemoAccount(
        account_id=DEMO_ACCOUNT,
        region=DEMO_REGION,
        trail_bucket=TRAIL_BUCKET,
        drill_user=DRILL_USER,
        drill_secret=DRILL_SECRET,
        drill_target=f"secretsmanager:{DRILL_SECRET}",
    )
