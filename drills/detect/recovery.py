"""`irready drill resume|rollback ID` for a detection drill that was cut off: there is
nothing to go on with (a replay is only worth timing from its start), so both delete
whatever key the drill may have left (the journaled one, and any key of the canary that
was not there before) and close the drill."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from auditor.errors import AwsUnavailable, UsageError
from drills.detect.journal import DetectJournal
from drills.detect.keys import delete_drill_keys
from drills.detect.model import DetectStatus
from drills.engine.aws import AWS_ERRORS, describe_error
from drills.errors import DrillBusy
from drills.journal import lock_holder, user_lock

if TYPE_CHECKING:
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

OPEN = frozenset({DetectStatus.RUNNING.value, DetectStatus.INTERRUPTED.value})


def close_detect_drill(ctx: AwsContext, store: HistoryStore, drill_id: str) -> str:
    """Delete what the drill left and close it; one sentence saying what was done."""
    record = store.load_detect_drill(drill_id)
    if record.status not in OPEN:
        raise UsageError(f"detection drill {drill_id} is {record.status}: nothing to resume "
                         "or roll back")
    holder = lock_holder(store, record.account_id, record.user)
    if record.status == DetectStatus.RUNNING.value and holder is not None:
        raise DrillBusy(f"detection drill {drill_id} is running now ({holder}); wait for it "
                        "to end")
    with user_lock(store, record.account_id, record.user, f"closing {drill_id}"):
        journal = DetectJournal.reopen(store, drill_id)
        try:
            deleted = delete_drill_keys(ctx.client("iam"), record.user, journal)
        except AWS_ERRORS as exc:
            raise AwsUnavailable(f"the temporary key of {drill_id} could not be deleted "
                                 f"({describe_error(exc)}); the drill stays open") from None
        store.finish_detect_drill(drill_id, DetectStatus.CLOSED.value, datetime.now(UTC),
                                  None)
    if deleted:
        return f"deleted the temporary key {', '.join(deleted)}; detection drill closed"
    return "no key of the drill was left; detection drill closed"
