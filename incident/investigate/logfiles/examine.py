"""What one log file holds for a search: its records that name any of some key ids,
found while it is decompressed a cache-sized piece at a time (most files name none and
are never parsed), its record count, or why it is not a log file at all.

This module imports only the standard library, so that the worker processes that run
it start quickly."""

from __future__ import annotations

import json
import zlib
from typing import Any

PIECE = 32 << 10  # decompressed bytes searched at a time: they stay in the CPU's cache
RECORD_MARK = b'"eventVersion"'  # once per record: counts records without parsing
RECORD_START = b'{"eventVersion"'
MARK_TAIL = len(RECORD_MARK) - 1

# (matching records, records in the file, the problem's reason or "")
Outcome = tuple[list[dict[str, Any]], int, str]


class _NotALog(Exception):
    """The file's content is not a trail's log; the message is the Problem's reason."""


def _gunzip(data: bytes) -> bytes:
    """Every member of a gzip stream (concatenated files are valid gzip)."""
    if not data:
        raise _NotALog("empty file")
    parts: list[bytes] = []
    while data:
        inflater = zlib.decompressobj(31)
        try:
            parts.append(inflater.decompress(data))
        except zlib.error as error:
            raise _NotALog(f"corrupt gzip: {error}") from None
        if not inflater.eof:
            raise _NotALog("truncated gzip")
        data = inflater.unused_data
        if not data.strip(b"\0"):  # some writers pad the last member
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _no_records(text: bytes) -> str:
    if b'"digestStartTime"' in text or b'"logFiles"' in text:
        return "no Records: a CloudTrail digest file"
    return "no Records: not a CloudTrail log file"


def _last(before: bytes, piece: bytes, size: int) -> bytes:
    """The last `size` bytes of before + piece, without copying the piece."""
    if size <= 0:
        return b""
    return piece[-size:] if len(piece) >= size else (before + piece)[-size:]


def _survey(data: bytes, needles: tuple[bytes, ...], piece_size: int
            ) -> tuple[bool, int, bytes, bytes, bool]:
    """One pass over the decompressed text in cache-sized pieces, never whole (a piece
    is searched while it is still in the CPU's cache, which makes the search nearly
    free): whether a needle occurs, the record count, the text's first and last bytes,
    and whether `"Records"` occurs."""
    found = has_records = False
    count = 0
    head = b""
    counted = overlap = b""  # the previous piece's last bytes: matches across pieces
    keep = max((len(needle) for needle in needles), default=1) - 1
    while data:
        inflater = zlib.decompressobj(31)
        pending = data
        while True:
            try:
                piece = inflater.decompress(pending, piece_size)
            except zlib.error as error:
                raise _NotALog(f"corrupt gzip: {error}") from None
            pending = inflater.unconsumed_tail
            if piece:
                if len(head) < 64:
                    head += piece[:64]
                # a match across two pieces lies in their junction, one inside a piece
                # in the piece: concatenating whole pieces would copy every byte again
                junction = counted + piece[:MARK_TAIL]
                count += piece.count(RECORD_MARK) + junction.count(RECORD_MARK)
                if not has_records:
                    has_records = b'"Records"' in piece or b'"Records"' in junction
                counted = _last(counted, piece, MARK_TAIL)
                if not found:
                    found = any(needle in piece or needle in overlap + piece[:keep]
                                for needle in needles)
                    overlap = _last(overlap, piece, keep)
            elif not pending:
                break
        if not inflater.eof:
            raise _NotALog("truncated gzip")
        data = inflater.unused_data
        if not data.strip(b"\0"):  # some writers pad the last member
            break
    return found, count, head, counted, has_records


def _records_around(text: bytes, needles: tuple[bytes, ...]) -> list[dict[str, Any]] | None:
    """Only the records in which a needle occurs, each parsed from where it starts
    (CloudTrail opens every record with `{"eventVersion"`): parsing a whole file of a
    thousand records to keep two costs more than decompressing it. None when the text
    does not have that shape; the caller then parses the whole file."""
    starts: set[int] = set()
    for needle in needles:
        at = text.find(needle)
        while at >= 0:
            start = text.rfind(RECORD_START, 0, at)
            if start < 0:
                return None
            starts.add(start)
            at = text.find(needle, at + len(needle))
    decoder = json.JSONDecoder()
    wanted = [needle.decode() for needle in needles]
    records: list[dict[str, Any]] = []
    for start in sorted(starts):
        end = text.find(RECORD_START, start + 1)
        try:
            record, _ = decoder.raw_decode(text[start: end if end > 0 else len(text)].decode())
        except ValueError:
            return None
        if not isinstance(record, dict) or not any(needle in json.dumps(record)
                                                   for needle in wanted):
            return None
        records.append(record)
    return records


def examine(data: bytes, compressed: bool, needles: tuple[bytes, ...], *,
            piece_size: int = PIECE) -> Outcome:
    """The records of one file that name a needle, the file's record count, and the
    problem's reason ("" when none). JSON is parsed only when a needle occurs."""
    try:
        if not data:
            raise _NotALog("empty file")
        if compressed:
            found, count, head, tail, has_records = _survey(data, needles, piece_size)
        else:
            found = any(needle in data for needle in needles)
            count, head, tail = data.count(RECORD_MARK), data[:64], data[-64:]
            has_records = b'"Records"' in data
        if not found:
            if not head.lstrip().startswith(b"{") or not tail.rstrip().endswith(b"}"):
                raise _NotALog("invalid JSON")
            if not has_records:
                raise _NotALog(_no_records(_gunzip(data) if compressed else data))
            return [], count, ""
        text = _gunzip(data) if compressed else data
        quick = _records_around(text, needles)
        if quick is not None:
            return quick, count, ""
        try:
            document = json.loads(text)
        except ValueError:
            raise _NotALog("invalid JSON") from None
        records = document.get("Records") if isinstance(document, dict) else None
        if not isinstance(records, list):
            raise _NotALog(_no_records(text))
        wanted = [needle.decode() for needle in needles]
        matching = [record for record in records
                    if any(needle in json.dumps(record) for needle in wanted)]
        return matching, len(records), ""
    except _NotALog as problem:
        return [], 0, str(problem)
    except (RecursionError, ValueError):  # JSON nested past the parser's depth, odd text
        return [], 0, "invalid JSON"
    except MemoryError:
        return [], 0, "too large to parse in memory"
