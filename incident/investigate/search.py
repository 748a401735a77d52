"""The search: every record that names the leaked key, then every record that names a
credential the key minted (a session's ASIA... key, a key created for another user),
recursively, as AWS's playbooks ask. Each pass reads only the files that can hold what
it looks for: the first every file of the window, a minted key's only the files
delivered after its minting.

A session assumed into another account is logged in that account: it is followed when
the logs hold that account's folder (an organization trail), otherwise it is named and
the search is incomplete."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from incident.investigate.logfiles.layout import LogFile, LogSourceError, LogStore, Problem
from incident.investigate.logfiles.scan import records_after, scan
from incident.investigate.minted import Minted, minted_by
from incident.investigate.model import Credential, CredentialKind, SourceReport
from incident.investigate.record_fields import event_time, signing_key

Progress = Callable[[str, int, int], None]  # (what, files done, files in this pass)


@dataclass
class _SourceState:
    store: LogStore
    listed: dict[str | None, tuple[LogFile, ...]] = field(default_factory=dict)
    accounts: frozenset[str] = frozenset()
    seen: set[str] = field(default_factory=set)  # files already counted
    files_read: int = 0
    records_scanned: int = 0
    problems: list[Problem] = field(default_factory=list)
    failed: str = ""  # why the source could not be read at all

    def report(self) -> SourceReport:
        notes = tuple(f"{p.location}: {p.reason}" for p in self.problems)
        if self.failed:
            notes = (self.failed, *notes)
        return SourceReport(self.store.kind, self.store.location, self.files_read,
                            self.records_scanned, not self.failed and not self.problems,
                            notes)


@dataclass(frozen=True, slots=True)
class Found:
    records: tuple[dict[str, Any], ...]  # every record naming a credential of the chain
    credentials: tuple[Credential, ...]  # the leaked key first, then in minting order
    sources: tuple[SourceReport, ...]
    unfollowed: tuple[str, ...]  # why a credential's calls could not be searched

    @property
    def unreadable(self) -> bool:
        """Nothing could be read: every source failed, or every file it listed did."""
        return all(s.notes and not s.files for s in self.sources)


def search(stores: Sequence[LogStore], key_id: str, account_id: str | None,
           first_day: date, last_day: date, window_start: datetime, window_end: datetime,
           *, workers: int | None = None, progress: Progress | None = None) -> Found:
    """Search `stores` for `key_id` and whatever it minted within the window."""
    states = [_SourceState(store) for store in stores]
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
        found = _one_pass(states, keys, account, since, first_day, last_day, workers,
                          progress)
        minted: list[Minted] = []
        for record in found:
            event_id = str(record.get("eventID") or id(record))
            if event_id in records:
                continue
            records[event_id] = record
            signer = signing_key(record)
            if signer not in chain or not _within(record, window_start, window_end):
                continue
            new = minted_by(record)
            if new is not None and new.access_key_id not in chain:
                minted.append(new)
                chain[new.access_key_id] = Credential(
                    new.access_key_id, new.kind, signer, new.event_id, new.expires,
                    new.account_id or account or "", new.principal_arn, new.minted_at)
        for group_account, group in _by_account(minted, account).items():
            since_when = min(m.minted_at for m in group)
            keys_of = tuple(m.access_key_id for m in group)
            if group_account == account or any(group_account in s.accounts for s in states):
                pending.append((keys_of, group_account, since_when))
            else:
                unfollowed.extend(
                    f"{m.access_key_id} ({m.principal_arn or 'a session'}) acts in account "
                    f"{group_account}, whose logs these sources do not hold: its calls "
                    "were not searched" for m in group)
    return Found(tuple(sorted(records.values(), key=_time_of)), tuple(chain.values()),
                 tuple(state.report() for state in states), tuple(unfollowed))


def _one_pass(states: list[_SourceState], keys: tuple[str, ...], account: str | None,
              since: datetime | None, first_day: date, last_day: date,
              workers: int | None, progress: Progress | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for state in states:
        if state.failed:
            continue
        files = _files(state, account, first_day, last_day)
        if files is None:
            continue
        if since is not None:
            files = records_after(files, since)
        what = f"{state.store.location}: {', '.join(keys)}"
        report = None if progress is None else (
            lambda done, total, what=what: progress(what, done, total))
        result = scan(state.store, files, keys, workers=workers, progress=report)
        unseen = [file for file in files if file.location not in state.seen]
        state.seen.update(file.location for file in unseen)
        if len(unseen) == len(files):  # counted once, on a file's first read
            state.records_scanned += result.records_scanned
            state.files_read += result.files_read
        state.problems.extend(p for p in result.problems if p not in state.problems)
        found.extend(result.records)
    return found


def _files(state: _SourceState, account: str | None, first_day: date, last_day: date
           ) -> tuple[LogFile, ...] | None:
    """The files of `account` in the day range (listed once per source and account)."""
    if account in state.listed:
        return state.listed[account]
    try:
        listing = state.store.list_files(None if account is None else (account,),
                                         first_day, last_day)
    except LogSourceError as exc:
        state.failed = str(exc)
        return None
    state.accounts = state.accounts | listing.accounts
    state.problems.extend(p for p in listing.problems if p not in state.problems)
    state.listed[account] = listing.files
    if account is not None and account not in listing.accounts and not listing.files:
        state.problems.append(Problem(state.store.location,
                                      f"no log folder for account {account}"))
    return listing.files


def _by_account(minted: list[Minted], default: str | None) -> dict[str | None, list[Minted]]:
    groups: dict[str | None, list[Minted]] = {}
    for item in minted:
        groups.setdefault(item.account_id or default, []).append(item)
    return groups


def _time_of(record: dict[str, Any]) -> str:
    return str(record.get("eventTime") or "")


def _within(record: dict[str, Any], start: datetime, end: datetime) -> bool:
    moment = event_time(record)
    return moment is not None and start <= moment <= end
