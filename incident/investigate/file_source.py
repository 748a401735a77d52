"""The trail's log files as a source of records: listed once per account over the
window's days (and the day after), each pass reading only the files that can hold what
it looks for, every file and folder that could not be read kept for the report.

A pass reads its files in delivery order and, as soon as it meets a call of the chain
that minted a credential, searches the later files for that credential too: the pass
that follows the credential then reads only the few files that went by before (decom-
pression is the search's whole cost, so a second full pass would double it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from incident.investigate.keyids import KEY_ID
from incident.investigate.logfiles.layout import LogFile, LogSourceError, LogStore, Problem
from incident.investigate.logfiles.scan import SLOT, records_after, scan
from incident.investigate.minted import minted_by
from incident.investigate.model import SourceReport
from incident.investigate.record_fields import printable, signing_key
from incident.investigate.record_source import Progress

# credentials searched for ahead of their pass: each one adds a needle to every piece
# of every later file, so a chain that mints hundreds falls back to plain passes
MOST_AHEAD = 32


@dataclass
class FileSource:
    store: LogStore
    first_day: date
    last_day: date
    workers: int | None = None
    listed: dict[str | None, tuple[LogFile, ...]] = field(default_factory=dict)
    accounts: frozenset[str] = frozenset()
    seen: set[str] = field(default_factory=set)  # files already counted
    files_read: int = 0
    records_scanned: int = 0
    problems: list[Problem] = field(default_factory=list)
    failed: str = ""  # why the source could not be read at all
    listed_bytes: int = 0  # the size of every file listed: what a search downloads
    # per file read: the key ids it was searched for, and the records that named them
    searched_for: dict[str, frozenset[str]] = field(default_factory=dict)
    matched: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    minted_at: dict[str, datetime] = field(default_factory=dict)  # of keys met while reading

    @property
    def kind(self) -> str:
        return self.store.kind

    @property
    def location(self) -> str:
        return self.store.location

    @property
    def interrupted(self) -> bool:
        return False  # a scan stops the whole command on Ctrl-C: files are read fast

    @property
    def answered(self) -> bool:
        """Some file was read, or the listing found none and failed nowhere."""
        return self.files_read > 0 or (not self.failed and not self.problems)

    def holds(self, account: str) -> bool:
        return account in self.accounts

    def find(self, keys: tuple[str, ...], account: str | None, since: datetime | None,
             progress: Progress | None) -> list[dict[str, Any]]:
        if self.failed:
            return []
        files = self._files(account)
        if files is None:
            return []
        if since is not None:
            files = records_after(files, since)
        # a file an earlier pass already searched for these keys is not read again, nor
        # one delivered before a key it did not search for was minted
        todo = sorted((file for file in files if self._unsearched(file, keys)),
                      key=_delivery_order)
        what = f"{self.location}: {', '.join(keys)}"
        report = None if progress is None else (
            lambda done, total: progress(what, done, total))
        result = scan(self.store, todo, keys, workers=self.workers, progress=report,
                      widen=_minted_ahead(len(keys), self.minted_at))
        unseen = [file for file in todo if file.location not in self.seen]
        self.seen.update(file.location for file in unseen)
        if todo and len(unseen) == len(todo):  # counted once, on a file's first read
            self.records_scanned += result.records_scanned
            self.files_read += result.files_read
        self.problems.extend(p for p in result.problems if p not in self.problems)
        shared: dict[tuple[frozenset[str], tuple[str, ...]], frozenset[str]] = {}
        for file, used in zip(todo, result.needles_used, strict=True):
            if used:  # one set object per distinct value, not one per file
                before = self.searched_for.get(file.location, frozenset())
                after = shared.setdefault((before, used), before | frozenset(used))
                self.searched_for[file.location] = after
        for index, records in result.by_file:
            known = self.matched.setdefault(todo[index].location, {})
            for record in records:
                known.setdefault(_identity(record), record)
        # in the order of the listing, each file's records as the file holds them
        return [record for file in files
                for record in self.matched.get(file.location, {}).values()
                if _names_any(record, keys)]

    def _unsearched(self, file: LogFile, keys: tuple[str, ...]) -> bool:
        done = self.searched_for.get(file.location, frozenset())
        for key in keys:
            if key in done:
                continue
            minted = self.minted_at.get(key)
            if minted is None or file.delivered is None or file.delivered >= minted - SLOT:
                return True
        return False

    def prepare(self, account: str | None) -> str:
        """List the account's files now; why they cannot be listed, or ""."""
        return self.failed if self._files(account) is None else ""

    def report(self) -> SourceReport:
        # a planted object's key is the attacker's to choose: printed safely
        notes = tuple(printable(f"{p.location}: {p.reason}") for p in self.problems)
        if self.failed:
            notes = (self.failed, *notes)
        return SourceReport(self.kind, self.location, self.files_read, self.records_scanned,
                            not self.failed and not self.problems, notes)

    def _files(self, account: str | None) -> tuple[LogFile, ...] | None:
        """The files of `account` in the day range (listed once per account)."""
        if account in self.listed:
            return self.listed[account]
        try:
            listing = self.store.list_files(None if account is None else (account,),
                                            self.first_day, self.last_day)
        except LogSourceError as exc:
            self.failed = str(exc)
            return None
        self.accounts = self.accounts | listing.accounts
        self.problems.extend(p for p in listing.problems if p not in self.problems)
        self.listed[account] = listing.files
        self.listed_bytes += sum(file.size for file in listing.files)
        if account is not None and account not in listing.accounts and not listing.files:
            self.problems.append(Problem(self.location, f"no log folder for account {account}"))
        return listing.files


def _delivery_order(file: LogFile) -> tuple[bool, datetime | None, str]:
    return (file.delivered is not None, file.delivered, file.location)


def _minted_ahead(asked: int, minted_at: dict[str, datetime]
                  ) -> Callable[[dict[str, Any], frozenset[str]], tuple[str, ...]]:
    """The credential a matching record minted, when the record is a call of a key being
    searched for: the same test the search applies before it follows one, except the
    window, so a credential searched for ahead may never be followed (its records then
    stay unused). Its minting time is kept: no file delivered before it can hold it."""
    def widen(record: dict[str, Any], needles: frozenset[str]) -> tuple[str, ...]:
        if len(needles) - asked >= MOST_AHEAD or signing_key(record) not in needles:
            return ()
        new = minted_by(record)
        if new is None or not KEY_ID.fullmatch(new.access_key_id):
            return ()
        earlier = minted_at.get(new.access_key_id)
        minted_at[new.access_key_id] = min(new.minted_at, earlier or new.minted_at)
        return (new.access_key_id,)
    return widen


def _identity(record: dict[str, Any]) -> str:
    return str(record.get("eventID") or json.dumps(record, sort_keys=True))


def _names_any(record: dict[str, Any], keys: tuple[str, ...]) -> bool:
    text = json.dumps(record)
    return any(key in text for key in keys)
