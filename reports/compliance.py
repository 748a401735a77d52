"""The quarterly compliance report for management: a cover, an executive summary a
non-engineer understands (the readiness score and its trend, the three biggest risks,
and whether every key could be rotated within four hours), the readiness trend, every
control, the period's drills, the waivers, and an appendix with the evidence and the
method. This module builds the report's model from the history store alone;
reports/compliance_pdf.py renders it.

Large accounts make thousands of findings for one check; the PDF prints counts and
the worst few per check and the full list goes to a CSV written beside it. Ordering
is stable and the generation time is the caller's, so the same data and clock give
the same report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from auditor import __version__
from auditor.detection import detection_answer
from auditor.diff import RunDiff, compare
from auditor.durations import format_duration
from auditor.errors import NotFound, UsageError
from auditor.estimate import active_keys, estimate_from, newest_successful_drill
from auditor.models import AuditRun, Status
from auditor.store import DrillRecord, HistoryStore, PlaybookRecord, RunSummary
from reports.charts import Point, line_chart
from reports.compliance_containments import containment_answer, containment_views
from reports.compliance_model import (
    ComplianceReport,
    Control,
    ControlStatus,
    EvidenceRow,
    KnownCheck,
    Risk,
    RotationAnswer,
    WaiverRow,
    catalogue,
)
from reports.compliance_period import Period
from reports.drill_report import comparison_chart, drill_view
from reports.plain_words import risk_sentence
from reports.summary import CheckGroup, group_by_check

SHOWN_PER_CHECK = 5


def control_of(group: CheckGroup, since: datetime | None, known: KnownCheck | None,
               shown: int) -> Control:
    """One check's control as one audit found it; the organization edition builds one per
    account and adds them up."""
    affected = [f for f in group.findings if f.status in (Status.FAIL, Status.ERROR)]
    if group.status is not Status.FAIL:
        since = None
    return Control(
        check_id=group.check_id, title=group.title, status=ControlStatus(group.status.value),
        status_label=group.status_label, severity=group.severity, cis=group.cis,
        security_hub=group.security_hub, remediation=group.remediation,
        failing_since=since, affected=len(affected), resources=len(group.findings),
        examples=tuple(affected[:shown]), facts=known.facts if known else (),
        risk=risk_sentence(group.check_id, group.title, len(affected)),
    )


def not_run_control(check_id: str, known: KnownCheck) -> Control:
    """A check of the catalogue that the audit did not run: listed, never counted."""
    return Control(
        check_id=check_id, title=known.title, status=ControlStatus.NOT_RUN,
        status_label="NOT RUN",
        severity=known.severity,
        cis=tuple(r for r in known.references if r.startswith("CIS")),
        security_hub=tuple(r for r in known.references if not r.startswith("CIS")),
        remediation=known.remediation, failing_since=None, affected=0, resources=0,
        examples=(), facts=known.facts, risk="",
    )


def biggest_risks(controls: Sequence[Control]) -> tuple[Risk, ...]:
    """The three failing controls that hurt most: severity first, then how many resources."""
    failing = [c for c in controls if c.status is ControlStatus.FAIL]
    failing.sort(key=lambda c: (-c.severity, -c.affected, c.check_id))
    return tuple(
        Risk(check_id=c.check_id, title=c.title, severity=c.severity,
             sentence=c.risk, affected=c.affected,
             failing_since=c.failing_since)
        for c in failing[:3]
    )


def _trend_sentence(runs: Sequence[RunSummary], partial: int = 0,
                    change: RunDiff | None = None) -> str:
    """`runs` are the period's full audits; `partial` audits of a subset of checks were
    left out, and the sentence says so, lest a reader count them and wonder. `change`
    compares the first and the last of them over the controls both evaluated: a control
    that broke in one of them must not move the trend."""
    left_out = ""
    if partial:
        left_out = (f" {partial} partial audit{'' if partial == 1 else 's'} (a subset of"
                    f" the checks) {'is' if partial == 1 else 'are'} left out.")
    if not runs:
        return (f"No {'full ' if partial else ''}audit ran in this period, so there is no"
                " readiness score." + left_out)
    last = runs[-1]
    if len(runs) == 1:
        return (f"One audit in this period ({last.started_at:%Y-%m-%d}), so no trend "
                "yet." + left_out)
    first = runs[0]
    # the difference of the scores as printed: 79.4 and 35.6 show as 79 and 36, and a
    # reader who subtracts them must find the 43 the sentence says, not 44
    if change is not None and change.score_change is None:
        return (f"not comparable with the first audit of the period "
                f"({first.started_at:%Y-%m-%d}): no control was evaluated by both, over "
                f"{len(runs)} audits." + left_out)
    delta = (change.score_change if change is not None and change.score_change is not None
             else int(f"{last.score:.0f}") - int(f"{first.score:.0f}"))
    narrowed = ""
    if change is not None and change.narrowed:
        narrowed = (f"; compared on the {change.compared_controls} controls both audits "
                    "evaluated")
    if delta == 0:
        movement = "unchanged"
    else:
        movement = (f"{'up' if delta > 0 else 'down'} {abs(delta)} "
                    f"point{'' if abs(delta) == 1 else 's'}")
    return (f"{movement} since the first audit of the period ({first.started_at:%Y-%m-%d}, "
            f"{first.score:.0f}/100{narrowed}), over {len(runs)} audits." + left_out)


def _change(store: HistoryStore, runs: Sequence[RunSummary], latest: AuditRun | None
            ) -> RunDiff | None:
    """The first full audit of the period against the last (`latest`)."""
    if latest is None or len(runs) < 2:
        return None
    return compare(store.load_run(runs[0].run_id), latest)


def _unmapped(run: AuditRun | None) -> int:
    """Users holding keys with no inventory entry: their rotation is not drilled."""
    if run is None:
        return 0
    return sum(1 for f in run.findings
               if f.check_id == "iam.key_inventory" and f.status is Status.FAIL)


def rotation_answer(run: AuditRun | None, drills: Sequence[DrillRecord]) -> RotationAnswer:
    """The answer to "could we rotate every key within 4 hours if one leaked tonight?"
    in words: the estimate of auditor/estimate.py (the active keys `run` counted, the
    newest successful drill's time for one key, one after the other), with what it
    rests on and what it leaves out."""
    failed = [d for d in drills if not d.succeeded]
    failed_note = (f" {len(failed)} of the {len(drills)} drill(s) in this period did not "
                   "succeed." if failed else "")
    newest = newest_successful_drill(drills)
    if newest is None:
        return RotationAnswer(
            "unknown", "We cannot say yet.",
            "No rotation drill succeeded in this period, so the time it takes to replace a "
            f"key has not been measured.{failed_note}", active_keys=active_keys(run))
    estimate = estimate_from(run, float(newest.rotation_seconds or 0.0))
    per_key, keys, total = estimate.per_key_seconds, estimate.active_keys, estimate.total_seconds
    measured = (f"The newest successful drill ({newest.drill_id}, "
                f"{newest.started_at:%Y-%m-%d}) replaced one key in "
                f"{format_duration(per_key)}.")
    if keys is None or total is None:
        return RotationAnswer(
            "unknown", "We cannot say yet.",
            f"{measured} The last audit did not count the account's active keys (the "
            f"key inventory check did not run), so the total is unknown.{failed_note}",
            seconds_per_key=per_key)
    if keys == 0:
        return RotationAnswer("yes", "Yes.", f"The account has no active access key to "
                              f"rotate. {measured}{failed_note}", 0, per_key, 0.0)
    within = bool(estimate.within_window)
    pace = (f"At that pace the account's {keys} active key(s) take about "
            f"{format_duration(total)} one after the other, "
            f"{'inside' if within else 'beyond'} the four-hour window.")
    caveat = ""
    unmapped = _unmapped(run)
    if unmapped:
        caveat = (f" {unmapped} user(s) holding keys have no owner or rotation target on "
                  "record; replacing their keys would take longer than measured.")
    return RotationAnswer("yes" if within else "no", "Yes." if within else "No.",
                          f"{measured} {pace}{caveat}{failed_note}", keys, per_key, total)


def _waiver_state(expires: date, today: date) -> str:
    if expires < today:
        return "expired"
    if (expires - today).days <= 30:
        return "expires soon"
    return "active"


def _waivers(run: AuditRun | None, today: date) -> tuple[WaiverRow, ...]:
    """Waivers as the last audit applied them, one row per check and reason."""
    if run is None:
        return ()
    rows: dict[tuple[str, str, date, str], list[str]] = {}
    for finding in run.findings:
        waiver = finding.waiver
        if waiver is None:
            continue
        if waiver.applies:
            key = (finding.check_id, waiver.reason, waiver.expires,
                   _waiver_state(waiver.expires, today))
        else:
            key = (finding.check_id, "(the waiver no longer applies)", waiver.expires,
                   "expired")
        rows.setdefault(key, []).append(finding.resource)
    return tuple(
        WaiverRow(check_id=check_id, reason=reason, expires=expires, state=state,
                  resources=len(resources), example=sorted(resources)[0])
        for (check_id, reason, expires, state), resources in sorted(
            rows.items(), key=lambda item: (item[0][0], item[0][2], item[0][1]))
    )


def _evidence(run: AuditRun | None, controls: Sequence[Control]) -> tuple[EvidenceRow, ...]:
    if run is None:
        return ()
    recorded: dict[str, list[tuple[str, str]]] = {}
    for finding in run.findings:
        if finding.evidence:
            items = recorded.setdefault(finding.check_id, [])
            if len(items) < 3:
                text = "; ".join(f"{k}={v}" for k, v in sorted(finding.evidence.items()))
                items.append((finding.resource, text))
    return tuple(
        EvidenceRow(check_id=c.check_id, facts=c.facts, read_from=run.started_at,
                    read_to=run.finished_at, recorded=tuple(recorded.get(c.check_id, ())))
        for c in controls if c.status is not ControlStatus.NOT_RUN
    )


def _account(store: HistoryStore, period: Period, account_id: str | None) -> str:
    if account_id:
        return account_id
    accounts = sorted({r.account_id for r in store.runs(since=period.start, until=period.end)}
                      | {d.account_id for d in store.drills(since=period.start,
                                                            until=period.end)})
    if len(accounts) > 1:
        raise UsageError(f"the history holds {len(accounts)} accounts for {period.text} "
                         f"({', '.join(accounts)}): pass --account ID")
    if not accounts:
        raise NotFound(f"no audit runs or drills for {period.text} in {store.path}: run "
                       "`irready audit` first, or choose another period")
    return accounts[0]


def build_compliance(store: HistoryStore, *, period: Period, generated_at: datetime,
                     account_id: str | None = None, alias: str | None = None,
                     notice: str | None = None, shown_per_check: int = SHOWN_PER_CHECK,
                     csv_name: str | None = None) -> ComplianceReport:
    """The report model. Raises NotFound (exit 2) when the period holds no audit and no
    drill for the account; `csv_name` is printed where the PDF omits findings."""
    account = _account(store, period, account_id)
    every_run = store.runs(account_id=account, since=period.start, until=period.end)
    # a --check/--skip audit scores only what it selected: in the trend it would look
    # like a jump, and its controls would read as NOT RUN; only full audits count here
    summaries = [r for r in every_run if r.complete]
    partial = len(every_run) - len(summaries)
    records = store.drills(account_id=account, since=period.start, until=period.end)
    if not every_run and not records:
        raise NotFound(f"no audit runs or drills for account {account} in {period.text} "
                       f"in {store.path}: run `irready audit` first, or choose another "
                       "period")
    runs = tuple(reversed(summaries))
    latest = store.load_run(summaries[0].run_id) if summaries else None
    known = catalogue()
    controls: list[Control] = []
    if latest is not None:
        since = store.failing_since(account, period.end)
        groups = group_by_check(latest.findings)
        controls = [control_of(g, since.get(g.check_id), known.get(g.check_id), shown_per_check)
                    for g in groups]
        ran = {g.check_id for g in groups}
        controls += [not_run_control(check_id, check) for check_id, check in sorted(known.items())
                     if check_id not in ran]
    drills = sorted(records, key=lambda d: (d.started_at, d.drill_id))
    detections = sorted((d for d in store.detect_drills(account_id=account, since=period.start)
                         if d.started_at < period.end),
                        key=lambda d: (d.started_at, d.drill_id))
    contained = containment_views([c for c in store.containments(account_id=account)
                                   if period.start <= c.started_at < period.end])
    check_counts = {status.value: 0 for status in ControlStatus}
    for control in controls:
        check_counts[control.status] += 1
    report_controls = tuple(controls)  # worst first; checks that did not run last
    return ComplianceReport(
        account_id=account,
        alias=alias or _alias(latest),
        period=period,
        generated_at=generated_at.astimezone(UTC),
        version=__version__,
        notice=notice,
        runs=runs,
        latest=latest,
        trend_sentence=_trend_sentence(runs, partial, _change(store, runs, latest)),
        trend_chart=line_chart(
            [Point(r.started_at.strftime("%Y-%m-%d" if len(runs) <= 8 else "%m-%d"), r.score)
             for r in runs], title="Readiness score per audit (0-100)"),
        controls=report_controls,
        risks=biggest_risks(report_controls),
        rotation=rotation_answer(latest, drills),
        drills=tuple(drill_view(d) for d in drills),
        drill_chart=comparison_chart(drills, "Rotation time per drill in this period"),
        waivers=_waivers(latest, generated_at.date()),
        evidence=_evidence(latest, report_controls),
        csv_name=csv_name,
        check_counts=check_counts,
        partial_runs=partial,
        playbook=playbook_line(store.latest_playbook(account, until=period.end), latest),
        detections=tuple(detections),
        detection_answer=detection_answer(detections),
        containments=contained,
        containment_answer=containment_answer(contained),
    )


def playbook_line(record: PlaybookRecord | None, latest: AuditRun | None) -> str:
    """"Playbook: current as of DATE, covers N of M keys.", from the newest playbook
    written and, when an audit ran after it, that audit's playbook.current finding."""
    if record is None:
        return "Playbook: none written yet (irready playbook)."
    day = f"{record.generated_at:%Y-%m-%d}"
    stale = latest is not None and latest.started_at > record.generated_at and any(
        f.check_id == "playbook.current" and f.status is Status.FAIL for f in latest.findings)
    head = f"out of date (last written {day})" if stale else f"current as of {day}"
    covers = ("" if record.keys_total is None
              else f", covers {record.keys_covered or 0} of {record.keys_total} keys")
    return f"Playbook: {head}{covers}."


def _alias(run: AuditRun | None) -> str | None:
    """An alias a check recorded as evidence, if any did."""
    if run is None:
        return None
    for finding in run.findings:
        alias = finding.evidence.get("account_alias")
        if alias:
            return str(alias)
    return None
