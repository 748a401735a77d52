"""The tactics catalogue: which CloudTrail events tell what about an attacker's intent,
each with the public reference it comes from (Stratus Red Team, SigmaHQ's CloudTrail
rules, AWS's incident-response playbooks). The mapping is data (tactics.json) so that a
reviewer can check every line against its reference; the few cases where the event name
is not enough (a key created for another user, a parameter read with decryption, a
detector disabled) are named conditions here, and the file may use no other.

Permission probing is not in the file: it is a property of many events together (a burst
of denied calls), computed by `probing_bursts`."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from incident.investigate.model import Tactic
from incident.investigate.record_fields import (
    caller_user_name,
    event_name,
    event_time,
    mapping,
    request,
    signing_key,
    text,
)

SCHEMA = "irready.tactics/1"
DEFAULT_PATH = Path(__file__).with_name("tactics.json")
ALWAYS = "always"

Condition = Callable[[dict[str, Any], Collection[str]], bool]


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message names the file and the entry."""


def _always(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    return True


def _other_user(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    """A key or profile for a user other than the caller: a backdoor, not a rotation."""
    target = text(request(record).get("userName"))
    return bool(target) and target != caller_user_name(record)


def _with_decryption(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    return _is_true(request(record).get("withDecryption"))


def _disables(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    enable = request(record).get("enable")
    return enable is False or (isinstance(enable, str) and enable.lower() == "false")


def _trail_bucket(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    """Only the caller knows the trails' buckets (from the audit): a lifecycle rule on any
    other bucket is housekeeping, on the trail's it erases the evidence."""
    return text(request(record).get("bucketName")) in trail_buckets


_ADMIN_POLICIES = frozenset({"AdministratorAccess", "IAMFullAccess"})


def _admin_policy(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    arn = text(request(record).get("policyArn"))
    return ":iam::aws:policy/" in arn and arn.rsplit("/", 1)[-1] in _ADMIN_POLICIES


def _instance_profile(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    """An instance launched with a role: iam:PassRole turned into the role's rights."""
    return bool(request(record).get("iamInstanceProfile"))


_LARGE_COUNT = 10
_ACCELERATED = re.compile(r"^(?:p|g|dl|trn|inf)\d")  # GPU and ML families: mining


def _large_launch(record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
    parameters = request(record)
    items = mapping(parameters.get("instancesSet")).get("items")
    launches = items if isinstance(items, list) else []
    count = sum(_number(mapping(item).get("maxCount")) for item in launches)
    family = text(parameters.get("instanceType")).split(".", 1)[0]
    return count >= _LARGE_COUNT or bool(_ACCELERATED.match(family))


CONDITIONS: dict[str, Condition] = {
    ALWAYS: _always,
    "admin_policy": _admin_policy,
    "disables": _disables,
    "instance_profile": _instance_profile,
    "large_launch": _large_launch,
    "other_user": _other_user,
    "trail_bucket": _trail_bucket,
    "with_decryption": _with_decryption,
}


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _number(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    event_name: str
    event_source: str
    tactic: Tactic
    condition: str  # a key of CONDITIONS
    reference: str  # a public https page that documents the technique

    def applies(self, record: dict[str, Any], trail_buckets: Collection[str]) -> bool:
        return CONDITIONS[self.condition](record, trail_buckets)


class Catalogue:
    """The entries, indexed by (eventSource, eventName) for lookups per record."""

    def __init__(self, entries: Sequence[CatalogueEntry]) -> None:
        self.entries: tuple[CatalogueEntry, ...] = tuple(entries)
        index: dict[tuple[str, str], list[CatalogueEntry]] = defaultdict(list)
        for entry in self.entries:
            index[entry.event_source, entry.event_name].append(entry)
        self._index = {key: tuple(found) for key, found in index.items()}

    def _matching(self, record: dict[str, Any],
                  trail_buckets: Collection[str]) -> Iterator[CatalogueEntry]:
        key = (text(record.get("eventSource")), event_name(record))
        for entry in self._index.get(key, ()):
            if entry.applies(record, trail_buckets):
                yield entry

    def tactics_of(self, record: dict[str, Any],
                   trail_buckets: Collection[str] = ()) -> tuple[Tactic, ...]:
        """The record's tactics, sorted and unique; never PERMISSION_PROBING (see
        probing_bursts). A failed call carries its tactic too: the attempt is the intent."""
        return tuple(sorted({entry.tactic for entry in self._matching(record, trail_buckets)}))

    def reference(self, record: dict[str, Any],
                  trail_buckets: Collection[str] = ()) -> tuple[str, ...]:
        """The references behind the record's tactics, sorted and unique."""
        return tuple(sorted({entry.reference
                             for entry in self._matching(record, trail_buckets)}))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in `path` (the shipped tactics.json by default), read once."""
    return _load(Path(path or DEFAULT_PATH).resolve())


@cache
def _load(path: Path) -> Catalogue:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogueError(f"{path.name}: cannot be read ({error.strerror})") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CatalogueError(f"{path.name}: not valid JSON ({error})") from error
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise CatalogueError(f"{path.name}: not a tactics catalogue (schema {SCHEMA!r})")
    raw_entries = document.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise CatalogueError(f"{path.name}: 'entries' must be a non-empty list")
    entries = [_entry(path.name, number, raw) for number, raw in enumerate(raw_entries, 1)]
    seen: set[tuple[str, str, str]] = set()
    for number, entry in enumerate(entries, 1):
        key = (entry.event_source, entry.event_name, entry.condition)
        if key in seen:
            raise CatalogueError(f"{path.name}: entry {number}: {entry.event_source} "
                                 f"{entry.event_name} ({entry.condition}) is listed twice")
        seen.add(key)
    return Catalogue(entries)


_FIELDS = frozenset({"event", "source", "when", "tactic", "reference"})
_EVENT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def _entry(file: str, number: int, raw: Any) -> CatalogueEntry:
    where = f"{file}: entry {number}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: not an object")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    values: dict[str, str] = {}
    for name in sorted(_FIELDS):
        value = raw.get(name, ALWAYS if name == "when" else None)
        if not isinstance(value, str) or not value:
            raise CatalogueError(f"{where}: {name!r} must be a non-empty string")
        values[name] = value
    if not _EVENT_NAME.match(values["event"]):
        raise CatalogueError(f"{where}: {values['event']!r} is not an event name")
    if not values["source"].endswith(".amazonaws.com"):
        raise CatalogueError(f"{where}: {values['source']!r} is not an eventSource")
    if values["when"] not in CONDITIONS:
        raise CatalogueError(f"{where}: unknown condition {values['when']!r} "
                             f"(known: {', '.join(sorted(CONDITIONS))})")
    try:
        tactic = Tactic(values["tactic"])
    except ValueError:
        raise CatalogueError(f"{where}: unknown tactic {values['tactic']!r}") from None
    if tactic is Tactic.PERMISSION_PROBING:
        raise CatalogueError(f"{where}: permission_probing is computed, not listed")
    if not values["reference"].startswith("https://"):
        raise CatalogueError(f"{where}: the reference must be an https URL")
    return CatalogueEntry(values["event"], values["source"], tactic, values["when"],
                          values["reference"])


# The codes of a call refused for lack of permission (IAM, EC2's, S3's, KMS's, ...).
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                          "Client.UnauthorizedOperation", "UnauthorizedAccess",
                          "AuthorizationError", "Forbidden"})


def is_denied(record: dict[str, Any]) -> bool:
    code = text(record.get("errorCode"))
    return bool(code) and (code in DENIED_CODES or "AccessDenied" in code
                           or "Unauthorized" in code)


def probing_bursts(records: Sequence[dict[str, Any]], *, threshold: int = 5,
                   window: timedelta = timedelta(minutes=5)) -> set[str]:
    """The eventIDs of the denied calls that belong to a burst: `threshold` or more
    denied calls signed by one key within `window` (calls signed without a key, by
    services or the console, are nobody's burst). A leaked key's new owner learns its
    rights by trying; one denial is noise, a burst is probing."""
    per_key: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for record in records:
        moment, event_id, key = event_time(record), text(record.get("eventID")), \
            signing_key(record)
        if is_denied(record) and moment is not None and event_id and key:
            per_key[key].append((moment, event_id))
    burst: set[str] = set()
    for calls in per_key.values():
        calls.sort()
        first = 0
        marked = 0  # calls before this index are already in the burst
        for last in range(len(calls)):
            while calls[last][0] - calls[first][0] > window:
                first += 1
            if last - first + 1 >= threshold:
                start = max(first, marked)
                burst.update(event_id for _, event_id in calls[start:last + 1])
                marked = last + 1
    return burst
