"""A realistic Investigation built by hand, the demo's story: the leaked key of
app-integration-user answers a GetCallerIdentity from a new IP, mints a session, the
session creates a backdoor user with a key of its own, the backdoor key assumes a role
that stops the trail, the leaked key changes a contact, the defender's UpdateAccessKey
names the key, and the application's usual traffic goes on from its known IP.
The renderers' tests read this; `sample_investigation(**overrides)` changes any field."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from incident.investigate.model import (
    Credential,
    CredentialKind,
    Event,
    FollowUp,
    Investigation,
    Owner,
    OwnerType,
    SourceIp,
    SourceReport,
    Tactic,
    Window,
)

ACCOUNT = "123456789012"
USER = "app-integration-user"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/{USER}"
LEAKED = "AKIAEXAMPLELEAKED123"
SESSION = "ASIAEXAMPLESESSION01"
BACKDOOR = "AKIAEXAMPLEBACKDOOR1"
ROLE_SESSION = "ASIAEXAMPLEROLESESS1"
ROLE_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-admin/backdoor"
BACKDOOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/backdoor-user"
KNOWN_IP = "198.51.100.23"
NEW_IP = "203.0.113.9"
SDK_AGENT = "Boto3/1.34.30 md/Botocore#1.34.30 ua/2.0 os/linux#5.15.0 md/arch#x86_64"
CLI_AGENT = "aws-cli/2.15.30 md/Botocore#1.34.30 ua/2.0 os/linux#6.1.0 md/arch#x86_64"
DAY = datetime(2026, 12, 1, tzinfo=UTC)

CHAINS: dict[str, tuple[str, ...]] = {
    LEAKED: (LEAKED,),
    SESSION: (LEAKED, SESSION),
    BACKDOOR: (LEAKED, SESSION, BACKDOOR),
    ROLE_SESSION: (LEAKED, SESSION, BACKDOOR, ROLE_SESSION),
}
PRINCIPALS = {LEAKED: USER_ARN, SESSION: f"arn:aws:sts::{ACCOUNT}:federated-user/{USER}",
              BACKDOOR: BACKDOOR_ARN, ROLE_SESSION: ROLE_ARN}


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


def event(number: int, moment: datetime, name: str, source: str, key: str = LEAKED, *,
          tactics: tuple[Tactic, ...] = (), suspicious: bool = True, ip: str = NEW_IP,
          agent: str = CLI_AGENT, error: str = "") -> Event:
    return Event(event_id=f"00000000-0000-4000-8000-{number:012d}", event_time=moment,
                 event_name=name, event_source=f"{source}.amazonaws.com",
                 region="us-east-1", access_key_id=key, principal_arn=PRINCIPALS[key],
                 source_ip=ip, user_agent=agent, error_code=error, tactics=tactics,
                 suspicious=suspicious, chain=CHAINS[key], account_id=ACCOUNT)


def usual(number: int, moment: datetime) -> Event:
    """The application's own traffic: its known IP and SDK, no tactic."""
    return event(number, moment, "DescribeInstances", "ec2", suspicious=False, ip=KNOWN_IP,
                 agent=SDK_AGENT)


EVENTS: tuple[Event, ...] = (
    usual(1, at(9, 0)),
    event(2, at(12, 11, 3), "GetCallerIdentity", "sts", tactics=(Tactic.RECONNAISSANCE,)),
    event(3, at(12, 12), "ListBuckets", "s3", error="AccessDenied",
          tactics=(Tactic.PERMISSION_PROBING,)),
    event(4, at(12, 14), "GetSessionToken", "sts", tactics=(Tactic.TEMPORARY_CREDENTIALS,)),
    event(5, at(12, 16), "CreateUser", "iam", SESSION, tactics=(Tactic.PERSISTENCE,)),
    event(6, at(12, 16, 30), "CreateAccessKey", "iam", SESSION,
          tactics=(Tactic.PERSISTENCE,)),
    event(7, at(12, 17), "AttachUserPolicy", "iam", SESSION,
          tactics=(Tactic.PERSISTENCE, Tactic.PRIVILEGE_ESCALATION)),
    event(8, at(12, 20), "AssumeRole", "sts", BACKDOOR,
          tactics=(Tactic.TEMPORARY_CREDENTIALS,)),
    event(9, at(12, 22), "StopLogging", "cloudtrail", ROLE_SESSION,
          tactics=(Tactic.DEFENSE_EVASION,)),
    event(10, at(12, 25), "PutAlternateContact", "account",
          tactics=(Tactic.ACCOUNT_MANIPULATION,)),
    usual(11, at(12, 40)),
)

MENTIONS: tuple[Event, ...] = (
    Event(event_id="00000000-0000-4000-8000-000000000099", event_time=at(13, 5),
          event_name="UpdateAccessKey", event_source="iam.amazonaws.com", region="us-east-1",
          access_key_id="AKIAEXAMPLEDEFENDER1",
          principal_arn=f"arn:aws:iam::{ACCOUNT}:user/secops-alice", source_ip="192.0.2.10",
          user_agent=CLI_AGENT, error_code="", tactics=(), suspicious=False, chain=(),
          account_id=ACCOUNT),
)

CREDENTIALS: tuple[Credential, ...] = (
    Credential(LEAKED, CredentialKind.LEAKED, "", "", None, ACCOUNT, USER_ARN),
    Credential(SESSION, CredentialKind.SESSION, LEAKED, EVENTS[3].event_id,
               at(12, 14) + timedelta(hours=12), ACCOUNT, PRINCIPALS[SESSION],
               minted_at=at(12, 14)),
    Credential(BACKDOOR, CredentialKind.CREATED, SESSION, EVENTS[5].event_id, None, ACCOUNT,
               BACKDOOR_ARN, minted_at=at(12, 16, 30)),
    Credential(ROLE_SESSION, CredentialKind.SESSION, BACKDOOR, EVENTS[7].event_id,
               at(13, 20), ACCOUNT, ROLE_ARN, minted_at=at(12, 20)),
)

FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp("user", "backdoor-user", EVENTS[4].event_id, at(12, 16),
             "aws iam delete-user --user-name backdoor-user"),
    FollowUp("access_key", BACKDOOR, EVENTS[5].event_id, at(12, 16, 30),
             f"aws iam update-access-key --user-name backdoor-user --access-key-id "
             f"{BACKDOOR} --status Inactive"),
    FollowUp("policy", "backdoor-user:arn:aws:iam::aws:policy/AdministratorAccess",
             EVENTS[6].event_id, at(12, 17),
             "aws iam detach-user-policy --user-name backdoor-user --policy-arn "
             "arn:aws:iam::aws:policy/AdministratorAccess"),
    FollowUp("session", SESSION, EVENTS[3].event_id, at(12, 14),
             f"aws iam put-user-policy --user-name {USER} --policy-name revoke-sessions "
             "--policy-document file://deny-before-now.json"),
    FollowUp("session", ROLE_SESSION, EVENTS[7].event_id, at(12, 20),
             "aws iam put-role-policy --role-name ops-admin --policy-name revoke-sessions "
             "--policy-document file://deny-before-now.json",
             note=f"valid until {at(13, 20):%Y-%m-%d %H:%M:%SZ}"),
    FollowUp("trail", "management-events", EVENTS[8].event_id, at(12, 22),
             "aws cloudtrail start-logging --name management-events"),
    FollowUp("alternate_contact", "SECURITY", EVENTS[9].event_id, at(12, 25),
             "aws account get-alternate-contact --alternate-contact-type SECURITY"),
)

SOURCE_IPS: tuple[SourceIp, ...] = (
    SourceIp(KNOWN_IP, at(9, 0), at(12, 40), 2, new=False),
    SourceIp(NEW_IP, at(12, 11, 3), at(12, 25), 9, new=True),
)


def counts(events: tuple[Event, ...]) -> dict[str, int]:
    """Every tactic with its count, 0 when none, as the search fills `tactics`."""
    found = Counter(tactic.value for item in events for tactic in item.tactics)
    return {tactic.value: found[tactic.value] for tactic in Tactic}


def sample_investigation(**overrides: Any) -> Investigation:
    inv = Investigation(
        investigation_id="inv-20261201T130000Z-0001",
        started_at=datetime(2026, 12, 1, 13, 30, 0, 123000, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 13, 30, 42, 456000, tzinfo=UTC),
        key=LEAKED,
        account_id=ACCOUNT,
        owner=Owner(OwnerType.IAM_USER, USER_ARN, USER, from_logs=False),
        window=Window(start=DAY - timedelta(days=2), end=at(14, 0),
                      baseline_start=DAY - timedelta(days=16)),
        sources=(SourceReport("s3", "s3://trail-logs-123456789012/org", files=288,
                              records_scanned=51234, complete=True),),
        complete=True,
        incomplete_because=(),
        credentials=CREDENTIALS,
        events=EVENTS,
        mentions=MENTIONS,
        source_ips=SOURCE_IPS,
        tactics=counts(EVENTS),
        follow_ups=FOLLOW_UPS,
    )
    return replace(inv, **overrides)


def quiet_investigation(**overrides: Any) -> Investigation:
    """Only the application's usual traffic: nothing suspicious, nothing to undo."""
    quiet = (usual(1, at(9, 0)), usual(11, at(12, 40)))
    return sample_investigation(
        **{"credentials": CREDENTIALS[:1], "events": quiet, "mentions": (),
           "source_ips": SOURCE_IPS[:1], "tactics": counts(quiet), "follow_ups": (),
           **overrides})
