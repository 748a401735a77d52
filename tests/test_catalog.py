"""Walks every check of the catalogue: the promises a check makes to configs, waivers
and reports (stable id, title, remediation, references, a docstring that says why),
and the layering rule that checks never talk to AWS themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from auditor.errors import UsageError
from auditor.models import Severity
from auditor.registry import CHECK_ID, Check, Registry, check, discover

CATALOGUE = {
    "cloudtrail.enabled": Severity.CRITICAL,
    "cloudtrail.multi_region": Severity.HIGH,
    "cloudtrail.org_trail": Severity.HIGH,
    "cloudtrail.log_validation": Severity.MEDIUM,
    "cloudtrail.bucket_retention": Severity.HIGH,
    "cloudtrail.bucket_access_logging": Severity.LOW,
    "athena.cloudtrail_table": Severity.HIGH,
    "iam.console_mfa": Severity.HIGH,
    "iam.root_mfa": Severity.CRITICAL,
    "iam.root_access_keys": Severity.CRITICAL,
    "iam.access_key_age": Severity.MEDIUM,
    "iam.unused_access_keys": Severity.MEDIUM,
    "iam.quarantine_policy": Severity.CRITICAL,
    "account.alternate_contacts": Severity.HIGH,
    "guardduty.enabled": Severity.MEDIUM,
    "iam.key_inventory": Severity.MEDIUM,
    "drill.recent": Severity.HIGH,
}
CHECKS = list(discover(plugins=False))


def test_catalogue_matches_the_design() -> None:
    assert {c.id: c.severity for c in CHECKS} == CATALOGUE


@pytest.mark.parametrize("item", CHECKS, ids=lambda c: c.id)
def test_check_is_documented(item: Check) -> None:
    assert CHECK_ID.match(item.id)
    assert item.title[:1].isupper()
    assert not item.title.endswith(".")
    assert len(item.remediation) > 20
    assert len(item.doc) > 30, "the docstring says why the check matters"
    assert item.requires, "a check declares the facts it reads"


def test_cis_references_where_the_design_names_them() -> None:
    refs = {c.id: c.references for c in CHECKS}
    assert refs["iam.root_access_keys"] == ("CIS 1.3", "IAM.4")
    assert refs["cloudtrail.log_validation"] == ("CIS 3.2", "CloudTrail.4")
    assert refs["account.alternate_contacts"] == ("CIS 1.2", "Account.1")


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
    ids = [c.id for c in registry.select(only=["iam"], skip=["iam.key_inventory"])]
    assert ids == sorted(i for i in CATALOGUE if i.startswith("iam.") and i != "iam.key_inventory")


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
    rows = readme_catalogue()
    assert set(rows) == {c.id for c in CHECKS}
    for item in CHECKS:
        severity, references = rows[item.id]
        assert item.severity.label in severity.split(" / "), item.id
        assert references == ", ".join(item.references), item.id
