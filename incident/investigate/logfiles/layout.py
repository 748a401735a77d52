"""What a trail's log files are, wherever they lie: the values a listing yields (a file,
a problem, the listing), the errors a source raises, and the layout of keys and file
names CloudTrail writes. S3 and a local copy share all of it, so a folder means the same
thing in both."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

LOGS_FOLDER = "AWSLogs"
TRAIL_FOLDER = "CloudTrail"
LOG_SUFFIXES = (".json.gz", ".json")  # some exports hold decompressed copies

_DELIVERED = re.compile(r"_(\d{8}T\d{4}Z)_[^_/]*$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")


class LogSourceError(Exception):
    """The source as a whole cannot be read (a denied bucket listing, no AWSLogs folder):
    one line that names the place and, where known, the permission."""


class LogReadError(Exception):
    """One file could not be read; the message is the problem's one-line reason."""


@dataclass(frozen=True, slots=True)
class LogFile:
    location: str  # the S3 key, or the path relative to the local root
    account_id: str
    region: str
    day: date  # the folder's day
    delivered: datetime | None  # from the file name (UTC), None if the name has none
    size: int


@dataclass(frozen=True, slots=True)
class Problem:
    location: str  # s3://bucket/key-or-prefix, or a local path
    reason: str  # one line: "AccessDenied: s3:GetObject denied", "truncated gzip", ...


@dataclass(frozen=True, slots=True)
class Listing:
    files: tuple[LogFile, ...]
    problems: tuple[Problem, ...]
    accounts: frozenset[str]  # every account folder present (both layouts)
    regions: dict[str, tuple[str, ...]]  # account -> region folders found


class LogStore(Protocol):
    kind: str  # "s3" | "local"
    location: str  # "s3://bucket/prefix" or the directory as given

    def list_files(self, accounts: Collection[str] | None, first_day: date,
                   last_day: date) -> Listing: ...

    def read(self, file: LogFile) -> bytes: ...  # compressed bytes; raises LogReadError


def is_account(name: str) -> bool:
    return bool(_ACCOUNT.match(name))


def is_organization(name: str) -> bool:
    return bool(_ORGANIZATION.match(name))


def is_log_name(name: str) -> bool:
    return name.endswith(LOG_SUFFIXES)


def delivered_of(name: str) -> datetime | None:
    """The delivery time in a CloudTrail file name, or None for a name without one."""
    match = _DELIVERED.search(name.removesuffix(".gz").removesuffix(".json"))
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def os_reason(error: OSError) -> str:
    """One line for a local file or folder that could not be read."""
    if isinstance(error, PermissionError):
        return "unreadable: permission denied"
    if isinstance(error, FileNotFoundError):
        return "vanished: removed after it was listed"
    return f"unreadable: {error.strerror or error}"
