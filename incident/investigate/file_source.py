"""The trail's log files as a source of records: listed once per account over the
window's days (and the day after), each pass reading only the files that can hold what
it looks for, every file and folder that could not be read kept for the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from incident.investigate.logfiles.layout import LogFile, LogSourceError, LogStore, Problem
from incident.investigate.logfiles.scan import records_after, scan
from incident.investigate.model import SourceReport
from incident.investigate.record_fields import printable
from incident.investigate.record_source import Progress


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
        what = f"{self.location}: {', '.join(keys)}"
        report = None if progress is None else (
            lambda done, total: progress(what, done, total))
        result = scan(self.store, files, keys, workers=self.workers, progress=report)
        unseen = [file for file in files if file.location not in self.seen]
        self.seen.update(file.location for file in unseen)
        if len(unseen) == len(files):  # counted once, on a file's first read
            self.records_scanned += result.records_scanned
            self.files_read += result.files_read
        self.problems.extend(p for p in result.problems if p not in self.problems)
        return list(result.records)

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
