"""The containment lock of one key: one containment of a key at a time, its own lock
and not the user's (the drill engine takes the user's lock for the rotation), and a
containment left RUNNING without its lock was cut off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.errors import Locked
from auditor.store import ContainmentRecord
from drills.errors import DrillBusy
from drills.journal import lock_holder, user_lock
from incident.contain.model import ContainStatus

if TYPE_CHECKING:
    from auditor.store import HistoryStore


def lock_name(key_id: str) -> str:
    # its own lock, not the user's: the drill engine takes the user's lock for the rotation
    return f"contain-{key_id}"


def is_cut_off(store: HistoryStore, record: ContainmentRecord) -> bool:
    return record.status == ContainStatus.RUNNING.value and \
        lock_holder(store, record.account_id, lock_name(record.key_id)) is None


def refuse_unfinished(store: HistoryStore, account_id: str, key_id: str) -> None:
    for earlier in store.containments(account_id=account_id, key_id=key_id):
        if ContainStatus(earlier.status).unfinished:
            raise Locked(f"containment {earlier.containment_id} of {key_id} is unfinished "
                         f"({earlier.status}): run `irready contain resume "
                         f"{earlier.containment_id}` first")


class ContainmentLock:
    """The containment lock of one key (a context manager)."""

    def __init__(self, store: HistoryStore, account_id: str, key_id: str, holder: str) -> None:
        self._inner = user_lock(store, account_id, lock_name(key_id),
                                f"containment {holder}")
        self.key_id = key_id

    def __enter__(self) -> None:
        try:
            self._inner.__enter__()
        except DrillBusy:
            raise Locked(f"another containment of {self.key_id} is running now; wait for "
                         "it to end") from None

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[arg-type]
