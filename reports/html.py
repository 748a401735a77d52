"""The Jinja2 environment every HTML and PDF report renders through. One template tree
serves both: the PDF is the HTML printed by weasyprint, whose `@page` rules browsers
ignore. `StrictUndefined` makes a misspelled variable an error instead of an empty
cell, and autoescape turns any AWS-sourced text (a resource name, a message) into
text, never markup. Templates write XHTML-compatible markup, so the output parses as
XML as well as HTML."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from auditor.durations import duration


def utc(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime(fmt)


def day(moment: datetime | None) -> str:
    return utc(moment, "%Y-%m-%d")


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def css_string(text: str) -> Markup:
    """A quoted CSS string for `content:`. Anything but letters, digits and a few safe
    marks becomes a CSS escape, so the text can neither end the string nor the style
    element, and reads the same whether the page is parsed as HTML or as XML."""
    safe = " -_.,:/()"
    body = "".join(c if (c.isalnum() and c.isascii()) or c in safe else f"\\{ord(c):x} "
                   for c in text)
    return Markup(f'"{body}"')


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(utc=utc, day=day, duration=duration, plural=plural, css_string=css_string)
    return env


def render_html(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
