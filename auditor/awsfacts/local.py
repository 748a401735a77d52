"""Facts that come from the history store rather than AWS: past drills, the latest
playbook written."""

from __future__ import annotations

from auditor.facts import FactError, Facts, fact
from auditor.store import DetectDrillRecord, DrillRecord, PlaybookRecord


@fact("history.drills")
def DRILLS(facts: Facts) -> tuple[DrillRecord, ...]:
    """This account's drills, newest first."""
    if facts.history is None:
        raise FactError("history.drills", "NoHistory",
                        "no history store is open (audit run with --no-history)")
    return tuple(facts.history.drills(account_id=facts.account_id))


@fact("history.playbook")
def PLAYBOOK(facts: Facts) -> PlaybookRecord | None:
    """The newest playbook `irready playbook` wrote for this account; None: none yet."""
    if facts.history is None:
        raise FactError("history.playbook", "NoHistory",
                        "no history store is open (audit run with --no-history)")
    return facts.history.latest_playbook(facts.account_id)


@fact("history.detect_drills")
def DETECT_DRILLS(facts: Facts) -> tuple[DetectDrillRecord, ...]:
    """This account's detection drills, newest first."""
    if facts.history is None:
        raise FactError("history.detect_drills", "NoHistory",
                        "no history store is open (audit run with --no-history)")
    return tuple(facts.history.detect_drills(account_id=facts.account_id))
