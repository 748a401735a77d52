"""A simulated CloudTrail delivery for detection drills against moto, which logs
nothing: the replayed calls written, after a delay, as the records CloudTrail would
write (the key, the caller, the user agent with the drill id, the denial), into a
trail's bucket in the real file layout, and/or into a fake event history. The demo and
the tests use it; the demo says it is a simulation."""

from __future__ import annotations

import threading
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field
from typing import Any

from demo.cloudtrail_files import group_into_files, log_key, write_to_s3
from demo.cloudtrail_records import SDK_AGENT, event, iam_user
from drills.detect.model import Replayed

DENIED = "User is not authorized to perform this action"


def records_for(key_id: str, replayed: tuple[Replayed, ...], agent: str, *, account: str,
                user: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    principal = iam_user(user, account)
    return [
        event(r.call.operation, r.call.service, r.at, principal=principal, key=key_id,
              region=region, agent=f"{SDK_AGENT} {agent}",
              request=dict(r.call.parameters) or None,
              error=None if r.outcome == "ok" else (r.outcome, DENIED))
        for r in replayed]


@dataclass
class SimulatedDelivery:
    """Delivers the replayed calls `delay` seconds after the replay (never, with
    delay None): to `bucket` through `s3` when given, and appended to `history` (an
    event history's records, such as tests' FakeEventHistory) when given."""

    account: str
    user: str
    delay: float | None
    s3: Any = None
    bucket: str = ""
    prefix: str = ""
    history: MutableSequence[dict[str, Any]] | None = None
    timers: list[threading.Timer] = field(default_factory=list)
    delivered: threading.Event = field(default_factory=threading.Event)

    def __call__(self, key_id: str, replayed: tuple[Replayed, ...], agent: str) -> None:
        if self.delay is None:
            return
        records = records_for(key_id, replayed, agent, account=self.account, user=self.user)
        timer = threading.Timer(self.delay, self._deliver(records))
        timer.daemon = True
        self.timers.append(timer)
        timer.start()

    def _deliver(self, records: list[dict[str, Any]]) -> Callable[[], None]:
        def deliver() -> None:
            if self.s3 is not None:
                for account, region, delivered, batch in group_into_files(records):
                    write_to_s3(self.s3, self.bucket,
                                log_key(account, region, delivered, prefix=self.prefix), batch)
            if self.history is not None:
                self.history.extend(records)
            self.delivered.set()
        return deliver

    def cancel(self) -> None:
        for timer in self.timers:
            timer.cancel()
