"""The SVG charts: well-formed XML, text escaped, and meaning carried without colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from auditor.durations import format_duration
from reports.charts import (
    Bar,
    Mark,
    Point,
    Shape,
    Span,
    bar_chart,
    duration_ceiling,
    event_timeline,
    line_chart,
    timeline_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return [node.text or "" for node in ET.fromstring(svg).iter(f"{SVG}text")]


def test_line_chart_prints_each_value_and_escapes_labels() -> None:
    svg = line_chart([Point("a<b>&", 40.0), Point("w2", 60.9), Point("w3", 78.3)],
                     title="score & trend")
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "score & trend"  # type: ignore[union-attr]
    labels = texts(svg)
    assert {"40", "60.9", "78.3", "a<b>&"} <= set(labels)
    assert len(root.findall(f"{SVG}circle")) == 3
    assert "<b>" not in svg


def test_line_chart_with_many_points_labels_ends_and_extremes_only() -> None:
    points = [Point(f"d{i}", float(i)) for i in range(50)]
    points[20] = Point("d20", 99.0)
    labels = texts(line_chart(points, title="t"))
    assert {"0", "49", "99"} <= set(labels)
    assert "30" not in labels
    assert sum(label.startswith("d") for label in labels) == 8  # x labels thinned to 8


@pytest.mark.parametrize("chart", [
    pytest.param(lambda: line_chart([], title="t"), id="trend without audits"),
    pytest.param(lambda: bar_chart([], title="t"), id="drill times without drills"),
    pytest.param(lambda: timeline_chart([], title="t"), id="timeline without steps"),
])
def test_empty_charts_say_so(chart: object) -> None:
    labels = texts(chart())  # type: ignore[operator]
    assert any(label.startswith("no ") for label in labels)


def test_failed_drill_bar_is_hollow_and_labelled() -> None:
    svg = bar_chart([Bar("2026-10-10", 200.0, note="failed", hollow=True),
                     Bar("2026-10-20", 250.0)], title="t", target=900.0)
    fills = [rect.get("fill") for rect in ET.fromstring(svg).iter(f"{SVG}rect")]
    assert fills == ["white", "#777"]
    labels = texts(svg)
    assert "3.3 min failed" in labels
    assert "target 15 min" in labels


def test_timeline_draws_one_bar_per_step_with_state() -> None:
    svg = timeline_chart([Span("preflight", 0, 5, "done"),
                          Span("verify_new_key", 5, 180, "failed")], title="t", target=900)
    root = ET.fromstring(svg)
    assert len(root.findall(f"{SVG}rect")) == 2
    labels = texts(svg)
    assert "3 min (failed)" in labels
    assert "5 s" in labels
    assert "preflight" in labels


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (0.3, "0.3 s"), (0.9, "0.9 s"), (2.0, "2 s"), (9.96, "10 s"),
    (42, "42 s"), (250, "4.2 min"), (900, "15 min"), (3000, "50 min"), (14400, "4 h"),
    (1_180_000, "13.7 days"),
])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "ceiling"), [
    (45, 50), (990, 1200), (7000, 2 * 3600), (7300, 2.5 * 3600),
])
def test_axis_ends_on_a_round_value_in_its_unit(seconds: float, ceiling: float) -> None:
    assert duration_ceiling(seconds) == ceiling


NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ROWS = ("leaked key", "1 step down")


def marks_of(svg: str) -> list[ET.Element]:
    drawn = ("circle", "rect", "polygon", "path")
    return [node for node in ET.fromstring(svg).iter()
            if node.tag.removeprefix(SVG) in drawn]


def test_event_timeline_draws_one_mark_per_event_in_its_row() -> None:
    marks = [Mark(NOON + timedelta(minutes=i), i % 2, shape, filled=i % 2 == 0)
             for i, shape in enumerate(Shape)]
    legend = [(f"<{shape}>", shape, False) for shape in Shape]
    svg = event_timeline(marks, rows=ROWS, legend=legend, title="t & <t>",
                         note="3 usual & not drawn")

    assert len(marks_of(svg)) == len(marks) + len(legend)
    labels = texts(svg)
    assert labels[:2] == list(ROWS)
    assert "12:00" in labels
    assert "12:05" in labels  # the last of six marks, a minute apart
    assert "<circle>" in labels  # escaped in the SVG, read back as text
    assert "3 usual & not drawn" in labels


def test_event_timeline_over_days_prints_dates_and_draws_twins_once() -> None:
    marks = [Mark(NOON, 0, Shape.SQUARE, True)] * 50 + [Mark(NOON + timedelta(days=3), 5,
                                                         Shape.CIRCLE, False)]
    svg = event_timeline(marks, rows=ROWS, legend=[], title="busy")

    assert len(marks_of(svg)) == 2  # fifty twins are one mark; row 5 is drawn in the last
    assert "12-01 12:00" in texts(svg)
    assert "12-04 12:00" in texts(svg)


def test_event_timeline_without_events_says_so() -> None:
    svg = event_timeline([], rows=("leaked key",), legend=[], title="none")
    assert "no suspicious event" in texts(svg)
    assert marks_of(svg) == []
