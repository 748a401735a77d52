"""The investigation's JSON document: the issue's fields, its schema, and the round trip
the history store relies on (a stored investigation is rendered again from it)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from investigationkit import (
    ACCOUNT,
    LEAKED,
    quiet_investigation,
    sample_investigation,
)

from incident.investigate.jsonform import from_document, render_json, to_document
from incident.investigate.model import SCHEMA_ID, Investigation, Owner, OwnerType, Tactic

VERSION = "1.2.3"


def schema_errors(document: Any) -> list[str]:
    where = files("reports").joinpath("schemas/investigation.schema.json")
    schema = json.loads(where.read_text(encoding="utf-8"))
    # The reports tests' small checker, loaded by path as test_playbook.py does.
    checker = importlib.util.spec_from_file_location(
        "schema_check", Path(__file__).resolve().parents[1] / "reports" / "schema_check.py")
    assert checker is not None
    assert checker.loader is not None
    module = importlib.util.module_from_spec(checker)
    checker.loader.exec_module(module)
    found: list[str] = module.errors(document, schema)
    return found


CASES = [
    pytest.param(sample_investigation(), id="the demo's story"),
    pytest.param(quiet_investigation(), id="only usual traffic"),
    pytest.param(sample_investigation(
        complete=False, incomplete_because=("us-west-2/2026/12/01: AccessDenied",)),
        id="incomplete"),
    pytest.param(sample_investigation(owner=Owner(OwnerType.ROOT, f"arn:aws:iam::{ACCOUNT}:root",
                                                  "", from_logs=True)),
                 id="a root key read from the logs"),
]


@pytest.mark.parametrize("inv", CASES)
def test_a_document_reads_back_as_the_same_investigation(inv: Investigation) -> None:
    document = json.loads(render_json(inv, tool_version=VERSION))
    assert from_document(document) == inv
    assert to_document(from_document(document), tool_version=VERSION) == document


@pytest.mark.parametrize("inv", CASES)
def test_the_document_follows_its_schema(inv: Investigation) -> None:
    assert schema_errors(json.loads(render_json(inv, tool_version=VERSION))) == []


def test_the_schema_catches_a_wrong_document() -> None:
    document = to_document(sample_investigation(), tool_version=VERSION)
    del document["verdict"]
    document["owner"]["type"] = "Robot"
    document["events"][0]["tactics"] = ["mind_control"]
    document["sources"][0]["files"] = -1
    document["extra"] = 1
    assert schema_errors(document) == [
        "$: missing 'verdict'",
        "$.owner.type: 'Robot' not in ['IAMUser', 'Root', 'AssumedRole', 'FederatedUser', "
        "'Unknown']",
        "$.sources[0].files: -1 < 0",
        "$.events[0].tactics[0]: 'mind_control' not in "
        f"{[tactic.value for tactic in Tactic]}",
        "$: unexpected key 'extra'",
    ]


def test_the_document_holds_the_issues_fields() -> None:
    text = render_json(sample_investigation(), tool_version=VERSION)
    document = json.loads(text)
    assert text.endswith("}\n")
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert document["schema"] == SCHEMA_ID == "irready.investigation/1"
    assert document["tool"] == {"name": "irready", "version": VERSION}
    assert document["key"] == LEAKED
    assert document["owner"] == {"type": "IAMUser", "from_logs": False,
                                 "arn": f"arn:aws:iam::{ACCOUNT}:user/app-integration-user",
                                 "user": "app-integration-user"}
    assert document["window"] == {"from": "2026-11-29T00:00:00.000Z",
                                  "to": "2026-12-01T14:00:00.000Z",
                                  "baseline_from": "2026-11-15T00:00:00.000Z"}
    assert document["started_at"] == "2026-12-01T13:30:00.123Z"
    stopped = document["events"][8]
    assert stopped["event_name"] == "StopLogging"
    assert stopped["tactics"] == ["defense_evasion"]
    assert stopped["chain"] == ["AKIAEXAMPLELEAKED123", "ASIAEXAMPLESESSION01",
                                "AKIAEXAMPLEBACKDOOR1", "ASIAEXAMPLEROLESESS1"]
    assert [mention["event_name"] for mention in document["mentions"]] == ["UpdateAccessKey"]
    assert document["credentials"][1]["expires"] == "2026-12-02T00:14:00.000Z"
    assert document["credentials"][0]["expires"] is None
    assert document["verdict"] == {"suspicious_events": 9,
                                   "first_suspicious": "2026-12-01T12:11:03.000Z",
                                   "last_suspicious": "2026-12-01T12:25:00.000Z",
                                   "follow_ups": 7}
    assert "secret" not in text.lower()


def test_every_tactic_is_counted_even_when_none_was_seen() -> None:
    document = to_document(replace(sample_investigation(), tactics={"persistence": 3}),
                           tool_version=VERSION)
    assert document["tactics"] == {**{tactic.value: 0 for tactic in Tactic}, "persistence": 3}


def test_a_quiet_investigation_has_no_suspicious_times() -> None:
    verdict = to_document(quiet_investigation(), tool_version=VERSION)["verdict"]
    assert verdict == {"suspicious_events": 0, "first_suspicious": None,
                       "last_suspicious": None, "follow_ups": 0}


def test_another_schema_is_refused() -> None:
    document = to_document(sample_investigation(), tool_version=VERSION)
    with pytest.raises(ValueError, match=r"schema is 'irready.audit/1', expected "
                                         r"'irready.investigation/1'"):
        from_document({**document, "schema": "irready.audit/1"})


@pytest.mark.parametrize(("damage", "message"), [
    pytest.param(lambda doc: doc.pop("owner"), "lacks the field 'owner'", id="no owner"),
    pytest.param(lambda doc: doc["events"][0].update(tactics=["mind_control"]),
                 "malformed", id="an unknown tactic"),
    pytest.param(lambda doc: doc["window"].update({"from": "yesterday"}), "malformed",
                 id="a time that is not one"),
])
def test_a_damaged_document_is_refused_in_one_line(damage: Any, message: str) -> None:
    document = to_document(sample_investigation(), tool_version=VERSION)
    damage(document)
    with pytest.raises(ValueError, match=message):
        from_document(document)


def test_readme_documents_every_key_of_the_document() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The investigation's JSON", 1)[1].split("\n## ", 1)[0]
    documented = {name for line in section.splitlines() if line.startswith("| `")
                  for name in line.split("|")[1].strip().strip("`").split("`, `")}
    assert documented == set(to_document(sample_investigation(), tool_version=VERSION))
