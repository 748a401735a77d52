"""Reading the fields of one CloudTrail record defensively. Real logs hold records whose
requestParameters or responseElements are null, strings or oddly shaped (a failed call,
an elided response, an old eventVersion); every reader of a record goes through these
helpers so that one odd record yields "nothing here" instead of a crash."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# How CloudTrail writes dates inside responseElements: "Dec 2, 2026, 2:11:05 AM".
_RESPONSE_FORMATS = ("%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p")
_EPOCH_MILLIS = 100_000_000_000  # larger numbers are milliseconds, not seconds
# Lambda's event names carry the API version: CreateFunction20150331, AddPermission20150331v2.
_API_VERSION = re.compile(r"\d{8}(?:v\d+)?$")


def mapping(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


# C0 and C1 control characters: a record's values are the caller's to choose, and an
# escape sequence in a user agent or a user name would redraw a responder's terminal
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(value: str) -> str:
    """`value` with every control character (but tab and newline) shown as U+FFFD."""
    return _CONTROL.sub("\ufffd", value)


def text(value: Any) -> str:
    """A string field of a record, safe to print; anything else reads as empty."""
    return printable(value) if isinstance(value, str) else ""


def request(record: dict[str, Any]) -> dict[str, Any]:
    return mapping(record.get("requestParameters"))


def response(record: dict[str, Any]) -> dict[str, Any]:
    return mapping(record.get("responseElements"))


def identity(record: dict[str, Any]) -> dict[str, Any]:
    return mapping(record.get("userIdentity"))


def succeeded(record: dict[str, Any]) -> bool:
    """A call without errorCode; only those changed anything."""
    return not record.get("errorCode")


def event_name(record: dict[str, Any]) -> str:
    """The event name without Lambda's API version suffix."""
    return _API_VERSION.sub("", text(record.get("eventName")))


def signing_key(record: dict[str, Any]) -> str:
    return text(identity(record).get("accessKeyId"))


def caller_user_name(record: dict[str, Any]) -> str:
    """The IAM user that signed the call; "" for roles, root and services."""
    return text(identity(record).get("userName"))


def partition(record: dict[str, Any]) -> str:
    """aws, aws-cn or aws-us-gov, read from the caller's arn."""
    parts = text(identity(record).get("arn")).split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from any time format CloudTrail writes (ISO 8601 in
    eventTime, "Dec 2, 2026, 2:11:05 AM" or epoch numbers in responses); None when
    it cannot be read, since a bad date must not stop an investigation."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > _EPOCH_MILLIS else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        for layout in _RESPONSE_FORMATS:
            try:
                parsed = datetime.strptime(raw, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def event_time(record: dict[str, Any]) -> datetime | None:
    return parse_time(record.get("eventTime"))


def iso(moment: datetime) -> str:
    """The form every output uses: 2026-12-02T02:11:05Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
