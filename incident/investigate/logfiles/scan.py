"""The search through a trail's log files for the events that name some keys, as fast as
decompression allows: a file's bytes are searched for the key ids before any JSON is
parsed (most files name none and are never parsed), records are counted without parsing,
and files are decompressed on every core while only a bounded number of them are held in
memory. A file that cannot be read or is not a log file is a Problem, never a silent gap.

This module imports only the standard library, the layout and `examine` (what one file
holds), so that the worker processes start quickly."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incident.investigate.logfiles.examine import Outcome, examine
from incident.investigate.logfiles.layout import (
    LogFile,
    LogReadError,
    LogStore,
    Problem,
    os_reason,
)

SLOT = timedelta(minutes=5)  # CloudTrail delivers a file per 5 minutes of events
CHUNK_BYTES = 8 << 20  # compressed bytes a worker reads per task (local files)
CHUNK_FILES = 64
DOWNLOADS = 8  # S3 reads in flight: each holds one file in memory


@dataclass(frozen=True, slots=True)
class ScanResult:
    records: tuple[dict[str, Any], ...]  # every record in which any needle occurs
    files_read: int
    records_scanned: int
    problems: tuple[Problem, ...]
    # per file of the scan, in its order: the needles it was searched for (more than
    # asked when `widen` added some while it ran; none when it could not be read)
    needles_used: tuple[tuple[str, ...], ...] = ()
    by_file: tuple[tuple[int, tuple[dict[str, Any], ...]], ...] = ()  # files with records


WORKER_DIED = "not read: the process reading it died (out of memory?)"


def _outcomes(future: Future[list[Outcome]], count: int) -> list[Outcome]:
    """A chunk's outcomes; a worker that died (killed, out of memory) leaves each of its
    files a named problem instead of a traceback."""
    try:
        return future.result()
    except BrokenProcessPool:
        return [([], 0, WORKER_DIED)] * count


def _examine_paths(paths: Sequence[str], needles: tuple[bytes, ...]) -> list[Outcome]:
    """A worker's task: read and examine a few local files itself (no bytes cross the
    process boundary but the matching records)."""
    outcomes: list[Outcome] = []
    for path in paths:
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as error:
            outcomes.append(([], 0, os_reason(error)))
            continue
        outcomes.append(examine(data, path.endswith(".gz"), needles))
    return outcomes


def _where(store: LogStore, file: LogFile) -> str:
    path_of = getattr(store, "path_of", None)
    if path_of is not None:
        return str(path_of(file))
    bucket = getattr(store, "bucket", "")
    return f"s3://{bucket}/{file.location}" if bucket else file.location


def _chunks(files: Sequence[LogFile], workers: int) -> Iterator[range]:
    """Index ranges of files, each about CHUNK_BYTES, with enough of them for every
    worker to stay busy to the end."""
    total = sum(file.size for file in files)
    budget = max(1, min(CHUNK_BYTES, total // (workers * 8) + 1))
    start = size = 0
    for index, file in enumerate(files):
        size += file.size
        if size >= budget or index + 1 - start >= CHUNK_FILES:
            yield range(start, index + 1)
            start, size = index + 1, 0
    if start < len(files):
        yield range(start, len(files))


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal's group: the workers leave it to the
    main process, which cancels what is queued and shuts the pool down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(workers: int) -> ProcessPoolExecutor:
    # not fork: the caller may hold boto3's threads and connections; the fork server
    # starts once and then forks each worker from a clean, small process
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("forkserver"),
                               initializer=_ignore_interrupts)


_Report = Callable[[int, Outcome, tuple[bytes, ...]], None]


def _scan_local(path_of: Callable[[LogFile], Any], files: Sequence[LogFile],
                needles: Callable[[], tuple[bytes, ...]], workers: int,
                report: _Report) -> None:
    """`needles()` is asked at each submission: what a file is searched for may grow
    while the scan runs."""
    if workers == 1:
        for index, file in enumerate(files):
            now = needles()
            report(index, _examine_paths([str(path_of(file))], now)[0], now)
        return
    pool = _pool(workers)
    try:
        pending: dict[Future[list[Outcome]], tuple[range, tuple[bytes, ...]]] = {}

        def collect(future: Future[list[Outcome]]) -> None:
            chunk, used = pending.pop(future)
            for index, outcome in zip(chunk, _outcomes(future, len(chunk)), strict=True):
                report(index, outcome, used)

        for chunk in _chunks(files, workers):
            now = needles()
            pending[pool.submit(_examine_paths, [str(path_of(files[i])) for i in chunk],
                                 now)] = (chunk, now)
            if len(pending) < workers * 2:
                continue
            done, _ = wait_for(pending, return_when=FIRST_COMPLETED)
            for future in done:
                collect(future)
        for future in list(pending):
            collect(future)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _scan_remote(store: LogStore, files: Sequence[LogFile],
                 needles: Callable[[], tuple[bytes, ...]], workers: int,
                 report: _Report) -> None:
    """Downloads in a few threads; each thread hands its bytes to the process pool (or
    examines them inline for one worker), so only as many files as threads are in
    memory (DOWNLOADS, or two per worker to keep every core busy)."""
    pool = _pool(workers) if workers > 1 else None

    def fetch_and_examine(file: LogFile, now: tuple[bytes, ...]) -> Outcome:
        try:
            data = store.read(file)
        except LogReadError as error:
            return [], 0, str(error)
        compressed = file.location.endswith(".gz")
        if pool is None:
            return examine(data, compressed, now)
        try:
            return pool.submit(examine, data, compressed, now).result()
        except BrokenProcessPool:
            return [], 0, WORKER_DIED

    size = max(DOWNLOADS, 2 * workers)
    threads = ThreadPoolExecutor(max_workers=size)
    try:
        pending: dict[Future[Outcome], tuple[int, tuple[bytes, ...]]] = {}
        for index, file in enumerate(files):
            now = needles()
            pending[threads.submit(fetch_and_examine, file, now)] = (index, now)
            while len(pending) >= 2 * size or (index + 1 == len(files) and pending):
                done, _ = wait_for(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    at, used = pending.pop(future)
                    report(at, future.result(), used)
    finally:
        threads.shutdown(wait=True, cancel_futures=True)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


Widen = Callable[[dict[str, Any], frozenset[str]], Collection[str]]


def scan(store: LogStore, files: Sequence[LogFile], needles: Collection[str], *,
         workers: int | None = None, progress: Callable[[int, int], None] | None = None,
         widen: Widen | None = None) -> ScanResult:
    """Every record of `files` in which any of `needles` occurs, in the order of `files`
    and of the records in each; the same for any number of workers. workers=1 runs in
    this process; the default is one worker process per core.

    `widen(record, needles)` is shown each matching record as it arrives and may name
    more needles, which the files submitted after it are searched for too (a key that
    the record minted: its calls are in later files, so the later pass that looks for
    it need not read those again). `needles_used` says what each file was searched for."""
    workers = max(1, workers or os.cpu_count() or 1)
    current = {"text": frozenset(needle for needle in needles if needle)}
    current_bytes = [tuple(sorted(needle.encode() for needle in current["text"]))]
    # only files with records or a problem are kept until the end (to keep the order
    # of `files`): what the search holds does not grow with the corpus
    kept: dict[int, Outcome] = {}
    used_by: list[tuple[bytes, ...]] = [()] * len(files)
    totals = {"done": 0, "read": 0, "scanned": 0}

    def report(index: int, outcome: Outcome, used: tuple[bytes, ...]) -> None:
        matching, count, reason = outcome
        totals["done"] += 1
        if not reason:
            totals["read"] += 1
            totals["scanned"] += count
            used_by[index] = used
        if matching or reason:
            kept[index] = outcome
        if widen is not None:
            for record in matching:
                more = {needle for needle in widen(record, current["text"]) if needle}
                if not more <= current["text"]:
                    current["text"] = current["text"] | more
                    current_bytes[0] = tuple(sorted(n.encode() for n in current["text"]))
        if progress is not None:
            progress(totals["done"], len(files))

    def now() -> tuple[bytes, ...]:
        return current_bytes[0]

    path_of = getattr(store, "path_of", None)
    if path_of is not None:
        _scan_local(path_of, files, now, min(workers, max(1, len(files))), report)
    else:
        _scan_remote(store, files, now, workers, report)
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    by_file: list[tuple[int, tuple[dict[str, Any], ...]]] = []
    for index in sorted(kept):
        matching, _, reason = kept[index]
        if reason:
            problems.append(Problem(_where(store, files[index]), reason))
        if matching:
            by_file.append((index, tuple(matching)))
        records += matching
    decoded = {used: tuple(needle.decode() for needle in used) for used in set(used_by)}
    return ScanResult(tuple(records), totals["read"], totals["scanned"], tuple(problems),
                      tuple(decoded[used] for used in used_by), tuple(by_file))


def records_after(files: Sequence[LogFile], moment: datetime) -> tuple[LogFile, ...]:
    """The files that can hold events at or after `moment`: delivered no earlier than
    one slot before it, or of unknown delivery (a file name without a time)."""
    earliest = moment - SLOT
    return tuple(file for file in files if file.delivered is None or file.delivered >= earliest)


