"""The fact cache: the one place an audit reads AWS.

A Fact names one read (or one derived value) and how to fetch it. `Facts.get` fetches
on first use and memoizes the value, or the error, for the rest of the run, so ten
checks that need the credential report cost one GetCredentialReport and a denied read
is tried once. Gets are thread-safe: concurrent callers of the same fact wait for the
one fetch in flight. Tests of checks build `Facts.from_values(...)` and need no AWS.

`Facts.now` is the audit's time: checks judge ages (of a key, of the last drill) by it,
never by the wall clock, so an audit replayed at a simulated time judges as of then."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from auditor.clock import utcnow
from auditor.session import error_code, is_access_denied

if TYPE_CHECKING:
    from datetime import datetime

    from auditor.awsfacts.cloudtrail import Trail
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

NOT_READ = "NotRead"  # FactError code of Facts.peek for a fact the run never read
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, eq=False)
class Fact(Generic[T_co]):
    """`fetch` receives the Facts of the run, so a fact may build on other facts."""

    name: str
    fetch: Callable[[Facts], T_co]
    permissions: tuple[str, ...] = ()

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fact) and other.name == self.name


class FactError(Exception):
    """A fact could not be read; checks that need it become ERROR findings."""

    def __init__(self, fact: str, code: str, detail: str, permissions: tuple[str, ...] = (),
                 hint: str = ""):
        super().__init__(f"{fact}: {code}: {detail}")
        self.fact = fact
        self.code = code
        self.detail = detail
        self.permissions = permissions
        self.hint = hint  # appended to the finding's sentence, e.g. where the denial was

    @property
    def denied(self) -> bool:
        return self.code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")

    def describe(self) -> str:
        """One sentence for a finding: the missing permission if denied, else the code."""
        hint = f"; {self.hint}" if self.hint else ""
        if self.denied and self.permissions:
            return f"access denied: needs {', '.join(self.permissions)}{hint}"
        detail = f": {self.detail}" if self.detail else ""
        return f"could not read {self.fact} ({self.code}{detail}){hint}"


def as_fact_error(fact: Fact[Any], exc: BaseException) -> FactError:
    if isinstance(exc, FactError):
        return exc
    if isinstance(exc, NotImplementedError):
        return FactError(fact.name, "NotImplemented", "the endpoint does not support this call",
                         fact.permissions)
    code = "AccessDenied" if is_access_denied(exc) else error_code(exc)
    response = getattr(exc, "response", None)
    detail = ""
    if isinstance(response, dict):
        detail = str(response.get("Error", {}).get("Message", ""))
    elif not hasattr(exc, "response"):
        detail = str(exc)
    return FactError(fact.name, code, detail, fact.permissions)


class Facts:
    def __init__(
        self,
        ctx: AwsContext | None,
        config: Config | None = None,
        *,
        history: HistoryStore | None = None,
        account_id: str = "",
        values: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        org_trails: tuple[Trail, ...] = (),
    ) -> None:
        from auditor.config import Config

        self.ctx = ctx
        self.config = config or Config()
        self.history = history
        self.account_id = account_id
        # an organization audit: the management account's logging organization trails
        self.org_trails = org_trails
        # the audit's time; run_audit sets it to the run's start before any check runs
        self.now = now or utcnow()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}
        for name, value in (values or {}).items():
            future: Future[Any] = Future()
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)
            self._futures[name] = future

    @classmethod
    def from_values(
        cls, values: Mapping[Fact[Any], Any], config: Config | None = None, account_id: str = "",
        now: datetime | None = None,
    ) -> Facts:
        """Facts for tests of checks: a value, or a FactError, per fact; nothing is fetched."""
        facts = cls(None, config, account_id=account_id or "123456789012",
                    values={fact.name: value for fact, value in values.items()}, now=now)
        return facts

    @property
    def aws(self) -> AwsContext:
        if self.ctx is None:
            raise FactError("aws", "NoContext", "no AWS context (a test forgot a fact value)")
        return self.ctx

    def get(self, fact: Fact[T]) -> T:
        with self._lock:
            future = self._futures.get(fact.name)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[fact.name] = future
        if owner:
            try:
                future.set_result(fact.fetch(self))
            except Exception as exc:  # noqa: BLE001 - memoized and re-raised as FactError
                future.set_exception(as_fact_error(fact, exc))
        return cast(T, future.result())

    def peek(self, fact: Fact[T]) -> T:
        """The value this run has already read, never reading: raises the read's own
        FactError, or one with code NotRead when no check asked for the fact."""
        with self._lock:
            future = self._futures.get(fact.name)
        if future is None or not future.done():
            raise FactError(fact.name, NOT_READ, "the audit did not read it", fact.permissions)
        return cast(T, future.result())

    def error_of(self, fact: Fact[Any]) -> FactError | None:
        try:
            self.get(fact)
        except FactError as exc:
            return exc
        return None

    def prefetch(self, facts: Iterable[Fact[Any]], workers: int = 8) -> None:
        """Fetch independent facts concurrently and wait for all of them."""
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fact") as pool:
            for pending in self.prefetch_in(pool, facts):
                pending.result()

    def prefetch_in(self, pool: Executor, facts: Iterable[Fact[Any]]
                    ) -> list[Future[FactError | None]]:
        """Start fetching each fact (once) in `pool` without waiting: against AWS each
        read is a round trip, so independent ones overlap. Nothing is started for Facts
        built from values (tests of checks): there is nothing to read."""
        unique = {fact.name: fact for fact in facts}
        if self.ctx is None:
            return []
        return [pool.submit(self.error_of, fact) for fact in unique.values()]

    def fetched(self) -> list[str]:
        with self._lock:
            return sorted(self._futures)


def fact(name: str, *permissions: str) -> Callable[[Callable[[Facts], T]], Fact[T]]:
    """Decorator: `@fact("iam.credential_report", "iam:GetCredentialReport")`."""

    def wrap(fetch: Callable[[Facts], T]) -> Fact[T]:
        return Fact(name, fetch, tuple(permissions))

    return wrap


def map_concurrently(func: Callable[[str], T], items: Iterable[str], workers: int) -> dict[str, T]:
    """Apply `func` to each item in a bounded pool; used for per-region reads."""
    items = list(items)
    if len(items) <= 1:
        return {item: func(item) for item in items}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return dict(zip(items, pool.map(func, items), strict=True))
