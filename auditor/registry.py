"""The check registry. `@check` turns a function into a Check object and registers
nothing globally; `discover()` walks the built-in `checks` package and the
`irready.checks` entry-point group, so a team can ship its own checks as a package.
Duplicate ids are refused: configs, waivers and reports key on them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

from auditor.errors import UsageError
from auditor.models import Outcome, Severity

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.facts import Fact, Facts

CheckFunction = Callable[["Facts", "Config"], Iterable[Outcome]]
ENTRY_POINT_GROUP = "irready.checks"
CHECK_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+)+$")


@dataclass(frozen=True, eq=False)
class Check:
    id: str
    title: str  # the desired state, e.g. "A logging trail covers every region"
    severity: Severity
    requires: tuple[Fact[Any], ...]
    remediation: str
    references: tuple[str, ...]
    run: CheckFunction
    doc: str  # why it matters, from the function's docstring
    origin: str  # the module that defined it
    # what a failure means for the business, in words a manager reads without a
    # glossary; "{n}" stands for the number of affected resources. The compliance
    # report's executive summary quotes it; "" falls back to the title.
    plain: str = ""

    def __call__(self, facts: Facts, config: Config) -> Iterable[Outcome]:
        return self.run(facts, config)


def check(
    *,
    id: str,
    title: str,
    severity: Severity,
    remediation: str,
    requires: Sequence[Fact[Any]] = (),
    references: Sequence[str] = (),
    plain: str = "",
) -> Callable[[CheckFunction], Check]:
    """Everything the catalogue, README's table and the reports say about a check
    is given here, once."""

    def wrap(func: CheckFunction) -> Check:
        return Check(
            id=id,
            title=title,
            severity=severity,
            requires=tuple(requires),
            remediation=remediation,
            references=tuple(references),
            run=func,
            doc=inspect.cleandoc(func.__doc__ or ""),
            origin=func.__module__,
            plain=plain,
        )

    return wrap


class DuplicateCheck(UsageError):
    pass


class Registry:
    def __init__(self, checks: Iterable[Check] = ()) -> None:
        self._checks: dict[str, Check] = {}
        for item in checks:
            self.add(item)

    def add(self, item: Check) -> None:
        if not CHECK_ID.match(item.id):
            raise UsageError(f"check id {item.id!r} from {item.origin} is not like 'area.name'")
        existing = self._checks.get(item.id)
        if existing is not None and existing is not item:
            raise DuplicateCheck(
                f"duplicate check id {item.id!r}: defined in {existing.origin} and {item.origin}"
            )
        self._checks[item.id] = item

    def __iter__(self) -> Iterator[Check]:
        return iter(sorted(self._checks.values(), key=lambda c: c.id))

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def get(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            raise UsageError(unknown_check_message(check_id, self._checks)) from None

    def select(self, only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[Check]:
        """Checks to run; an id may also be an area prefix ("iam" selects iam.*)."""
        chosen = [self._match(pattern) for pattern in only] if only else [list(self)]
        skipped = {c.id for pattern in skip for c in self._match(pattern)}
        seen: dict[str, Check] = {}
        for group in chosen:
            for item in group:
                if item.id not in skipped:
                    seen[item.id] = item
        return sorted(seen.values(), key=lambda c: c.id)

    def _match(self, pattern: str) -> list[Check]:
        if pattern in self._checks:
            return [self._checks[pattern]]
        area = [c for c in self if c.id.startswith(pattern + ".")]
        if area:
            return area
        raise UsageError(unknown_check_message(pattern, self._checks))


def unknown_check_message(check_id: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(check_id, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; 'irready checks' lists them"
    return f"unknown check id {check_id!r}{hint}"


def checks_in(module: ModuleType) -> list[Check]:
    return [value for value in vars(module).values() if isinstance(value, Check)]


def _entry_point_checks() -> Iterator[Check]:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is one line, not a traceback
            raise UsageError(
                f"cannot load the check plugin {entry.name!r} ({entry.value}) from the"
                f" {ENTRY_POINT_GROUP} entry points: {type(exc).__name__}: {exc}"
            ) from None
        if isinstance(loaded, Check):
            yield loaded
        elif isinstance(loaded, ModuleType):
            yield from checks_in(loaded)
        elif isinstance(loaded, Iterable):
            yield from (item for item in loaded if isinstance(item, Check))
        else:
            raise UsageError(
                f"entry point {entry.name!r} in group {ENTRY_POINT_GROUP} is not a check,"
                " a module of checks, or a list of checks"
            )


def discover(package: str = "checks", *, plugins: bool = True) -> Registry:
    registry = Registry()
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        for item in checks_in(importlib.import_module(f"{package}.{info.name}")):
            registry.add(item)
    if plugins:
        for item in _entry_point_checks():
            registry.add(item)
    return registry
