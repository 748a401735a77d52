"""Bad input around the history store and the files irready writes, across `audit`,
`history`, `report audit|compliance|drill`, `drill list` and `config check`: each row is
one exit code, one `irready: error:` line, no traceback, and nothing changed on disk (a
damaged store or another application's database keeps its bytes, a missing folder stays
missing, no report is written)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import irready

from auditor.models import AuditRun, Finding, Severity, Status
from auditor.store import HistoryStore

PAGE = 4096
LONG = "a" * 5000
NOT_STORED_HINT = "move it aside (irready then starts a new one there) or restore it from a backup"


def a_run(findings: int = 300) -> AuditRun:
    started = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    return AuditRun(
        account_id="123456789012", started_at=started,
        finished_at=started + timedelta(seconds=3),
        findings=tuple(
            Finding(check_id="iam.console_mfa", title="Console users have MFA",
                    status=Status.FAIL, severity=Severity.HIGH, account_id="123456789012",
                    region="global", resource=f"arn:aws:iam::123456789012:user/user-{i}",
                    message=f"user-{i} has a console password and no MFA.",
                    remediation="aws iam enable-mfa-device ...", references=("CIS 1.9",))
            for i in range(findings)),
        regions=("us-east-1",), version="0.1.0")


def damaged_store(path: Path) -> Path:
    """A real store (WAL mode, as irready leaves it) whose pages after the first two are
    overwritten: SQLite opens it and meets the damage only when it reads the tables."""
    with HistoryStore(path) as store:
        store.save_run(a_run())
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    assert len(data) > 4 * PAGE
    data[2 * PAGE:] = b"\xff" * (len(data) - 2 * PAGE)
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return path


def foreign_database(path: Path) -> Path:
    """Another application's SQLite file: user_version 0, tables that are not ours."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('my own data')")
    return path


def no_store(path: Path) -> Path:
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


DAMAGED = ("the history store {store} is damaged (database disk image is malformed): "
           + NOT_STORED_HINT)
FOREIGN = ("{store} is another application's SQLite database, not an irready history store: "
           "irready leaves it unchanged; pass another --history path or [history] path")
NO_FOLDER = ("cannot open the history store {tmp}/missing/h.sqlite3: folder {tmp}/missing "
             "does not exist")
BIG = "99999999999999999999999"
TOO_BIG = (f"Invalid value for '{{option}}': must be less than or equal to "
           f"{2**63 - 1} (see 'irready {{command}} --help')")

ROWS = [
    # a damaged store: one line, exit 2, what to do, from every command that opens it
    pytest.param(damaged_store, ("history",), 2, DAMAGED, id="history on a damaged store"),
    pytest.param(damaged_store, ("report", "audit", "-f", "json"), 2, DAMAGED,
                 id="report audit on a damaged store"),
    pytest.param(damaged_store, ("report", "compliance", "-o", "{tmp}/c.html"), 2, DAMAGED,
                 id="report compliance on a damaged store"),
    pytest.param(damaged_store, ("report", "drill", "-f", "json"), 2, DAMAGED,
                 id="report drill on a damaged store"),
    pytest.param(damaged_store, ("drill", "list"), 2, DAMAGED, id="drill list on a damaged store"),
    pytest.param(damaged_store, ("audit", "--regions", "us-east-1", "-o", "{tmp}/a.json"), 2,
                 DAMAGED, id="audit finds a damaged store before it audits"),
    # another application's database is refused and left byte for byte as it was
    pytest.param(foreign_database, ("history",), 2, FOREIGN,
                 id="history on another application's database"),
    pytest.param(foreign_database, ("audit", "--regions", "us-east-1"), 2, FOREIGN,
                 id="audit on another application's database"),
    pytest.param(foreign_database, ("report", "audit"), 2, FOREIGN,
                 id="report audit on another application's database"),
    # a folder named on the command line must exist: it is never created
    pytest.param(no_store, ("history", "--history", "{tmp}/missing/h.sqlite3"), 2, NO_FOLDER,
                 id="history in a folder that does not exist"),
    pytest.param(no_store, ("audit", "--regions", "us-east-1", "--history",
                            "{tmp}/missing/h.sqlite3"), 2, NO_FOLDER,
                 id="audit with a store in a folder that does not exist"),
    # numbers and names out of range
    pytest.param(no_store, ("history", "--limit", BIG), 2,
                 TOO_BIG.format(option="--limit", command="history"),
                 id="a limit beyond SQLite's integers"),
    pytest.param(no_store, ("report", "audit", "--run", BIG), 2,
                 TOO_BIG.format(option="--run", command="report audit"),
                 id="a run id beyond SQLite's integers"),
    pytest.param(no_store, ("drill", "list", "--limit", BIG), 2,
                 TOO_BIG.format(option="--limit", command="drill list"),
                 id="a drill list limit beyond SQLite's integers"),
    pytest.param(no_store, ("report", "compliance", "-o", "{tmp}/c.pdf", "--quarter", "0000Q1"),
                 2, "--quarter: expected a quarter from 1970Q1 to 9998Q4, got '0000Q1'",
                 id="the quarter of year 0"),
    pytest.param(no_store, ("report", "compliance", "-o", "{tmp}/c.pdf", "--quarter", "9999Q4"),
                 2, "--quarter: expected a quarter from 1970Q1 to 9998Q4, got '9999Q4'",
                 id="a quarter that ends after year 9999"),
    pytest.param(no_store, ("report", "compliance", "-o", "{tmp}/c.pdf", "--since",
                            "0001-01-01"),
                 2, "--since: expected a date from 1970-01-01 on, got '0001-01-01'",
                 id="a period from year 1"),
    pytest.param(no_store, ("history", "--config", LONG), 2,
                 "Invalid value for '--config' / '-c': File name too long (5000 characters) "
                 "(see 'irready history --help')", id="a config path too long to look up"),
    pytest.param(no_store, ("config", "check", LONG), 2,
                 "Invalid value for 'PATH': File name too long (5000 characters) "
                 "(see 'irready config check --help')",
                 id="config check of a path too long to look up"),
    pytest.param(no_store, ("history", "--history", f"{LONG}.sqlite3"), 2,
                 "Invalid value for '--history': File name too long (5008 characters) "
                 "(see 'irready history --help')", id="a store path too long to look up"),
    # an extension that names no format irready writes
    pytest.param(damaged_store, ("audit", "--regions", "us-east-1", "-o", "{tmp}/r.docx"), 2,
                 "--output r.docx: irready writes no .docx format (it writes .csv, .htm, "
                 ".html, .json, .jsonl, .markdown, .md, .pdf, .sarif, .txt, .xml): rename the file "
                 "or pass "
                 "--format", id="audit --output r.docx"),
    pytest.param(no_store, ("report", "audit", "-o", "{tmp}/r.docx"), 2,
                 "--output r.docx: irready writes no .docx format (it writes .csv, .htm, "
                 ".html, .json, .jsonl, .markdown, .md, .pdf, .sarif, .txt, .xml): rename the file "
                 "or pass "
                 "--format", id="report audit -o r.docx"),
    pytest.param(no_store, ("report", "drill", "-o", "{tmp}/drill.docx"), 2,
                 "--output drill.docx: irready writes no .docx format (it writes .htm, .html, "
                 ".json, .pdf): rename the file or pass --format", id="report drill -o drill.docx"),
    pytest.param(no_store, ("report", "compliance", "-o", "{tmp}/c.docx"), 2,
                 "--output {tmp}/c.docx: the name must end in .pdf or .html",
                 id="report compliance -o c.docx"),
    # --output at something that is not a regular file
    pytest.param(no_store, ("report", "audit", "-o", "{tmp}"), 2,
                 "Invalid value for '--output' / '-o': file '{tmp}' is a directory "
                 "(see 'irready report audit --help')", id="report audit -o a folder"),
]


@pytest.mark.parametrize(("make", "args", "code", "line"), ROWS)
def test_bad_input(request: pytest.FixtureRequest, tmp_path: Path,
                   make: Callable[[Path], Path], args: tuple[str, ...], code: int,
                   line: str) -> None:
    if args[0] == "audit":
        request.getfixturevalue("aws")
    store = make(tmp_path / "history.sqlite3")
    words = [arg.format(tmp=tmp_path) for arg in args]
    if "--history" not in words and words[:2] != ["config", "check"]:
        words += ["--history", str(store)]
    before = snapshot(tmp_path)

    result: Any = irready(*words)

    assert result.exit_code == code, result.output
    assert result.stderr == f"irready: error: {line.format(store=store, tmp=tmp_path)}\n"
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before


# -- a store that cannot be written: found before the audit; if storing still fails at
# -- the end, the report is shown all the same and the error says the run was not stored

@pytest.fixture
def read_only(tmp_path: Path) -> Any:
    """`read_only(path)`: make a file or a folder unwritable, for root too (root ignores
    the mode bits, not the immutable flag); undone at the end of the test."""
    import os
    import shutil
    import subprocess

    made: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() == 0:
            if shutil.which("chattr") is None:
                pytest.skip("running as root without chattr: cannot make a file read-only")
            subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            path.chmod(0o555 if path.is_dir() else 0o444)
        made.append(path)

    yield make
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def a_store(path: Path) -> Path:
    with HistoryStore(path) as store:
        store.save_run(a_run(findings=3))
    return path


AUDIT = ("audit", "--check", "iam.quarantine_policy", "--format", "json")


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_stops_the_audit_before_it_starts(
        aws: Any, tmp_path: Path, read_only: Any, monkeypatch: pytest.MonkeyPatch,
        what: str) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    store = a_store(folder / "history.sqlite3")
    read_only(store if what == "file" else folder)
    before = store.read_bytes()
    from auditor import audit as audit_module

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the audit ran before the store was found read-only")

    monkeypatch.setattr(audit_module, "run_audit", must_not_run)
    report = tmp_path / "a.json"

    result = irready(*AUDIT, "--output", str(report), "--history", str(store))

    reason = ("attempt to write a readonly database" if what == "file"
              else "unable to open database file")
    assert result.exit_code == 2
    assert result.stderr == (
        f"irready: error: cannot write the history store {store} ({reason}): irready needs "
        "to write the file and its folder (the -wal and -shm files live beside it)\n")
    assert store.read_bytes() == before
    assert not report.exists()


def test_no_history_reads_a_read_only_store(aws: Any, tmp_path: Path, read_only: Any) -> None:
    store = a_store(tmp_path / "history.sqlite3")
    read_only(store)
    before = store.read_bytes()

    result = irready(*AUDIT, "--no-history", "--history", str(store))

    assert result.exit_code in (0, 1)
    assert result.stderr == ""
    assert store.read_bytes() == before


def test_a_run_that_cannot_be_stored_still_shows_its_report(
        aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store was writable when the audit began and failed when the run was saved
    (the disk filled up meanwhile): the report is written, then one error line says the
    run was not stored, and the exit code is 2."""
    from auditor.errors import StoreError

    store = a_store(tmp_path / "history.sqlite3")

    def full(self: HistoryStore, run: AuditRun) -> int:
        raise StoreError(f"cannot write the history store {self.path} (database or disk is "
                         "full): free some space on its disk")

    monkeypatch.setattr(HistoryStore, "save_run", full)
    report = tmp_path / "a.json"

    result = irready(*AUDIT, "--output", str(report), "--history", str(store))

    assert result.exit_code == 2
    assert result.stderr == (
        f"wrote {report}\n"
        f"irready: error: the audit ran but its run was not stored: cannot write the history "
        f"store {store} (database or disk is full): free some space on its disk\n")
    assert '"schema": "irready.audit/1"' in report.read_text()
    with HistoryStore(store) as history:
        assert len(history.runs()) == 1


# -- the format of a report: --format, else the extension, else the command's default

def test_a_drill_report_named_docx_is_refused_before_the_drill(aws: Any, tmp_path: Path
                                                               ) -> None:
    result = irready("drill", "rotate", "--user", "drill-user", "--target",
                     "secretsmanager:app", "--report", str(tmp_path / "r.docx"),
                     "--history", str(tmp_path / "h.sqlite3"))

    assert result.exit_code == 2
    assert result.stderr == ("irready: error: --report r.docx: irready writes no .docx format "
                             "(it writes .htm, .html, .json, .pdf): rename the file\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "name", "starts"), [
    pytest.param(("report", "audit"), "r.md", "# ", id="report audit -o r.md is Markdown"),
    pytest.param(("report", "audit"), "r.json", "{", id="report audit -o r.json is JSON"),
    pytest.param(("report", "audit", "-f", "csv"), "r.json", "run_id,",
                 id="--format wins over the extension"),
    pytest.param(("report", "audit"), "report", "<!doctype html>",
                 id="no extension: the command's default"),
    pytest.param(("report", "drill"), "d.json", "{", id="report drill -o d.json is JSON"),
])
def test_the_format_comes_from_format_else_the_extension(
        tmp_path: Path, args: tuple[str, ...], name: str, starts: str) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
    from report_seed import seed

    store = tmp_path / "history.sqlite3"
    with HistoryStore(store) as history:
        seed(history)
    output = tmp_path / name

    result = irready(*args, "-o", str(output), "--history", str(store))

    assert (result.exit_code, result.stderr) == (0, f"wrote {output}\n")
    assert output.read_text().lower().startswith(starts)


def test_audit_output_r_json_is_json(aws: Any, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = irready(*AUDIT[:3], "--no-history", "--output", str(report))
    assert result.exit_code in (0, 1)
    assert report.read_text().startswith("{")


# -- one rule for every option of the kind ---------------------------------------------

def every_option() -> list[tuple[str, Any]]:
    import typer.main

    from auditor.cli import app

    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str) -> None:
        found.extend((f"{path} {param.name}", param) for param in command.params)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


def test_every_int_option_is_bounded_by_what_the_store_holds() -> None:
    """An int option without a bound overflowed SQLite's 64-bit integers (a traceback)."""
    from auditor.cli_common import INT_MAX

    ints = [(name, param) for name, param in every_option()
            if getattr(param, "type_descriptor", None) is not None
            and param.type_descriptor.annotation in (int, int | None)]
    assert ints, "no int option found: the walk is broken"
    assert [name for name, param in ints if param.max is None or param.max > INT_MAX] == []


def test_every_path_option_refuses_a_name_too_long() -> None:
    from auditor.cli_common import checked_path

    paths = [name for name, param in every_option()
             if getattr(param, "type_descriptor", None) is not None
             and param.type_descriptor.annotation in (Path, Path | None)
             and param.type_descriptor.parameter_info.callback is not checked_path]
    assert paths == []


def test_the_default_store_folder_is_created(tmp_path: Path) -> None:
    """Only irready's own default location (under XDG_DATA_HOME) is made."""
    import os

    data = Path(os.environ["XDG_DATA_HOME"])
    result = irready("history")
    assert result.exit_code == 0
    assert (data / "irready" / "history.sqlite3").is_file()


def test_a_named_reports_folder_must_exist(tmp_path: Path) -> None:
    config = tmp_path / "irready.toml"
    config.write_text(f'[schedule]\noutput_dir = "{tmp_path}/nowhere"\n\n'
                      f'[history]\npath = "{tmp_path}/h.sqlite3"\n')
    result = irready("schedule", "job", "audit", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr == (f"irready: error: schedule.output_dir: folder {tmp_path}/nowhere "
                             "does not exist\n")
    assert not (tmp_path / "nowhere").exists()
