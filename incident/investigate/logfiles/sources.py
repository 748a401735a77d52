"""Where a trail's log files are listed and read: its S3 bucket, or a copy on disk. Both
walk the same layout through one listing (`_list_layout`), which asks a source only for
the folders and files of one folder: so S3 lists the window's day folders and nothing
else, and a folder that cannot be listed is a Problem in both, never a silent gap."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from incident.investigate.logfiles.layout import (
    LOGS_FOLDER,
    TRAIL_FOLDER,
    Listing,
    LogFile,
    LogReadError,
    LogSourceError,
    Problem,
    delivered_of,
    is_account,
    is_log_name,
    is_organization,
    os_reason,
)

ROOT_SEARCH_DEPTH = 3  # how far below a local root an `AWSLogs` folder is looked for


class _Unreadable(Exception):
    """A folder could not be listed; the message is the Problem's reason."""


class _Folders(Protocol):
    """One source's view of the layout below its `AWSLogs` folder; `rel` is a
    "/"-joined path below it ("" for `AWSLogs` itself)."""

    def subfolders(self, rel: str) -> list[str]: ...  # raises _Unreadable

    def files(self, rel: str) -> list[tuple[str, int]]: ...  # (name, size); raises _Unreadable

    def where(self, rel: str) -> str: ...  # the folder as a Problem names it

    def location(self, rel: str, name: str) -> str: ...  # a LogFile's location


def _days(first_day: date, last_day: date) -> Iterator[date]:
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def _list_layout(folders: _Folders, accounts: Collection[str] | None, first_day: date,
                 last_day: date) -> Listing:
    """Accounts (plain and organization layouts), then each wanted account's regions,
    then only the day folders first_day..last_day of each region."""
    try:
        top = folders.subfolders("")
    except _Unreadable as error:
        raise LogSourceError(f"cannot list {folders.where('')}: {error}") from None
    problems: list[Problem] = []
    account_folders: list[tuple[str, str]] = []  # (account id, rel of its folder)
    for name in sorted(top):
        if is_account(name):
            account_folders.append((name, name))
        elif is_organization(name):
            try:
                members = folders.subfolders(name)
            except _Unreadable as error:
                problems.append(Problem(folders.where(name), str(error)))
                continue
            account_folders += [(member, f"{name}/{member}")
                                for member in sorted(members) if is_account(member)]
    files: list[LogFile] = []
    regions: dict[str, set[str]] = {}
    for account, rel in account_folders:
        if accounts is not None and account not in accounts:
            continue
        trail = f"{rel}/{TRAIL_FOLDER}"
        try:
            found = sorted(folders.subfolders(trail))
        except _Unreadable as error:
            problems.append(Problem(folders.where(trail), str(error)))
            continue
        regions.setdefault(account, set()).update(found)
        for region in found:
            for day in _days(first_day, last_day):
                folder = f"{trail}/{region}/{day:%Y/%m/%d}"
                try:
                    entries = folders.files(folder)
                except _Unreadable as error:
                    problems.append(Problem(folders.where(folder), str(error)))
                    continue
                for name, size in sorted(entries):
                    location = folders.location(folder, name)
                    if is_log_name(name):
                        files.append(LogFile(location, account, region, day,
                                             delivered_of(name), size))
                    else:
                        problems.append(Problem(folders.where(f"{folder}/{name}"),
                                                "not a log file"))
    return Listing(files=tuple(files), problems=tuple(problems),
                   accounts=frozenset(account for account, _ in account_folders),
                   regions={account: tuple(sorted(names)) for account, names in regions.items()})


def _client_errors() -> tuple[type[Exception], type[Exception]]:
    from botocore.exceptions import BotoCoreError, ClientError  # boto3 loads on use only

    return ClientError, BotoCoreError


def s3_reason(error: Exception, action: str) -> str:
    """One line for a failed S3 call: the denied permission named (kms:Decrypt for a
    KMS-encrypted object), a vanished object said so, anything else its code."""
    client_error, _ = _client_errors()
    if not isinstance(error, client_error):
        return f"{type(error).__name__}: {error}"
    details: dict[str, Any] = getattr(error, "response", {}).get("Error", {})
    code = str(details.get("Code", "")) or "Error"
    message = str(details.get("Message", ""))
    if code.startswith("KMS.") or "kms" in message.lower():
        return f"{code}: kms:Decrypt denied for the object's KMS key"
    if code in ("AccessDenied", "403", "AllAccessDisabled", "AccessDeniedException"):
        return f"AccessDenied: {action} denied"
    if code in ("NoSuchKey", "404"):
        return "vanished: NoSuchKey (deleted after it was listed)"
    return f"{code}: {message}" if message else code


class _S3Folders:
    def __init__(self, client: Any, bucket: str, base: str) -> None:
        self.client, self.bucket, self.base = client, bucket, base

    def _prefix(self, rel: str) -> str:
        return f"{self.base}{rel}/" if rel else self.base

    def _pages(self, rel: str, **extra: Any) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            yield from paginator.paginate(Bucket=self.bucket, Prefix=self._prefix(rel), **extra)
        except _client_errors() as error:
            raise _Unreadable(s3_reason(error, "s3:ListBucket")) from None

    def subfolders(self, rel: str) -> list[str]:
        prefix = self._prefix(rel)
        return [common["Prefix"][len(prefix):].rstrip("/")
                for page in self._pages(rel, Delimiter="/")
                for common in page.get("CommonPrefixes", ())]

    def files(self, rel: str) -> list[tuple[str, int]]:
        prefix = self._prefix(rel)
        return [(item["Key"][len(prefix):], int(item["Size"]))
                for page in self._pages(rel, Delimiter="/")
                for item in page.get("Contents", ())
                if item["Key"] != prefix]

    def where(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.base}{rel}"

    def location(self, rel: str, name: str) -> str:
        return f"{self._prefix(rel)}{name}"


class S3Logs:
    """A trail's bucket: `prefix` is the trail's S3 key prefix, with or without "/"."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket.removeprefix("s3://").strip("/")
        self.prefix = prefix.strip("/")
        self.location = f"s3://{self.bucket}/{self.prefix}" if self.prefix \
            else f"s3://{self.bucket}"
        base = f"{self.prefix}/{LOGS_FOLDER}/" if self.prefix else f"{LOGS_FOLDER}/"
        self._folders = _S3Folders(client, self.bucket, base)

    def list_files(self, accounts: Collection[str] | None, first_day: date,
                   last_day: date) -> Listing:
        return _list_layout(self._folders, accounts, first_day, last_day)

    def read(self, file: LogFile) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket,
                                                 Key=file.location)["Body"].read()
        except _client_errors() as error:
            raise LogReadError(s3_reason(error, "s3:GetObject")) from None
        return body


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A looping or broken link is no folder (DirEntry.is_dir raises on a loop)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


class _LocalFolders:
    def __init__(self, root: Path, base: Path) -> None:
        self.root, self.base = root, base

    def _path(self, rel: str) -> Path:
        return self.base.joinpath(*rel.split("/")) if rel else self.base

    def _entries(self, rel: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self._path(rel)) as entries:
                return list(entries)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise _Unreadable(os_reason(error)) from None

    def subfolders(self, rel: str) -> list[str]:
        return [entry.name for entry in self._entries(rel) if _is_dir(entry)]

    def files(self, rel: str) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for entry in self._entries(rel):
            if _is_dir(entry):
                continue
            try:
                size = entry.stat().st_size
            except OSError:
                size = 0  # a broken or looping link: reading it names the problem
            found.append((entry.name, size))
        return found

    def where(self, rel: str) -> str:
        return str(self._path(rel))

    def location(self, rel: str, name: str) -> str:
        return (self._path(rel) / name).relative_to(self.root).as_posix()


def find_logs_folder(root: Path) -> Path:
    """`root` itself if it is the AWSLogs folder, else the first AWSLogs folder at most
    ROOT_SEARCH_DEPTH levels down (a bucket copy keeps the trail's prefix above it)."""
    if root.name == LOGS_FOLDER and root.is_dir():
        return root
    level = [root]
    for _ in range(ROOT_SEARCH_DEPTH + 1):
        below: list[Path] = []
        for folder in level:
            try:
                with os.scandir(folder) as entries:
                    names = sorted(entry.name for entry in entries if _is_dir(entry))
            except OSError as error:
                if folder == root:
                    raise LogSourceError(f"cannot read {root}: {os_reason(error)}") from None
                continue
            if LOGS_FOLDER in names:
                return folder / LOGS_FOLDER
            below += [folder / name for name in names]
        level = below
    raise LogSourceError(f"no {LOGS_FOLDER} folder in {root} "
                         f"(looked {ROOT_SEARCH_DEPTH} levels down)")


class LocalLogs:
    """A copy of a trail's files on disk (`aws s3 sync` of the bucket, or an export)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(root)

    def list_files(self, accounts: Collection[str] | None, first_day: date,
                   last_day: date) -> Listing:
        folders = _LocalFolders(self.root, find_logs_folder(self.root))
        return _list_layout(folders, accounts, first_day, last_day)

    def path_of(self, file: LogFile) -> Path:
        return self.root / file.location

    def read(self, file: LogFile) -> bytes:
        try:
            return self.path_of(file).read_bytes()
        except OSError as error:
            raise LogReadError(os_reason(error)) from None
