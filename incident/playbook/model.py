"""The playbook as data: a frozen tree built from stored facts only. Everything but
`status` is the account's facts and renders the same bytes for the same facts; `status`
holds the volatile values (key ages, last use, open failures) and the only date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

KEY_PLACEHOLDER = "AKIA...KEY"  # the one value left to type: the leaked key's id


@dataclass(frozen=True, slots=True)
class Contact:
    type: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Who:
    contacts: tuple[Contact, ...] | None  # None: the audit could not read them
    security_missing: bool
    incident_lead: str
    support_plan: str
    vendors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Trail:
    name: str
    home_region: str
    multi_region: bool
    bucket: str
    key_prefix: str
    logging: bool | None
    expires_after_days: int | None  # the shortest lifecycle expiration of its logs


@dataclass(frozen=True, slots=True)
class Query:
    title: str
    sql: str


@dataclass(frozen=True, slots=True)
class Logs:
    """Where the evidence is, and what is missing from it."""

    regions: tuple[str, ...]
    trails: tuple[Trail, ...] | None  # None: unknown
    table: str  # "database.table" the queries use; "" when none exists
    table_region: str
    location: str  # the table's (or the trail's) S3 location
    partition_columns: tuple[str, ...]
    gaps: tuple[str, ...]  # what the account lacks, in the words the playbook uses
    create_table: str  # the CREATE TABLE to run when no table exists; "" otherwise
    queries: tuple[Query, ...]
    lookup_events: tuple[str, ...]  # one command per region
    # the newest detection drill's figure ("Our logs show a key's calls after about N
    # minutes ..."); "" when no detection drill saw every call
    visible_after: str = ""


@dataclass(frozen=True, slots=True)
class KeyRow:
    user: str
    owner: str
    application: str
    rotation_target: str
    last_drill: str  # "YYYY-MM-DD" of the last successful drill, "never"
    measured: str  # its measured rotation time, "-" when never drilled
    command: str


@dataclass(frozen=True, slots=True)
class Containment:
    rows: tuple[KeyRow, ...]
    unknown_users: tuple[str, ...]  # active keys without an inventory entry
    active_keys: int | None
    per_key: str  # the measured rotation time, "-" when no drill succeeded yet
    total: str  # active_keys x per_key
    within_window: bool | None
    never_drilled: tuple[str, ...]
    containments: int = 0  # `irready contain` runs that reached safe in this account
    time_to_safe: str = "-"  # the newest one's time to safe, "-" when none


@dataclass(frozen=True, slots=True)
class KeyStatus:
    user: str
    slot: int
    age_days: int | None
    last_used: str  # "YYYY-MM-DD" or "never"


@dataclass(frozen=True, slots=True)
class Status:
    """Volatile: the only section with a date."""

    as_of: date
    audit_run_id: int
    audit_date: date
    keys: tuple[KeyStatus, ...]
    open_failures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Playbook:
    account_id: str
    root_keys: bool | None  # root has an active access key; None: unknown
    who: Who
    logs: Logs
    containment: Containment
    notes: str  # the team's own Markdown, verbatim; "" when none
    status: Status
