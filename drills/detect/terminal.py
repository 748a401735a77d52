"""A detection drill for a person: what was replayed, and per source how long until
each call was visible (or "not seen within the timeout")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.detect.model import DetectResult, DetectSource

if TYPE_CHECKING:
    from rich.console import Console


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "not seen"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def print_detect(console: Console, result: DetectResult) -> None:
    from rich.table import Table

    console.print(f"Detection drill {result.drill_id} of {result.user} "
                  f"({result.account_id}): {result.status}", markup=False, highlight=False)
    console.print(result.outcome, markup=False, highlight=False)
    key = "deleted" if result.key_deleted else "NOT deleted"
    console.print(f"temporary key {result.key_id or '(none)'}: {key}; user agent "
                  f"{result.user_agent}", markup=False, highlight=False)
    if result.replayed:
        table = Table("call", "answer", *(s.location for s in result.sources),
                      title=f"Time to visible (timeout {result.options.timeout:g} s, polled "
                            f"every {result.options.poll:g} s)")
        for index, replayed in enumerate(result.replayed):
            table.add_row(replayed.call.label, replayed.outcome,
                          *(minutes(s.sightings[index].seen_after) for s in result.sources))
        console.print(table)
    for source in result.sources:
        console.print(f"{source.source} ({source.location}): first call after "
                      f"{minutes(source.first_seconds)}, last after "
                      f"{minutes(source.last_seconds)}, {source.polls} polls",
                      markup=False, highlight=False)
        if source.source is DetectSource.ATHENA:
            queries = ", ".join(f"{q.query_id} ({q.bytes_scanned:,} bytes, "
                                f"${q.cost_usd:.4f})" for q in source.queries) or "none"
            console.print(f"  not counted for the result; queries: {queries}; total "
                          f"{source.bytes_scanned:,} bytes scanned, ${source.cost_usd:.4f}",
                          markup=False, highlight=False)
        for note in source.notes:
            console.print(f"  note: {note}", markup=False, highlight=False)
    if result.guardduty is not None:
        found = result.guardduty["finding_ids"]
        console.print("GuardDuty: " + (f"finding {', '.join(found)} named the key after "
                                       f"{minutes(result.guardduty['seen_after_seconds'])}"
                                       if found else "no finding named the key while the "
                                       "drill watched (expected: " +
                                       result.guardduty["expected"] + ")"),
                      markup=False, highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
