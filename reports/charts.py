"""Small inline-SVG charts for the HTML and PDF reports: the readiness trend, a drill's
step timeline and rotation times across drills. Our own few functions instead of a
plotting library: three chart shapes do not justify a dependency, and SVG text stays
selectable and sharp in the PDF.

Every chart must read in black and white (reports get printed): meaning is carried by
labels, markers and dash patterns, never by colour alone. All text is escaped; output
is well-formed XML, so an XHTML parser accepts the page that embeds it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from markupsafe import Markup, escape

from auditor.durations import format_duration

FONT = "DejaVu Sans, sans-serif"
INK = "#111"
GRID = "#bbb"


@dataclass(frozen=True)
class Point:
    label: str  # shown on the x axis, e.g. "2026-10-05"
    value: float


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""  # printed in the bar, e.g. "failed"
    hollow: bool = False  # drawn as an outline: a failed or unfinished run


@dataclass(frozen=True)
class Span:
    label: str
    start: float  # seconds since the drill started
    seconds: float
    state: str  # "done", "failed", "skipped", "started"


def _num(value: float) -> str:
    """Coordinates with two decimals at most: short, and byte-stable across runs."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: float = 10,
          weight: str = "normal") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" '
            f'text-anchor="{anchor}" font-weight="{weight}" fill="{INK}">'
            f"{escape(content)}</text>")


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'font-family="{FONT}"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def nice_ceiling(value: float) -> float:
    """The axis maximum: 1, 2, 2.5 or 5 times a power of ten, at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def duration_ceiling(seconds: float) -> float:
    """An axis maximum that is round in the unit its labels print (s, min or h)."""
    if seconds <= 90:
        return nice_ceiling(seconds)
    if seconds <= 5400:
        return nice_ceiling(seconds / 60) * 60
    return nice_ceiling(seconds / 3600) * 3600


def _thin(count: int, most: int) -> set[int]:
    """Indexes of the labels to print when there is room for only `most`: evenly spread,
    always the first and the last."""
    if count <= most:
        return set(range(count))
    step = (count - 1) / (most - 1)
    return {round(i * step) for i in range(most)}


def line_chart(points: Sequence[Point], *, title: str, y_max: float = 100.0,
               unit: str = "", width: int = 680, height: int = 220) -> Markup:
    """One value per x position (one audit per point), joined by a solid line with round
    markers; every value is printed when few, else the first, last, lowest and highest."""
    left, right, top, bottom = 40, 16, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = []
    for tick in range(5):
        value = y_max * tick / 4
        y = top + plot_h - plot_h * tick / 4
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
                    f'stroke="{GRID}" stroke-width="0.5" stroke-dasharray="2,2"/>')
        body.append(_text(left - 4, y + 3, f"{value:g}{unit}", anchor="end", size=8))
    if not points:
        body.append(_text(left + plot_w / 2, top + plot_h / 2, "no data in this period",
                          anchor="middle"))
        return _svg(width, height, title, body)

    inset = 14  # keeps the first and last value labels off the axis labels

    def x_of(index: int) -> float:
        if len(points) == 1:
            return left + plot_w / 2
        return left + inset + (plot_w - 2 * inset) * index / (len(points) - 1)

    def y_of(value: float) -> float:
        clamped = min(max(value, 0.0), y_max)
        return top + plot_h - plot_h * clamped / y_max

    coords = [(x_of(i), y_of(p.value)) for i, p in enumerate(points)]
    if len(coords) > 1:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.5"/>')
    radius = 3 if len(points) <= 40 else 1.5
    for x, y in coords:
        body.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{radius}" fill="white" '
                    f'stroke="{INK}" stroke-width="1.2"/>')
    values = [p.value for p in points]
    if len(points) <= 16:
        labelled = set(range(len(points)))
    else:
        labelled = {0, len(points) - 1, values.index(min(values)), values.index(max(values))}
    for i in sorted(labelled):
        x, y = coords[i]
        body.append(_text(x, y - 6, f"{points[i].value:g}", anchor="middle", size=8,
                          weight="bold"))
    body.extend(_text(x_of(i), height - bottom + 14, points[i].label, anchor="middle", size=8)
                for i in sorted(_thin(len(points), 8)))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                f'y2="{top + plot_h}" stroke="{INK}" stroke-width="0.8"/>')
    return _svg(width, height, title, body)


def bar_chart(bars: Sequence[Bar], *, title: str, target: float | None = None,
              width: int = 680, height: int = 220) -> Markup:
    """Durations (seconds) as vertical bars, the target as a dashed line; a hollow bar
    (outline only) marks a run that failed, so the chart reads without colour."""
    left, right, top, bottom = 52, 16, 18, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = []
    highest = max([b.value for b in bars] + [target or 0.0])
    y_max = duration_ceiling(highest * 1.1)
    for tick in range(5):
        value = y_max * tick / 4
        y = top + plot_h - plot_h * tick / 4
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
                    f'stroke="{GRID}" stroke-width="0.5" stroke-dasharray="2,2"/>')
        body.append(_text(left - 4, y + 3, format_duration(value), anchor="end", size=8))
    if not bars:
        body.append(_text(left + plot_w / 2, top + plot_h / 2, "no drills in this period",
                          anchor="middle"))
        return _svg(width, height, title, body)
    slot = plot_w / len(bars)
    bar_w = min(60.0, slot * 0.6)
    for i, bar in enumerate(bars):
        x = left + slot * i + (slot - bar_w) / 2
        h = plot_h * min(bar.value, y_max) / y_max
        y = top + plot_h - h
        fill = "white" if bar.hollow else "#777"
        body.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar_w)}" '
                    f'height="{_num(h)}" fill="{fill}" stroke="{INK}" stroke-width="1"/>')
        caption = format_duration(bar.value) + (f" {bar.note}" if bar.note else "")
        body.append(_text(x + bar_w / 2, y - 4, caption, anchor="middle", size=8,
                          weight="bold"))
    body.extend(_text(left + slot * i + slot / 2, height - bottom + 14, bars[i].label,
                      anchor="middle", size=8) for i in sorted(_thin(len(bars), 10)))
    if target is not None:
        y = top + plot_h - plot_h * min(target, y_max) / y_max
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
                    f'stroke="{INK}" stroke-width="1.2" stroke-dasharray="6,3"/>')
        body.append(_text(width - right, y - 4, f"target {format_duration(target)}",
                          anchor="end", size=8))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                f'y2="{top + plot_h}" stroke="{INK}" stroke-width="0.8"/>')
    return _svg(width, height, title, body)


SPAN_FILL = {"done": "#888", "failed": "white", "skipped": "white", "started": "#ddd"}
SPAN_DASH = {"skipped": ' stroke-dasharray="3,2"'}


def timeline_chart(spans: Sequence[Span], *, title: str, target: float | None = None,
                   width: int = 680) -> Markup:
    """A drill's steps as a Gantt chart: one row per step, a bar from its start to its
    end, its duration and (unless done) its state written beside it. The dashed line
    is the target for the whole rotation."""
    row_h, left, right, top, bottom = 18, 130, 70, 14, 26
    height = top + bottom + row_h * max(len(spans), 1)
    plot_w = width - left - right
    end = max([s.start + s.seconds for s in spans] + [target or 0.0, 1.0])
    x_max = duration_ceiling(end)
    body: list[str] = []
    for tick in range(5):
        x = left + plot_w * tick / 4
        body.append(f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" '
                    f'y2="{height - bottom}" stroke="{GRID}" stroke-width="0.5" '
                    f'stroke-dasharray="2,2"/>')
        body.append(_text(x, height - bottom + 12, format_duration(x_max * tick / 4),
                          anchor="middle", size=8))
    if not spans:
        body.append(_text(left + plot_w / 2, top + row_h / 2 + 3, "no steps recorded",
                          anchor="middle"))
    for i, span in enumerate(spans):
        y = top + row_h * i
        body.append(_text(left - 6, y + row_h / 2 + 3, span.label, anchor="end", size=8))
        x = left + plot_w * span.start / x_max
        w = max(plot_w * span.seconds / x_max, 1.5)
        fill = SPAN_FILL.get(span.state, "white")
        dash = SPAN_DASH.get(span.state, "")
        body.append(f'<rect x="{_num(x)}" y="{_num(y + 3)}" width="{_num(w)}" '
                    f'height="{row_h - 6}" fill="{fill}" stroke="{INK}" stroke-width="1"'
                    f"{dash}/>")
        caption = format_duration(span.seconds)
        if span.state != "done":
            caption += f" ({span.state})"
        body.append(_text(x + w + 4, y + row_h / 2 + 3, caption, size=8))
    if target is not None:
        x = left + plot_w * min(target, x_max) / x_max
        body.append(f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{height - bottom}" '
                    f'stroke="{INK}" stroke-width="1.2" stroke-dasharray="6,3"/>')
        label = f"target {format_duration(target)}"
        if x > width - right - 60:
            body.append(_text(x - 3, top - 3, label, anchor="end", size=8))
        else:
            body.append(_text(x + 3, top - 3, label, size=8))
    return _svg(width, height, title, body)


class Shape(StrEnum):
    """The marks of the event timeline: five shapes, filled or hollow, tell ten tactics
    apart; a small dot is an event that carries none."""

    CIRCLE = "circle"
    SQUARE = "square"
    TRIANGLE = "triangle"
    DIAMOND = "diamond"
    CROSS = "cross"
    DOT = "dot"


@dataclass(frozen=True)
class Mark:
    """One event on a time axis: its row (the depth of the signing key in the leaked
    key's chain) and a shape that names its tactic in the legend."""

    moment: datetime
    row: int
    shape: Shape
    filled: bool


def _shape(shape: Shape, x: float, y: float, filled: bool, size: float = 3.6) -> str:
    fill = INK if filled else "white"
    style = f'fill="{fill}" stroke="{INK}" stroke-width="1"'
    if shape is Shape.SQUARE:
        return (f'<rect x="{_num(x - size)}" y="{_num(y - size)}" width="{_num(2 * size)}" '
                f'height="{_num(2 * size)}" {style}/>')
    if shape is Shape.TRIANGLE:
        points = f"{_num(x)},{_num(y - size * 1.2)} {_num(x - size * 1.1)},{_num(y + size)} " \
                 f"{_num(x + size * 1.1)},{_num(y + size)}"
        return f'<polygon points="{points}" {style}/>'
    if shape is Shape.DIAMOND:
        points = (f"{_num(x)},{_num(y - size * 1.3)} {_num(x + size * 1.3)},{_num(y)} "
                  f"{_num(x)},{_num(y + size * 1.3)} {_num(x - size * 1.3)},{_num(y)}")
        return f'<polygon points="{points}" {style}/>'
    if shape is Shape.DOT:
        return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(size / 2)}" fill="{INK}"/>'
    if shape is Shape.CROSS:
        return (f'<path d="M{_num(x - size)},{_num(y - size)} L{_num(x + size)},{_num(y + size)} '
                f'M{_num(x - size)},{_num(y + size)} L{_num(x + size)},{_num(y - size)}" '
                f'stroke="{INK}" stroke-width="{1.8 if filled else 1}"/>')
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(size)}" {style}/>'


def _time_ticks(start: datetime, end: datetime, count: int = 5) -> list[tuple[float, str]]:
    """Evenly spaced ticks as (fraction of the axis, label); a span over a day prints
    dates and times, a shorter one times only."""
    span = (end - start).total_seconds()
    fmt = "%m-%d %H:%M" if span > 86400 else "%H:%M"
    return [(i / (count - 1), (start + timedelta(seconds=span * i / (count - 1)))
             .astimezone(UTC).strftime(fmt)) for i in range(count)]


def event_timeline(marks: Sequence[Mark], *, rows: Sequence[str],
                   legend: Sequence[tuple[str, Shape, bool]], title: str, note: str = "",
                   width: int = 680) -> Markup:
    """Events over time, one mark per event (twins at the same point drawn once): a row
    per depth in the chain (the leaked key on top), the mark's shape and fill naming its
    tactic (`legend`: label, shape, filled), so that the chart reads in black and white.
    `note` is printed under the axis (the usual traffic, counted rather than drawn)."""
    row_h, left, right, top = 26, 120, 16, 10
    legend_rows = math.ceil(len(legend) / 3)
    plot_h = row_h * max(len(rows), 1)
    axis_y = top + plot_h
    height = axis_y + 22 + (14 if note else 0) + 16 * legend_rows + 6
    plot_w = width - left - right
    body: list[str] = []
    for i, label in enumerate(rows):
        y = top + row_h * i + row_h / 2
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
                    f'stroke="{GRID}" stroke-width="0.5" stroke-dasharray="2,2"/>')
        body.append(_text(left - 6, y + 3, label, anchor="end", size=8))
    body.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" '
                f'stroke="{INK}" stroke-width="0.8"/>')
    if not marks:
        body.append(_text(left + plot_w / 2, top + plot_h / 2, "no suspicious event",
                          anchor="middle"))
    else:
        start = min(mark.moment for mark in marks)
        end = max(mark.moment for mark in marks)
        if end - start < timedelta(minutes=1):
            start, end = start - timedelta(seconds=30), end + timedelta(seconds=30)
        span = (end - start).total_seconds()
        inset = 8

        def x_of(moment: datetime) -> float:
            return left + inset + (plot_w - 2 * inset) * (moment - start).total_seconds() / span

        for fraction, label in _time_ticks(start, end):
            x = left + inset + (plot_w - 2 * inset) * fraction
            body.append(f'<line x1="{_num(x)}" y1="{axis_y}" x2="{_num(x)}" '
                        f'y2="{axis_y + 3}" stroke="{INK}" stroke-width="0.8"/>')
            body.append(_text(x, axis_y + 13, label, anchor="middle", size=8))
        drawn: set[str] = set()
        for mark in sorted(marks, key=lambda m: (m.moment, m.row, m.shape)):
            row = min(max(mark.row, 0), max(len(rows) - 1, 0))
            # to the half pixel: a 7-pixel mark moved by less is the same mark
            x = round(x_of(mark.moment) * 2) / 2
            shape = _shape(mark.shape, x, top + row_h * row + row_h / 2, mark.filled)
            if shape not in drawn:  # a mark on top of its twin adds bytes, not ink
                drawn.add(shape)
                body.append(shape)
    y = axis_y + 22
    if note:
        body.append(_text(left, y + 4, note, size=8))
        y += 14
    column_w = plot_w / 3
    for i, (label, shape, filled) in enumerate(legend):
        x = left + column_w * (i % 3)
        line_y = y + 16 * (i // 3) + 6
        body.append(_shape(shape, x + 4, line_y - 3, filled))
        body.append(_text(x + 12, line_y, label, size=8))
    return _svg(width, height, title, body)
