"""How a duration reads, everywhere irready prints one: the terminal, the drill's own
outcome sentence, the HTML and PDF reports and their charts. One function, so that a
drill that took 100 seconds reads "1.7 min" in every place it is shown."""

from __future__ import annotations


def _short(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def format_duration(seconds: float) -> str:
    """"42 s", "3.5 min", "2 h", "13.7 days": short enough for a chart label. Under ten
    seconds a tenth shows, or a 0.3 s rotation reads "0 s" and three of them "1 s"."""
    if seconds < 9.95 and round(seconds, 1) != round(seconds):
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{_short(seconds / 60)} min"
    if seconds < 172800:
        return f"{_short(seconds / 3600)} h"
    return f"{_short(seconds / 86400)} days"


def duration(seconds: float | None) -> str:
    """`format_duration`, or "-" when nothing was measured."""
    return "-" if seconds is None else format_duration(seconds)
