"""The compliance report's "When a key did leak" section: each containment of the period
(`irready contain run`), its time to safe beside the drills' rehearsed times, and how it
went about it. Read from the journal the containment stored; key ids only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from auditor.durations import duration
from auditor.store import ContainmentRecord


@dataclass(frozen=True)
class ContainmentView:
    containment_id: str
    started_at: datetime
    user: str
    key_id: str
    status: str
    safe_seconds: float | None
    how: str  # "rotated first", "blocked at once (no rotation target)"
    extras: str  # what else it did: sessions revoked, quarantine, follow-ups
    outcome: str
    drill_id: str  # the rotation the drill engine ran for it ("" when none)


def containment_views(records: Sequence[ContainmentRecord]) -> tuple[ContainmentView, ...]:
    """Oldest first, as the drills."""
    return tuple(_view(r) for r in sorted(records, key=lambda r: (r.started_at,
                                                                  r.containment_id)))


def containment_answer(views: Sequence[ContainmentView]) -> str:
    if not views:
        return "No leaked key was contained with irready in this period."
    safe = [v for v in views if v.safe_seconds is not None]
    unsafe = len(views) - len(safe)
    left = (f" {unsafe} containment(s) did not reach safe: see the table."
            if unsafe else "")
    if not safe:
        return f"{len(views)} containment(s) ran; none made the exposed key safe.{left}"
    last = safe[-1]
    return (f"{len(views)} containment(s) ran. The latest that reached safe "
            f"({last.containment_id}, {last.started_at:%Y-%m-%d}) made {last.key_id} "
            f"inactive in {duration(last.safe_seconds)} from its start, "
            f"{last.how}.{left}")


def _view(record: ContainmentRecord) -> ContainmentView:
    actions = {str(a.get("name")): a for a in record.journal.get("actions", ())
               if isinstance(a, dict)}
    done = {name for name, a in actions.items() if a.get("state") == "done"}
    options = record.journal.get("options") or {}
    if "rotate" in actions:
        how = "rotated before it blocked"
    elif "block" in actions:
        how = "blocked at once, without rotating (--block-now)"
    else:
        how = "nothing rotated or blocked yet"
    extras = [what for name, what in (
        ("revoke_sessions", "earlier sessions revoked"),
        ("revoke_role", "role sessions revoked"),
        ("quarantine", "quarantine policy attached"),
        ("deactivate_follow_up_key", "backdoor keys deactivated"),
        ("delete_login_profile", "backdoor console access removed"),
        ("deactivate_backdoor", "a second key deactivated first"),
    ) if name in done]
    if options.get("revoke_sessions") and "revoke_sessions" not in done:
        extras.append("sessions NOT revoked yet")
    detail = (actions.get("rotate") or {}).get("detail") or {}
    return ContainmentView(
        containment_id=record.containment_id, started_at=record.started_at,
        user=record.user, key_id=record.key_id, status=record.status,
        safe_seconds=record.safe_seconds, how=how, extras=", ".join(extras) or "none",
        outcome=str(record.journal.get("outcome") or ""),
        drill_id=str(detail.get("drill_id") or "") if isinstance(detail, dict) else "")
