"""Walks every check of the catalogue: the promises a check makes to configs, waivers
and reports (stable id, title, remediation, references, a docstring that says why, a
plain-words sentence), README's table of checks against the registry both ways, and
the layering rules that checks never talk to AWS themselves nor read the wall clock.
The registry is the one list of checks: no test here spells their ids."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from auditor.errors import UsageError
from auditor.models import Severity
from auditor.registry import CHECK_ID, Check, Registry, check, discover

CHECKS = list(discover(plugins=False))


@pytest.mark.parametrize("item", CHECKS, ids=lambda c: c.id)
def test_check_is_documented(item: Check) -> None:
    assert CHECK_ID.match(item.id)
    assert item.title[:1].isupper()
    assert not item.title.endswith(".")
    assert len(item.remediation) > 20
    assert len(item.doc) > 30, "the docstring says why the check matters"
    assert item.requires, "a check declares the facts it reads"


@pytest.mark.parametrize("item", CHECKS, ids=lambda c: c.id)
def test_check_says_what_a_failure_means_in_plain_words(item: Check) -> None:
    """The compliance report's executive summary quotes it to a manager."""
    assert len(item.plain) > 30, "@check(plain=...) is the report's sentence"
    assert item.plain[:1].isupper() or item.plain.startswith("{n}")
    assert item.plain.endswith(".")
    assert set(re.findall(r"{[^}]*}", item.plain)) <= {"{n}"}, "only {n} is filled in"


def test_the_report_reads_each_sentence_from_the_registry() -> None:
    from reports.plain_words import risk_sentence

    for item in CHECKS:
        assert risk_sentence(item.id, item.title, 3) == item.plain.replace("{n}", "3")
    assert risk_sentence("acme.unknown", "Acme is safe.", 2) == (
        "Not yet true: Acme is safe (2 affected).")


def test_checks_never_import_boto3() -> None:
    root = Path(__file__).parent.parent / "checks"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("boto3", "botocore", "moto")), f"{path.name}: {name}"


WALL_CLOCK = ("now", "utcnow", "today", "time", "monotonic")


def test_checks_never_read_the_wall_clock() -> None:
    """Ages are judged at the audit's time (`facts.now`): a replayed audit judges as of
    then, and a check never asks the machine what day it is."""
    root = Path(__file__).parent.parent / "checks"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                called = f"{node.value.id}.{node.attr}"
                assert not (node.value.id in ("datetime", "date", "time")
                            and node.attr in WALL_CLOCK), f"{path.name}: {called}"
            if isinstance(node, ast.ImportFrom) and node.module == "auditor.clock":
                raise AssertionError(f"{path.name} imports the clock; use facts.now")


def test_duplicate_ids_are_refused() -> None:
    def body(facts: object, config: object) -> list[object]:
        return []

    first = check(id="x.same", title="One", severity=Severity.LOW, remediation="r" * 30)(body)
    second = check(id="x.same", title="Two", severity=Severity.LOW, remediation="r" * 30)(body)
    with pytest.raises(UsageError, match=r"duplicate check id 'x\.same'"):
        Registry([first, second])


def test_unknown_check_id_suggests_the_closest() -> None:
    registry = discover(plugins=False)
    with pytest.raises(UsageError, match=r"unknown check id 'iam\.console_mfaa'; did you mean"):
        registry.select(only=["iam.console_mfaa"])


def test_an_area_selects_its_checks() -> None:
    registry = discover(plugins=False)
    iam = sorted(c.id for c in CHECKS if c.id.startswith("iam."))
    assert len(iam) > 1
    ids = [c.id for c in registry.select(only=["iam"], skip=[iam[0]])]
    assert ids == iam[1:]


def readme_catalogue() -> dict[str, tuple[str, str]]:
    """README's table of checks: id -> (severity, references)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("## The checks", 1)[1].split("\n\n", 2)[1]
    rows: dict[str, tuple[str, str]] = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = (cells[2], cells[3])
    return rows


def test_the_readme_lists_every_check_with_its_severity_and_references() -> None:
    """Registry -> README: a new check is documented in README's table."""
    rows = readme_catalogue()
    for item in CHECKS:
        assert item.id in rows, f"README's table of checks lacks {item.id}"
        severity, references = rows[item.id]
        assert item.severity.label in severity.split(" / "), item.id
        assert references == ", ".join(item.references), item.id


def test_every_check_in_the_readme_is_in_the_registry() -> None:
    """README -> registry: the table names no check that does not exist (any more),
    and each severity it gives is one the check can report."""
    registry = {c.id: c for c in CHECKS}
    rows = readme_catalogue()
    assert rows, "README's table of checks was not found"
    for check_id, (severity, references) in rows.items():
        assert check_id in registry, f"README lists {check_id}, which no check defines"
        item = registry[check_id]
        labels = severity.split(" / ")
        assert labels[0] == item.severity.label, f"{check_id}: the check's own severity first"
        assert all(label in {s.label for s in Severity} for label in labels), check_id
        assert references == ", ".join(item.references), check_id
