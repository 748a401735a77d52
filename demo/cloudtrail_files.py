"""CloudTrail log files as the service delivers them: the key layout, the file name and
the gzip body, written to S3 or a directory. The tests of `irready investigate`, the demo
and the benchmark all read files written here, so the reader is tested against the
layout it meets in a real trail's bucket, including an event whose 5-minute slot ends
after midnight and so lands in the next day's folder."""

from __future__ import annotations

import gzip
import json
import secrets
import string
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_ALNUM = string.ascii_letters + string.digits


def log_name(account: str, region: str, delivered: datetime) -> str:
    """`<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 random alnum>.json.gz`."""
    tail = "".join(secrets.choice(_ALNUM) for _ in range(16))
    return f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{tail}.json.gz"


def log_key(account: str, region: str, delivered: datetime, *, prefix: str = "",
            org_id: str = "") -> str:
    """The object key of a file delivered at `delivered` (UTC); an organization trail
    puts the organization id between `AWSLogs/` and the account."""
    delivered = delivered.astimezone(UTC)
    parts = [prefix.strip("/")] if prefix.strip("/") else []
    parts.append("AWSLogs")
    if org_id:
        parts.append(org_id)
    parts += [account, "CloudTrail", region, f"{delivered:%Y/%m/%d}",
              log_name(account, region, delivered)]
    return "/".join(parts)


def log_body(records: Sequence[dict[str, Any]], *, level: int = 6) -> bytes:
    return gzip.compress(json.dumps({"Records": list(records)}, separators=(",", ":"))
                         .encode(), compresslevel=level)


def write_to_s3(s3_client: Any, bucket: str, key: str,
                records: Sequence[dict[str, Any]]) -> None:
    s3_client.put_object(Bucket=bucket, Key=key, Body=log_body(records))


def write_to_dir(root: Path, key: str, records: Sequence[dict[str, Any]]) -> Path:
    """Writes the file at `root/key` (the key's folders created) and returns its path."""
    path = root.joinpath(*key.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(log_body(records))
    return path


def _event_time(record: dict[str, Any]) -> datetime:
    return datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def group_into_files(records: Iterable[dict[str, Any]], *, every: timedelta = timedelta(minutes=5)
                     ) -> Iterator[tuple[str, str, datetime, list[dict[str, Any]]]]:
    """(account, region, delivered, records) per file, as CloudTrail batches them: one
    file per account, region and slot of `every`, delivered at the slot's end (so an
    event at 23:58 is in the next day's folder)."""
    slot = int(every.total_seconds())
    groups: dict[tuple[str, str, datetime], list[dict[str, Any]]] = {}
    for record in records:
        seconds = int(_event_time(record).timestamp())
        delivered = datetime.fromtimestamp(seconds - seconds % slot + slot, UTC)
        groups.setdefault((record["recipientAccountId"], record["awsRegion"], delivered),
                          []).append(record)
    for (account, region, delivered), batch in sorted(groups.items(), key=lambda g: g[0]):
        yield account, region, delivered, batch
