"""What an investigation finds, as frozen values: the credentials the leaked key led to,
the events each one signed, the follow-ups to undo what the attacker left, and where
the search looked. Renderers (terminal, JSON, Markdown, CSV) and the store read these;
nothing here talks to AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

SCHEMA_ID = "irready.investigation/1"


class Tactic(StrEnum):
    """What an event may tell about intent; the catalogue (tactics.json) maps event
    names to these, each with its public reference."""

    RECONNAISSANCE = "reconnaissance"
    PERMISSION_PROBING = "permission_probing"
    PERSISTENCE = "persistence"
    PRIVILEGE_ESCALATION = "privilege_escalation"
    TEMPORARY_CREDENTIALS = "temporary_credentials"
    CREDENTIAL_ACCESS = "credential_access"  # credential and data access
    DEFENSE_EVASION = "defense_evasion"
    ACCOUNT_MANIPULATION = "account_manipulation"
    EXPOSURE = "exposure"  # network and data exposure
    IMPACT = "impact"


class CredentialKind(StrEnum):
    LEAKED = "leaked"  # the key the command was given
    SESSION = "session"  # minted by GetSessionToken, GetFederationToken, AssumeRole*
    CREATED = "created"  # a long-term key created by CreateAccessKey


class OwnerType(StrEnum):
    IAM_USER = "IAMUser"
    ROOT = "Root"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    UNKNOWN = "Unknown"  # nothing named the owner: no AWS access and no event in the logs


@dataclass(frozen=True, slots=True)
class Owner:
    type: OwnerType
    arn: str  # "" when unknown
    user: str  # the IAM user name; "" for root, roles and unknown owners
    from_logs: bool  # True: read from the logs' userIdentity, not from IAM/STS


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # --from
    end: datetime  # --to
    baseline_start: datetime  # start minus --baseline: what "usual" is learned from


@dataclass(frozen=True, slots=True)
class Credential:
    access_key_id: str
    kind: CredentialKind
    derived_from: str  # the key that minted it; "" for the leaked key
    event_id: str  # the event that minted it; "" for the leaked key
    expires: datetime | None  # sessions: when they stop working; keys: None
    account_id: str  # the account the credential acts in
    principal_arn: str  # the session's role or user, the created key's user
    minted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    event_time: datetime
    event_name: str
    event_source: str
    region: str
    access_key_id: str
    principal_arn: str
    source_ip: str
    user_agent: str
    error_code: str  # "" when the call succeeded
    tactics: tuple[Tactic, ...]
    suspicious: bool
    chain: tuple[str, ...]  # key ids from the leaked key down to the signing key
    account_id: str = ""  # recipientAccountId


@dataclass(frozen=True, slots=True)
class FollowUp:
    kind: str  # user, access_key, login_profile, role, trust_policy, policy, ...
    resource: str
    event_id: str
    event_time: datetime
    command: str  # the exact command that undoes or contains it
    note: str = ""  # e.g. a session's "valid until ..."


@dataclass(frozen=True, slots=True)
class SourceIp:
    ip: str
    first_seen: datetime
    last_seen: datetime
    events: int
    new: bool  # not seen from the key in the baseline window


ATHENA_USD_PER_TB = 5.0  # Athena's price per TB scanned (10 MB minimum per query)
ATHENA_MINIMUM_BYTES = 10 * 1024**2


def query_cost_usd(bytes_scanned: int) -> float:
    """What Athena bills for one query that scanned `bytes_scanned`."""
    return max(bytes_scanned, ATHENA_MINIMUM_BYTES) / 1024**4 * ATHENA_USD_PER_TB


@dataclass(frozen=True, slots=True)
class SourceReport:
    kind: str  # s3 | local | lookup | athena
    location: str  # s3://bucket/prefix, a directory, "event history", athena:db.table
    files: int  # log files read (0 for event history and Athena)
    records_scanned: int  # records in the files read, or returned by the queries
    complete: bool
    notes: tuple[str, ...] = ()  # every folder, file, region or query that failed
    queries: tuple[str, ...] = ()  # Athena query execution ids
    bytes_scanned: int = 0  # what Athena scanned (and billed)

    @property
    def cost_usd(self) -> float:
        return query_cost_usd(self.bytes_scanned) if self.queries else 0.0


@dataclass(frozen=True, slots=True)
class SkippedSource:
    """A source that was not searched, and why (no trail, a window event history does
    not reach, an Athena table that would scan too much)."""

    kind: str
    why: str


@dataclass(frozen=True, slots=True)
class Investigation:
    investigation_id: str
    started_at: datetime
    finished_at: datetime
    key: str
    account_id: str
    owner: Owner
    window: Window
    sources: tuple[SourceReport, ...]
    complete: bool
    incomplete_because: tuple[str, ...]  # why not complete, in plain words
    credentials: tuple[Credential, ...]
    events: tuple[Event, ...]  # the attacker's chain, in time order
    mentions: tuple[Event, ...]  # others' events that name a key of the chain
    source_ips: tuple[SourceIp, ...]
    tactics: dict[str, int] = field(default_factory=dict)
    follow_ups: tuple[FollowUp, ...] = ()
    notes: tuple[str, ...] = ()  # what the reader should know: owner lookups, the baseline
    skipped_sources: tuple[SkippedSource, ...] = ()

    @property
    def suspicious(self) -> tuple[Event, ...]:
        return tuple(event for event in self.events if event.suspicious)
