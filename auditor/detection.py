"""The answer to "could we see what the attacker did?", from the detection drills the
history store keeps: one function, so the compliance report and the playbook never
word (or compute) it twice. Only drills that measured something count: every call seen
(SEEN) or not within the timeout (NOT_SEEN); a drill that replayed nothing or was cut
off measured nothing."""

from __future__ import annotations

from collections.abc import Sequence

from auditor.durations import duration
from auditor.store import DetectDrillRecord

MEASURED = ("SEEN", "NOT_SEEN")


def measured(records: Sequence[DetectDrillRecord]) -> list[DetectDrillRecord]:
    """The drills that measured something, newest first."""
    return sorted((r for r in records if r.status in MEASURED),
                  key=lambda r: (r.started_at, r.drill_id), reverse=True)


def detection_answer(records: Sequence[DetectDrillRecord]) -> str:
    """One or two sentences: the latest figure, and the one before it."""
    done = measured(records)
    if not done:
        return ("No detection drill ran, so nobody checked that a leaked key's calls reach "
                "the logs. Run `irready drill detect` with a canary user.")
    latest = done[0]
    day = f"{latest.started_at:%Y-%m-%d}"
    if latest.status == "SEEN" and latest.seen_seconds is not None:
        answer = (f"Yes: in the latest detection drill ({day}), every call of the story "
                  f"was visible in the logs after {duration(latest.seen_seconds)}.")
    else:
        answer = (f"No: in the latest detection drill ({day}), some calls of the story were "
                  "not visible in event history or the trail's files within the timeout.")
    if len(done) > 1:
        before = done[1]
        answer += (f" The drill before ({before.started_at:%Y-%m-%d}): "
                   + (f"every call visible after {duration(before.seen_seconds)}."
                      if before.status == "SEEN" and before.seen_seconds is not None
                      else "not every call was visible."))
    return answer


def logs_show_after(records: Sequence[DetectDrillRecord]) -> str:
    """The playbook's quote: "our logs show a key's calls after about N minutes", or ""
    when no detection drill saw every call."""
    done = measured(records)
    if not done or done[0].status != "SEEN" or done[0].seen_seconds is None:
        return ""
    minutes = max(1, round(done[0].seen_seconds / 60))
    return (f"Our logs show a key's calls after about {minutes} minute"
            f"{'' if minutes == 1 else 's'} (detection drill {done[0].drill_id}, "
            f"{done[0].started_at:%Y-%m-%d}).")
