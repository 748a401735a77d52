"""Where the logs are, as a responder names them with --source: `auto` (the default:
the trail's files when readable, else event history, Athena for what is too large to
download), `s3` (the trails the latest audit found), `s3://BUCKET[/PREFIX]` (a bucket
named outright: no audit needed), `local:DIR` (a forensic copy or an export in the same
layout, read with no AWS access at all), `lookup` (CloudTrail's 90-day event history) or
`athena` (the table the latest audit found). Every value is checked before anything is
read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from auditor.errors import UsageError

BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
USAGE = "use auto, s3, s3://BUCKET[/PREFIX], local:DIR, lookup or athena"


class SourceKind(StrEnum):
    AUTO = "auto"
    S3 = "s3"
    LOCAL = "local"
    LOOKUP = "lookup"
    ATHENA = "athena"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    bucket: str = ""  # empty with kind s3: the trails the latest audit found
    prefix: str = ""
    path: Path | None = None

    @property
    def needs_aws(self) -> bool:
        return self.kind is not SourceKind.LOCAL


def parse_source(text: str) -> SourceSpec:
    value = text.strip()
    if value in (SourceKind.AUTO, SourceKind.S3, SourceKind.LOOKUP, SourceKind.ATHENA):
        return SourceSpec(SourceKind(value))
    if value.startswith("s3://"):
        bucket, _, prefix = value.removeprefix("s3://").partition("/")
        if not BUCKET.fullmatch(bucket) or ".." in bucket:
            raise UsageError(f"--source {value}: {bucket!r} is not an S3 bucket name")
        return SourceSpec(SourceKind.S3, bucket, prefix.strip("/"))
    if value.startswith("local:"):
        folder = Path(value.removeprefix("local:")).expanduser()
        if not str(folder) or value == "local:":
            raise UsageError("--source local: needs a folder, as in local:./cloudtrail-copy")
        try:
            is_dir = folder.is_dir()
        except OSError as exc:
            raise UsageError(f"--source {value}: {exc.strerror or exc}") from None
        if not is_dir:
            why = "is not a folder" if folder.exists() else "does not exist"
            raise UsageError(f"--source {value}: {folder} {why}")
        return SourceSpec(SourceKind.LOCAL, path=folder)
    raise UsageError(f"--source: unknown source {value!r}: {USAGE}")


def parse_sources(values: list[str] | None) -> tuple[SourceSpec, ...]:
    """The sources named, without repeats; none named: auto."""
    specs: list[SourceSpec] = []
    for value in values or ["auto"]:
        spec = parse_source(value)
        if spec not in specs:
            specs.append(spec)
    return tuple(specs)
