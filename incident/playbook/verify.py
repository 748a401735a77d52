"""`irready playbook --verify FILE`: does the committed playbook still say what the
account is? Only the facts (everything above the status section) are compared; the
differences are summarised by section: lines added and removed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from incident.playbook.markdown import STATUS_HEADING


@dataclass(frozen=True, slots=True)
class SectionChange:
    section: str  # the heading the changed lines are under
    added: tuple[str, ...]
    removed: tuple[str, ...]


def facts_of(text: str) -> str:
    """The text above the status heading (all of it when there is none)."""
    at = text.find(f"\n{STATUS_HEADING}")
    return text if at < 0 else text[: at + 1]


def _section_of(lines: list[str], index: int) -> str:
    return next((line.lstrip("#").strip() for line in reversed(lines[:index + 1])
                 if line.startswith("#") and not line.startswith("#!")), "(top)")


def compare(committed: str, fresh: str) -> tuple[SectionChange, ...]:
    """What changed from `committed` to `fresh`, facts only; () when they match."""
    old, new = facts_of(committed).splitlines(), facts_of(fresh).splitlines()
    changes: dict[str, tuple[list[str], list[str]]] = {}
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        where = _section_of(new, j1) if j2 > j1 else _section_of(old, i1)
        added, removed = changes.setdefault(where, ([], []))
        added += [line for line in new[j1:j2] if line.strip()]
        removed += [line for line in old[i1:i2] if line.strip()]
    return tuple(SectionChange(section, tuple(added), tuple(removed))
                 for section, (added, removed) in changes.items() if added or removed)


def summary(changes: tuple[SectionChange, ...], limit: int = 3) -> list[str]:
    """A few lines a person reads in a CI log or a notification."""
    lines = []
    for change in changes:
        lines.append(f"{change.section}: {len(change.added)} line(s) added, "
                     f"{len(change.removed)} removed")
        lines += [f"  + {line}" for line in change.added[:limit]]
        lines += [f"  - {line}" for line in change.removed[:limit]]
    return lines


def as_dict(changes: tuple[SectionChange, ...]) -> dict[str, object]:
    return {"schema": "irready.playbook-verify/1", "matches": not changes,
            "changes": [{"section": c.section, "added": list(c.added),
                         "removed": list(c.removed)} for c in changes]}
