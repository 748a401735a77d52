"""The drill's run: one object holding its target, its keys (in memory only) and its
journal, and the small engine that walks the table of steps (`steps.STEPS`), journals
each step before it acts and after it ends, and on a failure before the point of no
return walks the undos (`steps.ROLLBACK`). A failure after it is recorded, never undone:
the application already runs on the new key."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, overload

from auditor.clock import utcnow
from auditor.redact import Redactor, redacted_logs
from auditor.store import DrillRecord
from drills.engine.aws import describe_error, error_code
from drills.engine.preflight import (
    check_options,
    finish_preflight,
    lookup_user,
    normalize_user,
    preflight,
)
from drills.engine.state import DrillState, StepFailure
from drills.engine.steps import ROLLBACK, Action, steps_from
from drills.errors import DrillUnfinished, StepFailed
from drills.journal import Journal, user_lock
from drills.model import (
    AccessKey,
    DrillOptions,
    DrillStatus,
    OldKeyCheck,
    StepName,
    StepState,
)
from drills.targets import Target, TargetEnv, parse_target
from drills.verify import Sleep

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class StepEvent:
    """Sent to `on_event` as each step starts and ends (the CLI prints these)."""

    drill_id: str
    seq: int
    step: StepName
    state: StepState
    seconds: float | None = None
    note: str = ""


EventHook = Callable[[StepEvent], None]


def new_drill_id(at: datetime) -> str:
    return f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class Drill:
    """One drill: its target, its keys (in memory), its journal."""

    def __init__(self, ctx: AwsContext, config: Config, store: HistoryStore,
                 options: DrillOptions, *, clock: Clock | None = None,
                 on_event: EventHook | None = None, sleep: Sleep = time.sleep) -> None:
        self.ctx = ctx
        self.config = config
        self.store = store
        self.options = options
        self.clock = clock or utcnow
        self.on_event = on_event
        self.sleep = sleep
        self.redactor = Redactor()
        self.target: Target = parse_target(options.target, TargetEnv(
            ctx, config.drill.secret_id_field, config.drill.secret_key_field,
            options.command_timeout, self.redactor))
        self.old: AccessKey | None = None
        self.new: AccessKey | None = None
        self.journal: Journal | None = None
        self._base = (self.clock(), time.monotonic())

    # -- what every step uses --------------------------------------------------------------

    def now(self) -> datetime:
        """The drill's clock: wall time (or a simulated one) advanced by monotonic time."""
        wall, mono = self._base
        return wall + timedelta(seconds=time.monotonic() - mono)

    def emit(self, seq: int, step: StepName, state: StepState, seconds: float | None = None,
             note: str = "") -> None:
        if self.on_event is not None:
            self.on_event(StepEvent(self.j.drill_id, seq, step, state, seconds, note))

    @overload
    def remember(self, key: AccessKey) -> AccessKey: ...
    @overload
    def remember(self, key: AccessKey | None) -> AccessKey | None: ...
    def remember(self, key: AccessKey | None) -> AccessKey | None:
        """Teach the redactor a secret before anything could print it."""
        if key is not None:
            self.redactor.add(key.secret)
        return key

    @property
    def iam(self) -> Any:
        return self.ctx.client("iam")

    @property
    def j(self) -> Journal:
        assert self.journal is not None, "the drill has not begun"
        return self.journal

    @property
    def user(self) -> str:
        return normalize_user(self.options.user)

    def target_state(self) -> dict[str, str]:
        return dict(self.j.state.target_state)

    def delete_key(self, key_id: str) -> None:
        try:
            self.iam.delete_access_key(UserName=self.user, AccessKeyId=key_id)
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise

    def cleanup_target(self) -> None:
        try:
            self.target.cleanup(self.target_state())
        except OSError as exc:
            self.j.state.cleanup_error = self.redactor.redact(str(exc))
            self.j.save()

    def status(self) -> DrillStatus:
        return self.store.load_drill(self.j.drill_id).status

    # -- the run -------------------------------------------------------------------------

    def run(self) -> DrillRecord:
        """Preflight, then every step; a drill that cannot start raises and records nothing."""
        started_at = self.now()
        with redacted_logs(self.redactor):
            check_options(self.options)
            user = self.user
            identity = self.ctx.identity()
            lookup_user(self, identity, user)  # before the lock: a typo leaves no lock file
            drill_id = new_drill_id(started_at)
            with user_lock(self.store, identity.account_id, user, f"drill {drill_id}"):
                plan = preflight(self, identity, locked=True)
                self.journal = Journal.begin(
                    self.store, drill_id=drill_id, account_id=plan.account_id, user=plan.user,
                    target=plan.target, started_at=started_at,
                    target_seconds=self.config.audit.rotation_target_minutes * 60.0,
                    state=DrillState(options=self.options, user_arn=plan.user_arn,
                                     caller_arn=plan.caller_arn, old_key_id=plan.old_key_id,
                                     keys_before=[k.key_id for k in plan.keys],
                                     target_kind=self.target.kind),
                )
                with self.flag_on_error():
                    seq = self.j.start(StepName.PREFLIGHT, started_at)
                    self.emit(seq, StepName.PREFLIGHT, StepState.STARTED)
                    finish_preflight(self, seq, plan, started_at)
                    self.execute(StepName.CREATE_KEY)
        return self.store.load_drill(drill_id)

    @contextmanager
    def flag_on_error(self) -> Iterator[None]:
        """An error no step caught (a bug, a full disk) must not leave the drill looking
        alive: it becomes NEEDS_ATTENTION, and the error goes on. Ctrl-C between steps
        becomes INTERRUPTED, as within one."""
        try:
            yield
        except KeyboardInterrupt:
            if self.status() is DrillStatus.RUNNING:
                self.interrupted()
            raise
        except Exception:
            if self.status() is DrillStatus.RUNNING:
                self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            raise

    def execute(self, first: StepName) -> None:
        """Walk the table from `first`; on failure roll back (before the point of no
        return) or record it (after)."""
        if self.status() is not DrillStatus.RUNNING:
            return
        try:
            for step in steps_from(first):
                self.step(step.name, step.run)
        except StepFailed as failure:
            self.j.state.failure = StepFailure(failure.step, failure.reason)
            self.j.save()
            if self.j.ever(StepName.DEACTIVATE_OLD, StepState.DONE):
                self.cleanup_target()
                self.j.state.rolled_back = False
                self.j.state.outcome = (
                    "the application runs on the new key and the old key is inactive, but "
                    f"{failure.step} failed: {failure.reason}")
                self.j.save()
                self.j.set_status(DrillStatus.FAILED, finished_at=self.now())
                return
            self.roll_back_or_flag(DrillStatus.FAILED)
            return
        except KeyboardInterrupt:
            self.interrupted()
        self._succeed()

    def interrupted(self) -> NoReturn:
        self.j.set_status(DrillStatus.INTERRUPTED)
        drill_id = self.j.drill_id
        raise DrillUnfinished(
            f"drill {drill_id} was interrupted; the target holds a working key. Run "
            f"`irready drill resume {drill_id}` to finish it or `irready drill rollback "
            f"{drill_id}` to undo it")

    def step(self, name: StepName, action: Action) -> None:
        """Journal, act, journal. `action` fills the step's detail and returns a reason to
        skip, or None; it raises StepFailed (or anything else) to fail."""
        started = self.now()
        seq = self.j.start(name, started)
        detail: dict[str, Any] = {}
        try:
            self.emit(seq, name, StepState.STARTED)
            skipped = action(self, detail)
        except KeyboardInterrupt:
            self.j.end(seq, StepState.INTERRUPTED, self.now(), detail)
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a step is recorded and rolled back
            reason = self.redactor.redact(describe_error(exc))
            if isinstance(exc, StepFailed):
                reason = self.redactor.redact(exc.reason)
            finished = self.now()
            self.j.end(seq, StepState.FAILED, finished, {**detail, "error": reason})
            self.emit(seq, name, StepState.FAILED, (finished - started).total_seconds(), reason)
            raise StepFailed(name.value, reason) from None
        state = StepState.SKIPPED if skipped is not None else StepState.DONE
        if skipped is not None:
            detail["skipped"] = skipped
        finished = self.now()
        self.j.end(seq, state, finished, detail)
        self.emit(seq, name, state, (finished - started).total_seconds(), skipped or "")

    def _succeed(self) -> None:
        from auditor.durations import duration
        from auditor.estimate import estimate_incident

        self.cleanup_target()
        record = self.store.load_drill(self.j.drill_id)
        rotation = record.rotation_seconds or 0.0
        estimate = estimate_incident(self.store, record.account_id, rotation)
        target = record.target_seconds / 60
        verdict = "within" if rotation <= record.target_seconds else "over"
        self.j.state.estimate = estimate.as_dict()
        self.j.state.rolled_back = False
        self.j.state.outcome = (
            f"rotated {record.user}'s key in {duration(rotation)} ({verdict} the {target:g}-min "
            f"target); the old key is {'deleted' if self.options.delete_old else 'inactive'}")
        if self.j.state.old_key_check is not None:
            self.j.state.outcome += f"; {OldKeyCheck(self.j.state.old_key_check).sentence()}"
        self.j.save()
        self.j.set_status(DrillStatus.SUCCEEDED, finished_at=self.now())

    # -- rollback ------------------------------------------------------------------------

    def roll_back_or_flag(self, final: DrillStatus) -> None:
        """Roll back; `final` when it worked, NEEDS_ATTENTION when it could not finish."""
        try:
            restart_failure = self._roll_back()
        except StepFailed as failure:
            self.j.state.rolled_back = False
            self.j.state.rollback_failure = StepFailure(failure.step, failure.reason)
            self.j.state.outcome = f"the rollback stopped at {failure.step}: {failure.reason}"
            self.j.save()
            self.j.set_status(DrillStatus.NEEDS_ATTENTION)
            return
        except KeyboardInterrupt:
            self.interrupted()
        self.cleanup_target()
        self.j.state.rolled_back = True
        self.j.state.rollback_failure = None
        self.j.state.restart_failure = restart_failure
        self.j.state.outcome = (
            "rolled back: the target holds the old key again and the new key is deleted")
        if restart_failure is not None:
            self.j.state.outcome += (
                f"; but the application was not restarted ({restart_failure.reason}): "
                "restart it yourself so that it runs on the old key")
        self.j.save()
        self.j.set_status(final, finished_at=self.now())

    def _roll_back(self) -> StepFailure | None:
        """Run the undo of every step in ROLLBACK that ever started, in that order,
        each a journaled step. A failure to put the keys right stops it (StepFailed);
        the restart's failure comes last, the keys being right, and is returned."""
        for step in ROLLBACK:
            undo = step.undo
            assert undo is not None, f"{step.name} is in ROLLBACK without an undo"
            if not (self.j.ever(step.name) and undo.needed(self)):
                continue
            try:
                self.step(undo.name, undo.run)
            except StepFailed as failure:
                if undo.name is not StepName.ROLLBACK_RESTART:
                    raise
                return StepFailure(failure.step, failure.reason)
        return None
