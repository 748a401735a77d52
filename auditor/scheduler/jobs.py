"""What a job run asked for and what it produced: the request (its `irready` command
lines), how each command ended, and the reading of their output into one result (OK,
ALERT when a person is needed, FAILED to retry at the next slot). Also the pruning of
the scheduler's own old reports. Nothing here starts a process."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.durations import duration
from auditor.errors import ExitCode
from auditor.redact import redact
from auditor.scheduler.vocabulary import JobKind, RunStatus

if TYPE_CHECKING:
    from auditor.models import Severity
    from auditor.store import DetectDrillRecord, DrillRecord

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # in report file names; the files of one run share it
STAMP = re.compile(r"^\d{8}T\d{6}Z$")
TIMED_OUT = -1
DETAIL_LIMIT = 10


@dataclass(frozen=True)
class JobRequest:
    """One job run: the `irready` command lines (without the program) and its report."""

    job: JobKind
    commands: tuple[tuple[str, ...], ...]
    report: Path | None
    started_at: datetime
    drill_targets: tuple[tuple[str, str], ...] = ()  # (user, target) per drill command
    canaries: tuple[str, ...] = ()  # the canary of each detection drill command


@dataclass(frozen=True)
class JobResult:
    status: RunStatus
    exit_code: int | None
    summary: str  # one line
    details: tuple[str, ...] = ()  # what a person reads in the notification
    report: str = ""  # where the report is, when there is one

    @property
    def needs_a_person(self) -> bool:
        return self.status is not RunStatus.OK

    def redacted(self) -> JobResult:
        return replace(self, summary=redact(self.summary),
                       details=tuple(redact(line) for line in self.details))


JobRunner = Callable[[JobRequest], JobResult]


@dataclass(frozen=True)
class Completed:
    """How one command ended."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""

    def last_error_line(self) -> str:
        """The command's last line on stderr, without the `irready: error:` its own
        error line starts with (the job's line says whose it is)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1].removeprefix("irready: error: ") if lines else ""


def failed(done: Completed, what: str) -> JobResult:
    reason = done.last_error_line() or "no message"
    if done.exit_code == TIMED_OUT:
        summary = f"{what} {reason}"
    else:
        summary = f"{what} failed (exit {done.exit_code}): {reason}"
    return JobResult(RunStatus.FAILED, done.exit_code, summary)


def audit_result(done: Completed, report: Path, fail_on: Severity) -> JobResult:
    """Exit 0, 1 and 4 mean the audit ran: read its JSON report. A person is needed for
    a failure that is new since the previous audit (at or above fail_on), or a check
    that could not be evaluated; old failures are in the report, not in a message."""
    from auditor.models import ScoreCoverage, Severity

    if done.exit_code not in (ExitCode.OK, ExitCode.FAILED, ExitCode.INCOMPLETE):
        return failed(done, "the audit")
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
        findings = document["findings"]
    except (OSError, ValueError, KeyError) as exc:
        return JobResult(RunStatus.FAILED, done.exit_code,
                         f"the audit ran but its report {report} cannot be read: {exc}")
    changes = document.get("changes")
    failing = [f for f in findings if f["status"] == "FAIL"]
    new_keys = ({f["key"] for f in failing} if changes is None
                else set(changes.get("new_failures", ())))
    new = [f for f in failing if f["key"] in new_keys
           and Severity.parse(f["severity"]) >= fail_on]
    errors = [f for f in findings if f["status"] == "ERROR"]
    account = document.get("account_id", "?")
    covers = document.get("score_covers") or {}
    # a score over fewer controls than selected is not comparable: say so beside it
    note = ScoreCoverage(int(covers.get("evaluated", 0)), int(covers.get("selected", 0))).note
    partial = f" ({note})" if note else ""
    summary = (f"account {account}: score {document.get('score', 0):g}{partial}, "
               f"{len(failing)} failing"
               f" ({len(new)} new), {len(errors)} check(s) could not run")
    details = [f"new FAIL [{f['severity']}] {f['check_id']} {f['resource']} ({f['region']}):"
               f" {f['message']}" for f in new[:DETAIL_LIMIT]]
    if len(new) > DETAIL_LIMIT:
        details.append(f"... and {len(new) - DETAIL_LIMIT} more new failures")
    details += [f"ERROR {f['check_id']} ({f['region']}): {f['message']}"
                for f in errors[:DETAIL_LIMIT]]
    if len(errors) > DETAIL_LIMIT:
        details.append(f"... and {len(errors) - DETAIL_LIMIT} more checks that could not run")
    status = RunStatus.ALERT if new or errors else RunStatus.OK
    return JobResult(status, done.exit_code, summary, tuple(details), str(report))


@dataclass(frozen=True)
class DrillOutcome:
    user: str
    target: str
    done: Completed
    report: Path  # the drill's JSON report, when it got far enough to write one


def playbook_result(audited: JobResult, verified: Sequence[Completed], written: Completed,
                    path: str) -> JobResult:
    """The audit's result, and what regenerating the playbook found: a change since last
    week's (its sections, from `--verify --format json`) or a playbook not written needs
    a person, who commits the new one or fixes what stopped it."""
    details = list(audited.details)
    if written.exit_code != ExitCode.OK:
        details.append(f"playbook {path} not written (exit {written.exit_code}): "
                       f"{written.last_error_line() or 'no message'}")
    for done in verified:
        if done.exit_code != ExitCode.FAILED:
            continue
        try:
            sections = [str(c["section"]) for c in json.loads(done.stdout)["changes"]]
        except (ValueError, KeyError, TypeError):
            sections = []
        details.append(f"playbook {path} changed since last week"
                       + (f" ({', '.join(sections)})" if sections else "")
                       + ": review and commit it")
    if len(details) == len(audited.details):
        return audited
    status = RunStatus.ALERT if audited.status is RunStatus.OK else audited.status
    return replace(audited, status=status, details=tuple(details))


def drill_result(outcomes: Sequence[DrillOutcome], records: Mapping[str, DrillRecord]
                 ) -> JobResult:
    """One drill per configured user. A drill that failed, or that left no record, fails
    the job (the quarter stays open, so it is retried); a drill slower than its target
    completes the job but needs a person."""
    parts: list[str] = []
    details: list[str] = []
    statuses: list[RunStatus] = []
    exit_code = 0
    reports: list[str] = []
    for user, target, done, report in ((o.user, o.target, o.done, o.report) for o in outcomes):
        record = records.get(user)
        where = f"drill of {user} ({target})"
        if done.exit_code != 0 or record is None or not record.succeeded:
            reason = done.last_error_line() or (f"status {record.status}" if record
                                                else "no drill was recorded")
            parts.append(f"{where} failed: {reason}")
            statuses.append(RunStatus.FAILED)
            exit_code = exit_code or done.exit_code or int(ExitCode.FAILED)
        elif not record.within_target:
            parts.append(f"{where} took {duration(record.rotation_seconds)}, over its "
                         f"{record.target_seconds / 60:g}-minute target")
            statuses.append(RunStatus.ALERT)
        else:
            parts.append(f"{where} rotated in {duration(record.rotation_seconds)}")
            statuses.append(RunStatus.OK)
        if record is not None:
            details.append(f"{user}: drill {record.drill_id}, status {record.status}; "
                           f"details: irready drill show {record.drill_id}")
        if report.is_file():
            reports.append(str(report))
    worst = _worst(statuses)
    return JobResult(worst, exit_code, "; ".join(parts) or "no drill users", tuple(details),
                     ", ".join(reports))


@dataclass(frozen=True)
class DetectOutcome:
    canary: str
    done: Completed
    report: Path  # the detection drill's JSON report (also written when a call was not seen)


def detect_result(outcomes: Sequence[DetectOutcome],
                  records: Mapping[str, DetectDrillRecord]) -> JobResult:
    """One detection drill per canary. Exit 0: every call seen; exit 1 (a call not seen,
    or the key never accepted) measured what the drill is for, so it completes the job
    and needs a person; any other exit (AWS denied, cut off, locked) or no record fails
    the job, which is retried as a failed drill is."""
    parts: list[str] = []
    details: list[str] = []
    statuses: list[RunStatus] = []
    failed_code = 0
    reports: list[str] = []
    for canary, done, report in ((o.canary, o.done, o.report) for o in outcomes):
        record = records.get(canary)
        where = f"detection drill of {canary}"
        if record is None or done.exit_code not in (ExitCode.OK, ExitCode.FAILED):
            reason = done.last_error_line() or "no detection drill was recorded"
            parts.append(f"{where} failed (exit {done.exit_code}): {reason}")
            statuses.append(RunStatus.FAILED)
            failed_code = failed_code or done.exit_code or int(ExitCode.FAILED)
        elif done.exit_code == ExitCode.OK:
            parts.append(f"{where}: every call seen after {duration(record.seen_seconds)}")
            statuses.append(RunStatus.OK)
        else:
            parts.append(f"{where}: {record.status}: {_outcome(record)}")
            details += _not_seen(report)
            statuses.append(RunStatus.ALERT)
        if record is not None:
            details.append(f"{canary}: detection drill {record.drill_id}, status "
                           f"{record.status}; details: irready drill show {record.drill_id}")
        if report.is_file():
            reports.append(str(report))
    worst = _worst(statuses)
    # a drill that could not run decides the code (the job is retried); else a call
    # not seen is the drill's own exit 1
    exit_code = failed_code or (int(ExitCode.FAILED) if worst is RunStatus.ALERT else 0)
    return JobResult(worst, exit_code, "; ".join(parts) or "no canaries", tuple(details),
                     ", ".join(reports))


def _outcome(record: DetectDrillRecord) -> str:
    try:
        return str(json.loads(record.document or "{}").get("outcome") or "no outcome")
    except (ValueError, AttributeError):
        return "its document cannot be read"


def _not_seen(report: Path) -> list[str]:
    """Per counted source (event history, the trail's files), the calls it never showed."""
    try:
        sources = json.loads(report.read_text(encoding="utf-8"))["sources"]
        return [f"not seen in {source['location']}: " + ", ".join(
                    call["call"] for call in source["calls"]
                    if call["seen_after_seconds"] is None)
                for source in sources
                if source["source"] in ("lookup", "s3") and not source["all_seen"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def report_result(done: Completed, report: Path) -> JobResult:
    if done.exit_code != 0:
        return failed(done, "the compliance report")
    if not report.is_file():
        return JobResult(RunStatus.FAILED, done.exit_code,
                         f"the compliance report said it succeeded but {report} is missing")
    return JobResult(RunStatus.OK, 0, f"wrote {report}", report=str(report))


ACCOUNT_SUFFIX = re.compile(r"^-(\d{12})(?=[.-])")


def prune_reports(folder: Path, prefix: str, keep: int, *, per_account: bool = False
                  ) -> list[Path]:
    """Delete the scheduler's own reports of one kind beyond the newest `keep` runs. The
    files of one run share its stamp (a PDF and the CSV beside it, one drill report per
    user) and go together; files the scheduler did not name stay. With `per_account`
    (compliance reports, one per account: `compliance-STAMP-ACCOUNT.pdf`), each account
    keeps its newest `keep`, so a rarely audited account's reports are not pruned away
    by another's."""
    if keep <= 0 or not folder.is_dir():
        return []
    groups: dict[str, dict[str, list[Path]]] = {}
    for path in folder.glob(f"{prefix}-*"):
        stamp = path.name[len(prefix) + 1:][:16]
        rest = path.name[len(prefix) + 17:]
        if STAMP.match(stamp) and rest[:1] in (".", "-") and path.is_file():
            account = ACCOUNT_SUFFIX.match(rest) if per_account else None
            by_stamp = groups.setdefault(account[1] if account else "", {})
            by_stamp.setdefault(stamp, []).append(path)
    removed = []
    for by_stamp in groups.values():
        for stamp in sorted(by_stamp, reverse=True)[keep:]:
            for path in by_stamp[stamp]:
                with suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed


def reports_result(results: Sequence[JobResult]) -> JobResult:
    """The compliance reports of one run (one per account) as one result: OK when every
    one was written, else FAILED naming each that was not."""
    if len(results) == 1:
        return results[0]
    failures = [r for r in results if r.status is not RunStatus.OK]
    written = ", ".join(r.report for r in results if r.report)
    if not failures:
        return JobResult(RunStatus.OK, 0, f"wrote {written}", report=written)
    return JobResult(RunStatus.FAILED, next((r.exit_code for r in failures if r.exit_code),
                                            int(ExitCode.FAILED)),
                     "; ".join(r.summary for r in results), report=written)


def _worst(statuses: Sequence[RunStatus]) -> RunStatus:
    """A job of several drills ends as its worst: FAILED over ALERT over OK."""
    return max(statuses, key=[RunStatus.OK, RunStatus.ALERT, RunStatus.FAILED].index,
               default=RunStatus.OK)
