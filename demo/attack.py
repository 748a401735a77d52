"""The story's attack, as the simulated trail logged it: three weeks of the SES mailer's
usual traffic and the account's other users, then, yesterday, the leaked key answering
a GetCallerIdentity from an unknown IP at 12:11 and what followed: the story's
reconnaissance, a burst of denied calls, a GetSessionToken session, a backdoor user with
a key of its own, a role assumed with that key from a second IP, a changed security
contact and a stopped trail; and, that afternoon, the defender deactivating the backdoor
key (an event that names the key but is not the attacker's).

The log files are written in CloudTrail's layout into the demo trail's bucket, so that
`irready investigate` reads them exactly as it would read a real trail's."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from demo.account import DEMO_ACCOUNT, DEMO_REGION, LEAKED_USER
from demo.cloudtrail_files import group_into_files, log_key, write_to_s3
from demo.cloudtrail_records import (
    CLI_AGENT,
    SDK_AGENT,
    assumed_role,
    event,
    iam_user,
    response_time,
    session_credentials,
    user_session,
)

APP_IP = "198.51.100.23"  # the mailer's server
OFFICE_IP = "192.0.2.10"
ATTACKER_IP = "203.0.113.66"
SECOND_IP = "203.0.113.67"
BACKDOOR_USER = "svc-backup"
ASSUMED_ROLE = "ops-automation"
ATTACKER_AGENT = "aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-kali2-amd64 exe/x86_64.kali"
SESSION_KEY = "ASIAQDEMOSESSION0001"
BACKDOOR_KEY = "AKIAQDEMOBACKDOOR001"
ROLE_SESSION_KEY = "ASIAQDEMOROLESESS002"
HISTORY_DAYS = 21


@dataclass(frozen=True, slots=True)
class AttackLogs:
    leaked_key: str
    attack_day: datetime  # midnight UTC of the attack's day
    files: int
    records: int


def write_attack_logs(session: Any, bucket: str, leaked_key: str, today: datetime
                      ) -> AttackLogs:
    """Write the story's log files into `bucket`; `today` is the demo's now."""
    day = datetime.combine(today.date() - timedelta(days=1), time(), UTC)
    records = [*_usual_traffic(leaked_key, day - timedelta(days=HISTORY_DAYS - 1), day),
               *attack_records(leaked_key, day), *defender_records(day)]
    s3 = session.client("s3")
    files = 0
    for account, region, delivered, batch in group_into_files(
            sorted(records, key=lambda r: str(r["eventTime"]))):
        write_to_s3(s3, bucket, log_key(account, region, delivered), batch)
        files += 1
    return AttackLogs(leaked_key, day, files, len(records))


def _usual_traffic(leaked_key: str, first: datetime, attack_day: datetime
                   ) -> Iterator[dict[str, Any]]:
    """The mailer sends mail every few hours from its server; an admin reads the console;
    the drill user's application reads its bucket. Deterministic: the demo reads the same."""
    rng = random.Random(7)
    mailer = iam_user(LEAKED_USER, DEMO_ACCOUNT)
    admin = iam_user("admin-user", DEMO_ACCOUNT)
    decoy = "AKIA" + leaked_key[4:-1] + ("X" if leaked_key[-1] != "X" else "Y")
    day = first
    while day <= attack_day + timedelta(hours=23):
        for hour in range(1, 24, 3):
            moment = day + timedelta(hours=hour, minutes=rng.randrange(60))
            yield event("SendEmail", "ses", moment, principal=mailer, key=leaked_key,
                        ip=APP_IP, agent=SDK_AGENT, read_only=False,
                        request={"source": "noreply@example.com", "destination": {
                            "toAddresses": ["HIDDEN_DUE_TO_SECURITY_REASONS"]}},
                        response={"messageId": f"0100018c-{rng.randrange(10**8):08d}"})
        moment = day + timedelta(hours=9, minutes=rng.randrange(60))
        yield event("ListUsers", "iam", moment, principal=admin, key="AKIAQDEMOADMINCONSOL",
                    ip=OFFICE_IP, agent="AWS Internal")
        # a key that differs from the leaked one in its last character: never a match
        yield event("GetObject", "s3", moment + timedelta(minutes=3), principal=admin,
                    key=decoy, ip=OFFICE_IP, agent=CLI_AGENT,
                    request={"bucketName": "irready-demo-app-data", "key": "report.csv"})
        day += timedelta(days=1)


def attack_records(leaked_key: str, day: datetime) -> Iterator[dict[str, Any]]:
    mailer = iam_user(LEAKED_USER, DEMO_ACCOUNT)
    at = day + timedelta(hours=12, minutes=11, seconds=5)

    def step(minutes: float) -> datetime:
        return at + timedelta(minutes=minutes)

    def leaked(name: str, source: str, minutes: float, **extra: Any) -> dict[str, Any]:
        return event(name, source, step(minutes), principal=mailer, key=leaked_key,
                     ip=ATTACKER_IP, agent=ATTACKER_AGENT, **extra)

    yield leaked("GetCallerIdentity", "sts", 0)
    yield leaked("ListUsers", "iam", 0.5)
    yield leaked("ListAccessKeys", "iam", 1, request={"userName": "admin-user"})
    yield leaked("ListRoles", "iam", 1.5)
    yield leaked("ListPolicies", "iam", 2, request={"scope": "Local"})
    yield leaked("GetUser", "iam", 2.5, request={"userName": "admin-user"})
    denied = ("AccessDenied", "User is not authorized to perform this operation")
    for offset, (name, source) in enumerate((
            ("ListBuckets", "s3"), ("DescribeInstances", "ec2"), ("ListSecrets", "secretsmanager"),
            ("DescribeDBInstances", "rds"), ("ListFunctions20150331", "lambda"),
            ("GetAccountAuthorizationDetails", "iam"))):
        yield leaked(name, source, 3 + offset * 0.2, error=denied)
    session_start = step(9)
    yield leaked("GetSessionToken", "sts", 9, request={"durationSeconds": 43200},
                 response={"credentials": session_credentials(SESSION_KEY, session_start,
                                                              timedelta(hours=12))})
    yield event("DescribeRegions", "ec2", step(10), principal=user_session(mailer, session_start),
                key=SESSION_KEY, ip=ATTACKER_IP, agent=ATTACKER_AGENT)
    yield leaked("CreateUser", "iam", 14, request={"userName": BACKDOOR_USER},
                 response={"user": {"userName": BACKDOOR_USER, "path": "/",
                                    "arn": f"arn:aws:iam::{DEMO_ACCOUNT}:user/{BACKDOOR_USER}",
                                    "userId": "AIDAQDEMOBACKDOOR0001",
                                    "createDate": response_time(step(14))}})
    yield leaked("CreateAccessKey", "iam", 14.5, request={"userName": BACKDOOR_USER},
                 response={"accessKey": {"userName": BACKDOOR_USER,
                                         "accessKeyId": BACKDOOR_KEY, "status": "Active",
                                         "createDate": response_time(step(14.5))}})
    yield leaked("AttachUserPolicy", "iam", 15, read_only=False,
                 request={"userName": BACKDOOR_USER,
                          "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    backdoor = iam_user(BACKDOOR_USER, DEMO_ACCOUNT, "AIDAQDEMOBACKDOOR0001")
    role_start = step(19)
    yield event("AssumeRole", "sts", role_start, principal=backdoor, key=BACKDOOR_KEY,
                ip=SECOND_IP, agent=ATTACKER_AGENT,
                request={"roleArn": f"arn:aws:iam::{DEMO_ACCOUNT}:role/{ASSUMED_ROLE}",
                         "roleSessionName": "maint"},
                response={"credentials": session_credentials(ROLE_SESSION_KEY, role_start,
                                                             timedelta(hours=1)),
                          "assumedRoleUser": {
                              "assumedRoleId": "AROAQDEMOROLE0000001:maint",
                              "arn": f"arn:aws:sts::{DEMO_ACCOUNT}:assumed-role/"
                                     f"{ASSUMED_ROLE}/maint"}})
    role = assumed_role(ASSUMED_ROLE, "maint", DEMO_ACCOUNT, role_start)
    yield event("PutAlternateContact", "account", step(21), principal=role,
                key=ROLE_SESSION_KEY, ip=SECOND_IP, agent=ATTACKER_AGENT, read_only=False,
                request={"alternateContactType": "SECURITY", "name": "Security",
                         "emailAddress": "sec-team@attacker.example", "title": "CISO",
                         "phoneNumber": "HIDDEN_DUE_TO_SECURITY_REASONS"})
    yield event("StopLogging", "cloudtrail", step(24), principal=role, key=ROLE_SESSION_KEY,
                ip=SECOND_IP, agent=ATTACKER_AGENT, read_only=False,
                request={"name": f"arn:aws:cloudtrail:{DEMO_REGION}:{DEMO_ACCOUNT}:trail/"
                                 "main-trail"})


def defender_records(day: datetime) -> Iterator[dict[str, Any]]:
    """The afternoon after: an admin restarts the trail and deactivates the backdoor key.
    Only the second names a key of the attacker's chain: a `mention`."""
    admin = iam_user("admin-user", DEMO_ACCOUNT)
    at = day + timedelta(hours=14, minutes=2)
    yield event("StartLogging", "cloudtrail", at, principal=admin, key="AKIAQDEMOADMINCONSOL",
                ip=OFFICE_IP, agent="AWS Internal", read_only=False,
                request={"name": "main-trail"})
    yield event("UpdateAccessKey", "iam", at + timedelta(minutes=3), principal=admin,
                key="AKIAQDEMOADMINCONSOL", ip=OFFICE_IP, agent="AWS Internal",
                read_only=False,
                request={"userName": BACKDOOR_USER, "accessKeyId": BACKDOOR_KEY,
                         "status": "Inactive"})

