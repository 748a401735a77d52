"""The report of one rotation drill: the measured time of each step, the total against
the target, the propagation wait, the outcome, and how it compares with earlier
drills. `irready drill rotate --report PATH` writes it as the drill ends, and
`irready report drill` writes it from the history store later.

The drill engine records steps; this module only reads DrillRecords. A step's detail
is printed as key=value, except keys that could hold a secret, which are redacted:
a secret access key must never reach a report, even if a caller put one there."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, assert_never

from markupsafe import Markup

from auditor import __version__
from auditor.clock import iso
from auditor.durations import format_duration
from auditor.redact import redact_fields
from auditor.store import DrillRecord, DrillStep
from reports.charts import Bar, Span, bar_chart, timeline_chart

SCHEMA = "irready.drill-report/1"  # a drill and the earlier ones it is compared with
COMPARED_DRILLS = 12  # earlier drills shown in the comparison chart


class DrillFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    JSON = "json"


DRILL_SUFFIXES: Mapping[str, DrillFormat] = {
    ".html": DrillFormat.HTML, ".htm": DrillFormat.HTML, ".pdf": DrillFormat.PDF,
    ".json": DrillFormat.JSON,
}


def propagation_seconds(record: DrillRecord) -> float | None:
    """How long the new key took to be accepted: the drill's own figure if it kept one,
    else the sum of what its steps recorded."""
    total = record.detail.get("propagation_seconds")
    if isinstance(total, int | float):
        return float(total)
    measured = record.detail.get("propagation")  # the drill engine's {"seconds": ...}
    if isinstance(measured, dict) and isinstance(measured.get("seconds"), int | float):
        return float(measured["seconds"])
    waits = [s.detail["propagation_seconds"] for s in record.steps
             if isinstance(s.detail.get("propagation_seconds"), int | float)]
    return float(sum(waits)) if waits else None


def drill_seconds(record: DrillRecord) -> float | None:
    """The whole drill, first step to last, including clean-up after the rotation."""
    if record.finished_at is None:
        return None
    return (record.finished_at - record.started_at).total_seconds()


@dataclass(frozen=True)
class StepView:
    seq: int
    name: str
    state: str
    started_at: Any
    seconds: float | None
    offset: float  # seconds after the drill started
    detail: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DrillView:
    """A DrillRecord as the templates need it."""

    record: DrillRecord
    steps: tuple[StepView, ...]
    timeline: Markup
    propagation: float | None
    total: float | None

    @property
    def outcome(self) -> str:
        """The drill engine's own sentence about how it ended, if it wrote one."""
        return str(self.record.detail.get("outcome") or "")

    @property
    def old_key_check(self) -> str:
        """How step 8 proved the old key refused, in words ("" before step 8)."""
        from reports.drill_terminal import old_key_check

        check = old_key_check(self.record)
        return "" if check is None else f"{check.value}: {check.sentence()}"

    @property
    def failure(self) -> str:
        failure = self.record.detail.get("failure")
        if isinstance(failure, dict):
            return f"{failure.get('step', '?')}: {failure.get('reason', '')}"
        return str(failure or "")

    @property
    def verdict(self) -> str:
        rec = self.record
        if rec.rotation_seconds is None:
            return f"{rec.status.lower()}: the rotation did not complete"
        measured = format_duration(rec.rotation_seconds)
        target = format_duration(rec.target_seconds)
        if rec.within_target:
            return f"{measured}, within the {target} target"
        return f"{measured}, over the {target} target"


def _detail_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _step_view(record: DrillRecord, step: DrillStep) -> StepView:
    detail = tuple((key, _detail_text(value)) for key, value in redact_fields(step.detail).items())
    return StepView(seq=step.seq, name=step.name, state=step.state,
                    started_at=step.started_at, seconds=step.seconds,
                    offset=max((step.started_at - record.started_at).total_seconds(), 0.0),
                    detail=detail)


def drill_view(record: DrillRecord) -> DrillView:
    steps = tuple(_step_view(record, step) for step in record.steps)
    spans = [Span(s.name, s.offset, s.seconds or 0.0, s.state) for s in steps]
    timeline = timeline_chart(spans, title=f"Steps of drill {record.drill_id}",
                              target=record.target_seconds)
    return DrillView(record=record, steps=steps, timeline=timeline,
                     propagation=propagation_seconds(record), total=drill_seconds(record))


def rotation_bars(drills: Sequence[DrillRecord]) -> list[Bar]:
    """Oldest first. A drill that did not complete has no rotation time: it is drawn
    hollow at its elapsed time, labelled with its outcome."""
    bars = []
    for record in drills:
        label = record.started_at.strftime("%Y-%m-%d")
        if record.rotation_seconds is not None and record.succeeded:
            bars.append(Bar(label, record.rotation_seconds))
        else:
            elapsed = record.rotation_seconds or drill_seconds(record) or 0.0
            bars.append(Bar(label, elapsed, note=record.status.lower(), hollow=True))
    return bars


def comparison_chart(drills: Sequence[DrillRecord], title: str) -> Markup:
    """Rotation times of `drills` (oldest first) against the newest drill's target."""
    target = drills[-1].target_seconds if drills else None
    return bar_chart(rotation_bars(drills), title=title, target=target)


def drill_dict(record: DrillRecord, earlier: Sequence[DrillRecord] = ()) -> dict[str, Any]:
    """Schema `irready.drill-report/1` (reports/schemas/drill-report.schema.json): the
    drill exactly as `irready drill show --format json` gives it (irready.drill/1, under
    "drill"), the propagation wait, and the earlier drills it is compared with."""
    from reports.drill_json import DRILL_SCHEMA
    from reports.drill_json import drill_dict as drill_json

    return {
        "schema": SCHEMA,
        "tool": {"name": "irready", "version": __version__},
        "drill": {"schema": DRILL_SCHEMA, **drill_json(record)},
        "propagation_seconds": propagation_seconds(record),
        "earlier": [
            {"drill_id": d.drill_id, "started_at": iso(d.started_at), "status": d.status,
             "rotation_seconds": d.rotation_seconds, "target_seconds": d.target_seconds}
            for d in earlier
        ],
    }


def render_drill_html(record: DrillRecord, earlier: Sequence[DrillRecord] = ()) -> str:
    from reports.html import render_html

    history = sorted([*earlier[:COMPARED_DRILLS], record], key=lambda d: (d.started_at,
                                                                         d.drill_id))
    return render_html(
        "drill.html.j2",
        tool_version=__version__,
        created=iso(record.finished_at or record.started_at),
        doc_title=f"irready rotation drill {record.drill_id}",
        header_right=f"account {record.account_id}",
        footer_left=f"irready {__version__}",
        drill=drill_view(record),
        earlier=list(earlier),
        comparison=comparison_chart(history, "Rotation time of this and earlier drills"),
    )


def render_drill(record: DrillRecord, earlier: Sequence[DrillRecord], fmt: DrillFormat
                 ) -> bytes:
    """`earlier`: the drills before this one, newest first (as HistoryStore.drills)."""
    earlier = [d for d in earlier if d.drill_id != record.drill_id]
    if fmt is DrillFormat.JSON:
        return (json.dumps(drill_dict(record, earlier), indent=2, sort_keys=True) + "\n"
                ).encode()
    if fmt is DrillFormat.HTML:
        return render_drill_html(record, earlier).encode()
    if fmt is DrillFormat.PDF:
        from reports.pdf import html_to_pdf

        return html_to_pdf(render_drill_html(record, earlier))
    assert_never(fmt)


def write_drill_report(record: DrillRecord, earlier: list[DrillRecord], path: Path,
                       fmt: DrillFormat | str = DrillFormat.PDF) -> Path:
    """Write the report of `record` to `path` and return the path. `earlier`: the same
    account's previous drills, newest first. Raises UsageError (one line, exit 2) for a
    folder that does not exist or an unknown format."""
    from auditor.errors import UsageError
    from reports.formats import write_output

    try:
        chosen = DrillFormat(fmt)
    except ValueError:
        names = ", ".join(f.value for f in DrillFormat)
        raise UsageError(f"unknown drill report format {fmt!r} (expected {names})") from None
    write_output(path, render_drill(record, earlier, chosen))
    return path
