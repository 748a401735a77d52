"""The search: every record that names the leaked key, then every record that names a
credential the key minted (a session's ASIA... key, a key created for another user),
recursively, as AWS's playbooks ask. Each pass reads only the files that can hold what
it looks for: the first every file of the window, a minted key's only the files
delivered after its minting.

A session assumed into another account is logged in that account: it is followed when
the logs hold that account's folder (an organization trail), otherwise it is named and
the search is incomplete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident.investigate.keyids import KEY_ID
from incident.investigate.minted import Minted, minted_by
from incident.investigate.model import Credential, CredentialKind, SourceReport
from incident.investigate.record_fields import event_time, signing_key
from incident.investigate.record_source import Progress, RecordSource


@dataclass(frozen=True, slots=True)
class Found:
    records: tuple[dict[str, Any], ...]  # every record naming a credential of the chain
    credentials: tuple[Credential, ...]  # the leaked key first, then in minting order
    sources: tuple[SourceReport, ...]
    unfollowed: tuple[str, ...]  # why a credential's calls could not be searched
    unreadable: bool  # no source answered anything: not even "nothing here"


def search(sources: Sequence[RecordSource], key_id: str, account_id: str | None,
           window_start: datetime, window_end: datetime, *,
           baseline_start: datetime | None = None,
           progress: Progress | None = None) -> Found:
    """Search `sources` for `key_id` and whatever it minted within the window."""
    leaked = Credential(key_id, CredentialKind.LEAKED, "", "", None, account_id or "", "")
    chain: dict[str, Credential] = {key_id: leaked}
    records: dict[str, dict[str, Any]] = {}
    unfollowed: list[str] = []
    # each pass: the keys to look for, the account whose folders hold their calls, and
    # the moment from which files can hold them (None: every file)
    pending: list[tuple[tuple[str, ...], str | None, datetime | None]] = [
        ((key_id,), account_id, None)]
    while pending:
        keys, account, since = pending.pop(0)
        found = [record for source in sources
                 for record in source.find(keys, account, since, progress)]
        stopped = any(source.interrupted for source in sources)
        minted: list[Minted] = []
        # in time order: a key is minted before it signs anything; a record already seen
        # (it named an earlier key) is looked at again now that its signer may be known
        for record in sorted(found, key=_time_of):
            records.setdefault(str(record.get("eventID") or id(record)), record)
            signer = signing_key(record)
            new = minted_by(record) if signer in chain else None
            if new is None or new.access_key_id in chain or not KEY_ID.fullmatch(
                    new.access_key_id) or not _still_counts(record, new, window_start,
                                                           window_end, baseline_start):
                continue
            minted.append(new)
            chain[new.access_key_id] = Credential(
                new.access_key_id, new.kind, signer, new.event_id, new.expires,
                new.account_id or account or "", new.principal_arn, new.minted_at)
        if stopped:
            left = [key for later, *_ in pending for key in later]
            left += [m.access_key_id for m in minted]
            unfollowed.append("interrupted (Ctrl-C): the search stopped with what it had "
                              "found" + (f"; not searched: {', '.join(left)}" if left else ""))
            break
        for group_account, group in _by_account(minted, account).items():
            since_when = min(m.minted_at for m in group)
            keys_of = tuple(m.access_key_id for m in group)
            if group_account == account or any(s.holds(group_account) for s in sources
                                               if group_account is not None):
                pending.append((keys_of, group_account, since_when))
            else:
                unfollowed.extend(
                    f"{m.access_key_id} ({m.principal_arn or 'a session'}) acts in account "
                    f"{group_account}, whose logs these sources do not hold: its calls "
                    "were not searched" for m in group)
    return Found(tuple(sorted(records.values(), key=_time_of)), tuple(chain.values()),
                 tuple(source.report() for source in sources), tuple(unfollowed),
                 not any(source.answered for source in sources))


def _by_account(minted: list[Minted], default: str | None) -> dict[str | None, list[Minted]]:
    groups: dict[str | None, list[Minted]] = {}
    for item in minted:
        groups.setdefault(item.account_id or default, []).append(item)
    return groups


def _time_of(record: dict[str, Any]) -> str:
    return str(record.get("eventTime") or "")


def _still_counts(record: dict[str, Any], new: Minted, window_start: datetime,
                  window_end: datetime, baseline_start: datetime | None) -> bool:
    """Whether a credential minted by `record` can act in the window: minted in it, or
    before it (in the baseline) as a key, which lasts, or as a session still valid when
    the window starts. An application's hourly sessions of last week are not followed."""
    if _within(record, window_start, window_end):
        return True
    if baseline_start is None or not _within(record, baseline_start, window_start):
        return False
    return new.kind is CredentialKind.CREATED or (
        new.expires is not None and new.expires > window_start)


def _within(record: dict[str, Any], start: datetime, end: datetime) -> bool:
    moment = event_time(record)
    return moment is not None and start <= moment <= end
