"""The detection drill, end to end: check the canary and the sources (read-only), then,
journaled and holding the canary's drill lock, create the temporary key, wait until AWS
accepts it (a call signed with a key AWS does not know yet is not logged in the
account), replay the sequence, delete the key, and poll the sources until every call is
visible or the timeout passes. The key lives for seconds and is deleted on every path:
a failure, an exception, Ctrl-C; if even the deletion fails, the drill is left
INTERRUPTED and `drill resume|rollback ID` deletes it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from auditor.errors import AwsUnavailable
from drills.detect.canary import validate_canary
from drills.detect.guardduty import find_detectors
from drills.detect.journal import DetectJournal, KeyState
from drills.detect.keys import temporary_key
from drills.detect.model import (
    RELIED_ON,
    DetectOptions,
    DetectResult,
    DetectSource,
    DetectStatus,
    Replayed,
    SourceResult,
)
from drills.detect.replay import key_clients, replay, user_agent
from drills.detect.sources import SourceChoice, resolve
from drills.detect.visibility import results, watch
from drills.engine.aws import AWS_ERRORS, describe_error
from drills.errors import DrillUnfinished
from drills.journal import user_lock
from drills.verify import wait_accepted

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

# what a simulated delivery gets: the key id, the calls as made, the drill's user agent
Delivery = Callable[[str, tuple[Replayed, ...], str], None]
Now = Callable[[], datetime]


def new_detect_id(at: datetime) -> str:
    return f"detect-{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass
class _Clock:
    """Wall time for the record; the time spent sleeping, to tell the drill's own
    overhead from its waiting."""

    sleep: Callable[[float], None]
    slept: float = 0.0

    def pause(self, seconds: float) -> None:
        start = time.monotonic()
        self.sleep(seconds)
        self.slept += time.monotonic() - start


def seen_seconds(sources: tuple[SourceResult, ...], calls: int) -> float | None:
    """Seconds until every call was visible in some source the playbook relies on (each
    call counted from the first source to show it); None when one never was. Athena is
    not one: it reads the trail's files, and is asked only once they show the calls."""
    relied = [s for s in sources if s.source in RELIED_ON]
    firsts = []
    for index in range(calls):
        seen = [s.sightings[index].seen_after for s in relied
                if s.sightings[index].seen_after is not None]
        if not seen:
            return None
        firsts.append(min(x for x in seen if x is not None))
    return max(firsts) if firsts else None


def run_detect(ctx: AwsContext, config: Config, store: HistoryStore, options: DetectOptions,
               choices: tuple[SourceChoice, ...], *, sleep: Callable[[float], None] = time.sleep,
               now: Now = lambda: datetime.now(UTC), delivery: Delivery | None = None,
               say: Callable[[str], None] = lambda _: None) -> DetectResult:
    """Run a detection drill. Bad input raises UsageError and AWS refusals AwsUnavailable
    before any key exists; a key that never worked is a FAILED result; Ctrl-C raises
    DrillUnfinished after the key is deleted and what was seen is stored."""
    from drills.detect.jsonform import document_text

    clock = _Clock(sleep)
    begun = time.monotonic()
    identity = ctx.identity()
    canary = validate_canary(ctx, config, options.user)
    started = now()
    guardduty = find_detectors(ctx) \
        if any(c.source is DetectSource.GUARDDUTY for c in choices) else None
    athena = any(c.source is DetectSource.ATHENA for c in choices)
    latest = store.latest_snapshot(identity.account_id) if athena else None
    watched, notes = resolve(ctx, identity.account_id, choices, started,
                             started.replace(microsecond=0) + _seconds(options.timeout),
                             None if latest is None else latest[1])
    drill_id = new_detect_id(started)
    agent = user_agent(drill_id)
    iam = ctx.client("iam")
    replayed: tuple[Replayed, ...] = ()
    key_id = ""

    def finish(status: DetectStatus, outcome: str, sources: tuple[SourceResult, ...],
               journal: DetectJournal) -> DetectResult:
        result = DetectResult(
            drill_id=drill_id, account_id=identity.account_id, user=canary.name,
            key_id=key_id, user_agent=agent, started_at=started, finished_at=now(),
            status=status, options=options, replayed=replayed, sources=sources,
            key_deleted=journal.key_state in (KeyState.DELETED, KeyState.NONE),
            outcome=outcome, notes=tuple(notes),
            guardduty=None if guardduty is None else guardduty.as_dict(
                replayed[0].at if replayed else None),
            overhead_seconds=round(time.monotonic() - begun - clock.slept, 3))
        store.finish_detect_drill(drill_id, status.value, result.finished_at,
                                  document_text(result),
                                  seen_seconds(sources, len(replayed))
                                  if status is DetectStatus.SEEN else None)
        return result

    with user_lock(store, identity.account_id, canary.name, f"detection drill {drill_id}"):
        journal = DetectJournal.begin(
            store, drill_id=drill_id, account_id=identity.account_id, user=canary.name,
            started_at=started, keys_before=canary.keys_before,
            extra={"kind": "detect", "user_agent": agent})
        try:
            with temporary_key(iam, canary.name, journal, clock.pause) as key:
                key_id = key.key_id
                say(f"created the temporary key {key_id}; waiting until AWS accepts it")
                accepted = wait_accepted(ctx, key, canary.arn, options.propagation_timeout,
                                         clock.pause)
                if accepted.ok:
                    replayed = replay(options.sequence, key_clients(ctx, key, drill_id), now)
            say(f"deleted the temporary key {key_id}")
        except KeyboardInterrupt:
            finish(DetectStatus.INTERRUPTED, "cut off before the replay ended", (), journal)
            raise DrillUnfinished(_cut_off(drill_id, journal)) from None
        except AWS_ERRORS as exc:
            if journal.key_state is KeyState.DELETED or journal.key_state is KeyState.NONE:
                finish(DetectStatus.FAILED, f"failed: {describe_error(exc)}", (), journal)
                raise AwsUnavailable(f"{describe_error(exc)}; the detection drill needs the "
                                     "policy that `irready policy detect` prints") from None
            finish(DetectStatus.INTERRUPTED, journal.cleanup_error or describe_error(exc),
                   (), journal)
            raise DrillUnfinished(_cut_off(drill_id, journal)) from None
        if not replayed:
            return finish(DetectStatus.FAILED,
                          f"the temporary key was not accepted within "
                          f"{options.propagation_timeout:g} s ({accepted.tries}, last answer "
                          f"{accepted.last}): nothing was replayed; the key was deleted",
                          (), journal)
        say(f"replayed {len(replayed)} calls; watching "
            + ", ".join(w.location for w in watched))
        try:
            if delivery is not None:
                delivery(key_id, replayed, agent)
            sources = watch(watched, replayed, key_id, identity.account_id, agent,
                            timeout=options.timeout, poll=options.poll, now=now,
                            sleep=clock.pause,
                            also=None if guardduty is None else
                            lambda moment: guardduty.poll(key_id, moment))
        except KeyboardInterrupt:
            finish(DetectStatus.INTERRUPTED, "cut off while polling (the temporary key "
                   "was already deleted): what was seen until then is kept",
                   results(watched, replayed), journal)
            raise DrillUnfinished(_cut_off(drill_id, journal)) from None
        if seen_seconds(sources, len(replayed)) is not None:
            return finish(DetectStatus.SEEN, "every replayed call was seen within "
                          f"{options.timeout:g} s", sources, journal)
        return finish(DetectStatus.NOT_SEEN, "some replayed calls were not seen within "
                      f"{options.timeout:g} s in any source", sources, journal)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _cut_off(drill_id: str, journal: DetectJournal) -> str:
    if journal.key_state is KeyState.DELETED:
        return (f"detection drill {drill_id} was cut off; its temporary key was deleted. "
                f"`irready drill rollback {drill_id}` closes it")
    return (f"detection drill {drill_id} was cut off and its temporary key may still exist "
            f"({journal.cleanup_error or 'the drill stopped before deleting it'}): run "
            f"`irready drill rollback {drill_id}` to delete it")
