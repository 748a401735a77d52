"""What a failing check means for the business, in words a manager reads without a
glossary. The executive summary of the compliance report names the three biggest
risks with these sentences. Each check carries its sentence (`@check(plain=...)`);
a check that has none (a third-party check) falls back to its title."""

from __future__ import annotations

import functools
from collections.abc import Mapping


@functools.cache
def _sentences() -> Mapping[str, str]:
    """Each known check's plain-words sentence, from the registry."""
    from auditor.errors import UsageError
    from auditor.registry import discover

    try:
        registry = discover()
    except UsageError:  # a broken plugin must not take the built-in sentences with it
        registry = discover(plugins=False)
    return {item.id: item.plain for item in registry if item.plain}


def risk_sentence(check_id: str, title: str, affected: int) -> str:
    template = _sentences().get(check_id)
    if template is None:
        return f"Not yet true: {title.rstrip('.')} ({affected} affected)."
    return template.replace("{n}", str(affected))
