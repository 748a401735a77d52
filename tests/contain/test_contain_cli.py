"""`irready contain` as a user runs it: the plan and the run as JSON held to
reports/schemas/contain.schema.json, `show` and `list`, the exit codes, and the secret in
no output and not in the store."""

from __future__ import annotations

import importlib.util
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import clikit
from containkit import APP_USER, TARGET, Account

from auditor.errors import ExitCode


def schema_errors(document: Any) -> list[str]:
    schema = json.loads(files("reports").joinpath("schemas/contain.schema.json")
                        .read_text(encoding="utf-8"))
    checker = importlib.util.spec_from_file_location(
        "schema_check", Path(__file__).resolve().parents[1] / "reports" / "schema_check.py")
    assert checker is not None
    assert checker.loader is not None
    module = importlib.util.module_from_spec(checker)
    checker.loader.exec_module(module)
    found: list[str] = module.errors(document, schema)
    return found


def test_plan_run_show_list_as_json(account: Account) -> None:
    history = account.tmp / "history.sqlite3"
    config = clikit.write_config(account.tmp, (
        f'[history]\npath = "{history}"\n\n[drill]\npropagation_timeout_seconds = 1\n\n'
        f'[[inventory]]\nuser = "{APP_USER}"\nowner = "mail team"\n'
        f'rotation_target = "{TARGET}"\napplication = "newsletter sender"\n'))
    credentials = account.operator.get_credentials()
    env = {"AWS_ACCESS_KEY_ID": credentials.access_key,
           "AWS_SECRET_ACCESS_KEY": credentials.secret_key}
    leaked = account.leaked[0]
    outputs: list[str] = []

    def run(*args: str) -> Any:
        result = clikit.irready("contain", *args, "--config", config, env=env)
        outputs.extend([result.stdout, result.stderr])
        return result

    planned = run("plan", leaked, "--no-investigate", "--format", "json")
    assert planned.exit_code == ExitCode.OK, planned.output
    plan = json.loads(planned.stdout)
    assert schema_errors(plan) == []
    assert plan["plan"]["target"] == TARGET  # from the inventory
    assert [a["name"] for a in plan["plan"]["actions"]] == ["rotate", "verify_blocked"]

    text = run("plan", leaked, "--no-investigate")
    assert "nothing has changed" in text.stdout
    assert "undo:" in text.stdout

    ran = run("run", leaked, "--no-investigate", "--format", "json")
    assert ran.exit_code == ExitCode.OK, ran.output
    done = json.loads(ran.stdout)
    assert schema_errors(done) == []
    containment = done["containment"]
    assert containment["status"] == "safe"
    assert containment["safe_seconds"] > 0
    assert account.key_states()[leaked] == "Inactive"

    shown = run("show", containment["id"], "--format", "json")
    assert json.loads(shown.stdout) == done
    listed = run("list", "--format", "json")
    assert schema_errors(json.loads(listed.stdout)) == []
    assert [c["id"] for c in json.loads(listed.stdout)["containments"]] == [containment["id"]]
    assert containment["id"] in run("list").stdout

    again = run("run", leaked, "--no-investigate")
    assert again.exit_code == ExitCode.USAGE
    assert "already inactive" in again.stderr

    for text_out in outputs:
        assert account.leaked[1] not in text_out
    assert account.leaked[1] not in history.read_bytes().decode("latin-1")
