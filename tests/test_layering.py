"""The layering of the code, as a test: which part may import which.

The rules are a table (`RULES`) that reads as the design does: checks are pure functions
of facts, reports only render, the core knows no renderer, and only the command line,
the scheduler and the demo put the parts together. An import anywhere in a module counts,
a lazy one inside a function too (it is still a dependency); only imports under
`if TYPE_CHECKING:` are left out, since they never run. A second test refuses import
circles between our modules."""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("auditor", "checks", "demo", "drills", "incident", "reports")

# The command-line layer: it loads config, calls the core and renders.
CLI = ("auditor.__main__", "auditor.cli", "auditor.cli_common", "auditor.audit_cli",
       "auditor.config_cli", "auditor.hub_cli", "auditor.org_cli", "auditor.policy_cli",
       "auditor.scheduler.cli",
       "drills.cli", "drills.cli_output", "drills.detect.cli_run", "incident.cli",
       "incident.investigate_cli", "reports.cli")
# The core: the models, the registry and runner, the facts, the store, the audit and
# the answers every renderer shares.
CORE = ("auditor", "auditor.*")
NOT_CORE = (*CLI, "auditor.scheduler", "auditor.scheduler.*")


@dataclass(frozen=True)
class Rule:
    importers: tuple[str, ...]  # module name patterns (fnmatch) the rule applies to
    forbidden: tuple[str, ...]  # module name patterns they may not import
    why: str
    exempt: tuple[str, ...] = ()  # importers the rule does not apply to
    allowed: tuple[str, ...] = ()  # imports the rule lets through


RULES: tuple[Rule, ...] = (
    Rule(("checks", "checks.*"), ("boto3", "boto3.*", "botocore", "botocore.*"),
         "a check is a pure function of facts: only auditor/awsfacts talks to AWS"),
    Rule(("checks", "checks.*"), ("auditor.store", "auditor.store.*"),
         "a check reads the history through a fact, never the store"),
    Rule(("checks", "checks.*"), ("drills.*", "reports.*", "demo.*", "incident.*"),
         "a check depends on the core only"),
    Rule(("reports", "reports.*"), ("drills", "drills.*"),
         "reports render; they know no drill internals, only its vocabulary (drills.model: "
         "steps, statuses, the plan, no boto3)",
         exempt=("reports.cli",), allowed=("drills.model",)),
    Rule(("reports", "reports.*"), ("incident", "incident.*"),
         "reports render an investigation from its vocabulary (incident.investigate.model: "
         "frozen values, no AWS, no log reading) and know nothing else of incident",
         exempt=("reports.cli",), allowed=("incident.investigate.model",)),
    Rule(("reports", "reports.*"), ("auditor.session", "boto3", "boto3.*", "botocore.*"),
         "reports render what the store holds; they open no AWS session",
         exempt=("reports.cli",)),
    Rule(CORE, ("reports", "reports.*"), "the core computes; it imports no renderer",
         exempt=NOT_CORE),
    Rule(CORE, ("drills", "drills.*", "demo", "demo.*", "incident", "incident.*"),
         "the core is what every capability builds on; it imports none of them",
         exempt=NOT_CORE),
    Rule(("drills", "drills.*", "incident", "incident.*"), ("reports", "reports.*"),
         "only the command line, the scheduler and the demo put reports to use",
         exempt=CLI),
    Rule(("drills", "drills.*"), ("demo", "demo.*", "auditor.scheduler.*"),
         "the drill engine does not know who runs it"),
)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path, name: str, known: Collection[str] = ()
               ) -> Iterator[tuple[str, int]]:
    """The modules `path` imports (absolute names), with their line numbers; `from a
    import b` names `a.b` where that is one of the `known` modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = [f"{base}.{alias.name}" for alias in node.names
                          if f"{base}.{alias.name}" in known]
            for imported in submodules or [base]:
                yield imported, node.lineno


def project_modules(root: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            modules[module_name(path, root)] = path
    return modules


def violations(root: Path) -> list[str]:
    modules = project_modules(root)
    found = {
        f"{path.relative_to(root)}:{line}: {name} imports {imported}: {rule.why}"
        for name, path in modules.items()
        for imported, line in imports_of(path, name, modules)
        for rule in RULES
        if _matches(name, rule.importers) and not _matches(name, rule.exempt)
        and _matches(imported, rule.forbidden) and not _matches(imported, rule.allowed)
    }
    return sorted(found)


def cycles(root: Path) -> list[list[str]]:
    """Strongly connected groups of our modules that import each other."""
    modules = project_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported, _ in imports_of(path, name, modules):
            if imported in modules and imported != name and not name.startswith(imported + "."):
                graph[name].add(imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_import_follows_the_layering() -> None:
    assert violations(ROOT) == []


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(ROOT) == []


def _plant(root: Path, name: str, source: str) -> None:
    path = root.joinpath(*name.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in [path.parent, *path.parent.parents]:
        if parent == root:
            break
        (parent / "__init__.py").touch()
    path.write_text(source)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        pytest.param("checks.bad", "import boto3\n", "checks.bad imports boto3",
                     id="a check that calls AWS itself"),
        pytest.param("checks.bad", "def f():\n    from auditor.store import HistoryStore\n",
                     "checks.bad imports auditor.store", id="a lazy import counts too"),
        pytest.param("auditor.runner", "from reports import terminal\n",
                     "auditor.runner imports reports:", id="the core rendering"),
        pytest.param("reports.charts", "from drills.rotation import Drill\n",
                     "reports.charts imports drills.rotation",
                     id="a report reaching into the drill engine"),
        pytest.param("reports.investigation_csv",
                     "from incident.investigate.jsonform import event_dict\n",
                     "reports.investigation_csv imports incident.investigate.jsonform",
                     id="a report reaching past the investigation's vocabulary"),
        pytest.param("drills.verify", "from ..reports import pdf\n",
                     "drills.verify imports reports:", id="a relative import"),
    ],
)
def test_a_forbidden_import_is_named(tmp_path: Path, module: str, source: str,
                                     expected: str) -> None:
    _plant(tmp_path, module, source)
    found = violations(tmp_path)
    assert len(found) == 1
    assert expected in found[0]


def test_an_import_under_type_checking_is_not_a_dependency(tmp_path: Path) -> None:
    _plant(tmp_path, "checks.fine",
           "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import boto3\n")
    assert violations(tmp_path) == []


def test_a_circle_is_named(tmp_path: Path) -> None:
    _plant(tmp_path, "auditor.config", "from auditor import cadence\n")
    _plant(tmp_path, "auditor.cadence", "import auditor.notify\n")
    _plant(tmp_path, "auditor.notify", "from auditor.config import Config\n")
    assert cycles(tmp_path) == [["auditor.cadence", "auditor.config", "auditor.notify"]]
