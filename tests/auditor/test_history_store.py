"""The history store: a run and its findings come back exactly as saved, runs list
newest first, the schema is versioned and migrates forward on open (all or nothing), and
a file from a newer irready is refused with one clear line instead of being damaged."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from clikit import irready

from auditor.errors import NotFound, StoreError
from auditor.models import AuditRun, Finding, Severity, Status, WaiverState
from auditor.store import HistoryStore
from auditor.store import base as store_base
from auditor.store.schema import MIGRATIONS, WAIVER_COLUMNS

STARTED = datetime(2026, 3, 2, 6, 0, 0, 123000, tzinfo=UTC)  # the store keeps milliseconds


def a_run(account: str = "123456789012", started: datetime = STARTED) -> AuditRun:
    return AuditRun(
        account_id=account,
        started_at=started,
        finished_at=started + timedelta(seconds=3, milliseconds=250),
        findings=(
            Finding(check_id="iam.console_mfa", title="Console users have MFA",
                    status=Status.FAIL, severity=Severity.HIGH, account_id=account,
                    region="global", resource=f"arn:aws:iam::{account}:user/admin-user",
                    message="admin-user has a console password and no MFA.",
                    remediation="aws iam enable-mfa-device ...", references=("CIS 1.9", "IAM.5"),
                    evidence={"password_last_used": "2026-03-01"}),
            Finding(check_id="iam.root_mfa", title="Root has MFA", status=Status.WAIVED,
                    severity=Severity.CRITICAL, account_id=account, region="global",
                    resource="account", message="root has no MFA", remediation="...",
                    waiver=WaiverState("centralized root access soon", date(2026, 6, 30))),
            Finding(check_id="guardduty.enabled", title="GuardDuty is on",
                    status=Status.PASS, severity=Severity.MEDIUM, account_id=account,
                    region="eu-west-1", resource="eu-west-1", message="detector enabled",
                    remediation="aws guardduty create-detector --enable"),
        ),
        regions=("eu-west-1", "us-east-1"),
        version="0.1.0",
        caller_arn=f"arn:aws:iam::{account}:user/auditor",
    )


def test_a_run_round_trips(store: HistoryStore) -> None:
    run = a_run()
    run_id = store.save_run(run)

    loaded = store.load_run(run_id)

    assert loaded == replace(run, run_id=run_id)
    assert loaded.score == run.score


def test_runs_list_newest_first_with_counts(store: HistoryStore) -> None:
    first = store.save_run(a_run(started=STARTED))
    second = store.save_run(a_run(started=STARTED + timedelta(days=7)))
    store.save_run(a_run(account="210987654321"))

    runs = store.runs(account_id="123456789012")

    assert [r.run_id for r in runs] == [second, first]
    assert runs[0].counts == {"PASS": 1, "FAIL": 1, "ERROR": 0, "NOT_APPLICABLE": 0,
                              "WAIVED": 1}
    assert store.latest_run("123456789012").run_id == second  # type: ignore[union-attr]
    assert store.latest_run("123456789012", before=second).run_id == first  # type: ignore[union-attr]
    assert [r.run_id for r in store.runs(limit=1)] == [second]


def test_an_unknown_run_is_not_found(store: HistoryStore) -> None:
    with pytest.raises(NotFound, match=r"^no audit run with id 42 in "):
        store.load_run(42)


def test_a_new_store_has_the_latest_schema(store: HistoryStore) -> None:
    assert store.schema_version == len(MIGRATIONS)


def old_store(path: Path, version: int = 1) -> None:
    """A file as an irready with only the first `version` migrations left it, with data."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO audit_runs (account_id, started_at, finished_at, score, regions,"
               " version) VALUES ('123456789012', '2025-01-06T06:00:00.000Z',"
               " '2025-01-06T06:00:03.000Z', 50.0, '[]', '0.0.1')")
    db.commit()
    db.close()


def test_an_old_store_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    old_store(path, version=1)

    with HistoryStore(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        [summary] = store.runs()
        assert store.load_run(summary.run_id).version == "0.0.1"


def test_a_partial_run_is_stored_and_listed_as_partial(store: HistoryStore) -> None:
    full = store.save_run(replace(a_run(), checks=("guardduty.enabled", "iam.console_mfa",
                                                   "iam.root_mfa")))
    partial = store.save_run(replace(a_run(started=STARTED + timedelta(days=1)),
                                     checks=("iam.console_mfa",), complete=False))

    assert store.load_run(partial).checks == ("iam.console_mfa",)
    assert store.load_run(partial).complete is False
    assert store.load_run(full).complete is True
    assert [(r.run_id, r.complete, r.checks) for r in store.runs()] == [
        (partial, False, ("iam.console_mfa",)),
        (full, True, ("guardduty.enabled", "iam.console_mfa", "iam.root_mfa"))]
    assert [r.run_id for r in store.runs(complete=True)] == [full]
    assert [r.run_id for r in store.runs(complete=False)] == [partial]


def test_runs_stored_before_the_checks_were_recorded_are_complete(tmp_path: Path) -> None:
    """Schema 2 did not record the selection: its runs stay complete (nothing says
    otherwise) and their checks are the ones with findings, since every selected check
    yields at least one."""
    path = tmp_path / "history.sqlite3"
    old_store(path, version=2)
    db = sqlite3.connect(path)
    for check_id in ("iam.root_mfa", "cloudtrail.enabled", "iam.root_mfa"):
        db.execute("INSERT INTO findings VALUES (1, 'k', ?, 't', 'PASS', 4, '123456789012',"
                   " 'global', 'account', 'm', 'r', '[]', '{}', NULL)", (check_id,))
    db.commit()
    db.close()

    with HistoryStore(path) as store:
        [summary] = store.runs()
        assert (summary.complete, summary.checks) == (True, ("cloudtrail.enabled",
                                                             "iam.root_mfa"))
        loaded = store.load_run(summary.run_id)
        assert (loaded.complete, loaded.checks) == (True, ("cloudtrail.enabled",
                                                           "iam.root_mfa"))
        assert [r.run_id for r in store.runs(complete=True)] == [summary.run_id]


def test_waivers_stored_as_text_become_typed(tmp_path: Path) -> None:
    """Before the waiver columns a waived finding kept "reason (until DATE)" as text;
    the migration splits it, so the reports read the date instead of parsing it."""
    path = tmp_path / "history.sqlite3"
    old_store(path, version=MIGRATIONS.index(WAIVER_COLUMNS))
    db = sqlite3.connect(path)
    for resource, waiver, message in (
            ("a", "break-glass (until 2026-06-30)", "m"),
            ("b", "why (not) (until 2027-01-31)", "m"),
            ("c", None, "m"),
            ("d", None, "root can sign in (waiver expired on 2026-02-28)")):
        db.execute("INSERT INTO findings (run_id, key, check_id, title, status, severity,"
                   " account_id, region, resource, message, remediation, refs, evidence,"
                   " waiver) VALUES (1, 'k', 'iam.root_mfa', 't', ?, 4, '123456789012',"
                   " 'global', ?, ?, 'r', '[]', '{}', ?)",
                   ("WAIVED" if waiver else "FAIL", resource, message, waiver))
    db.commit()
    db.close()

    with HistoryStore(path) as store:
        [summary] = store.runs()
        waivers = {f.resource: f.waiver for f in store.load_run(summary.run_id).findings}
    assert waivers == {"a": WaiverState("break-glass", date(2026, 6, 30)),
                       "b": WaiverState("why (not)", date(2027, 1, 31)), "c": None,
                       "d": WaiverState("", date(2026, 2, 28), applies=False)}
    assert waivers["a"] is not None
    assert waivers["a"].text == "break-glass (until 2026-06-30)"


def test_history_marks_partial_runs(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        store.save_run(replace(a_run(), checks=("guardduty.enabled", "iam.console_mfa",
                                                "iam.root_mfa")))
        store.save_run(replace(a_run(started=STARTED + timedelta(days=1)),
                               checks=("iam.console_mfa", "iam.root_mfa"), complete=False))

    result = irready("history", "--history", str(path))

    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if "123456789012" in line]
    # the run, its whole start time (the table still fits 80 columns), the marked score
    assert [[row[1], row[5], row[7]] for row in rows] == [
        ["2", "2026-03-03T06:00:00.123Z", "33*"], ["1", "2026-03-02T06:00:00.123Z", "33"]]
    assert result.stdout.endswith(
        "* partial run (--check, --skip, audit.checks or audit.skip): its score\n"
        "  covers only the checks it ran; the compliance report and the\n"
        "  scheduler's weekly audit leave it out\n")


def test_history_says_how_much_a_score_covers(tmp_path: Path) -> None:
    """A check that could not be evaluated leaves the score (which may then rise): the
    list says how many of the run's controls its score covers."""
    path = tmp_path / "history.sqlite3"
    whole = replace(a_run(), checks=("guardduty.enabled", "iam.console_mfa", "iam.root_mfa"))
    broken = replace(whole, started_at=STARTED + timedelta(days=1), findings=tuple(
        replace(f, status=Status.ERROR, message="access denied")
        if f.check_id == "guardduty.enabled" else f for f in whole.findings))
    with HistoryStore(path) as store:
        store.save_run(whole)
        store.save_run(broken)
        summaries = store.runs()

    assert [(s.coverage.evaluated, s.coverage.selected) if s.coverage else None
            for s in summaries] == [(2, 3), (3, 3)]
    result = irready("history", "--history", str(path))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if "123456789012" in line]
    assert [[row[1], *row[7:9]] for row in rows] == [["2", "0", "(2/3)"], ["1", "33", "│"]]
    assert "(E/S): the score covers E of the S controls the run selected" in result.stdout


def test_history_without_partial_runs_has_no_footnote(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        store.save_run(a_run())

    result = irready("history", "--history", str(path))

    assert "*" not in result.stdout


def test_a_future_migration_runs_once_and_keeps_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    old_store(path, version=len(MIGRATIONS))
    monkeypatch.setattr(store_base, "MIGRATIONS", (
        *MIGRATIONS, "CREATE TABLE audit_notes (run_id INTEGER, note TEXT NOT NULL)"))

    with HistoryStore(path) as store:
        assert store.schema_version == len(MIGRATIONS) + 1
        assert len(store.runs()) == 1
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO audit_notes VALUES (1, 'migrated')")
    with HistoryStore(path) as store:  # opening again migrates nothing
        assert store.schema_version == len(MIGRATIONS) + 1
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT note FROM audit_notes").fetchall() == [("migrated",)]


def test_a_failed_migration_changes_nothing(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.sqlite3"
    old_store(path, version=len(MIGRATIONS))
    monkeypatch.setattr(store_base, "MIGRATIONS", (
        *MIGRATIONS, "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1)"))

    with pytest.raises(StoreError) as raised:
        HistoryStore(path)
    assert str(raised.value) == (f"cannot use the history store {path}: "
                                 "no such table: no_such_table")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
    db.close()


def newer_store(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()


def test_a_store_from_a_newer_irready_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    newer_store(path)

    with pytest.raises(StoreError) as raised:
        HistoryStore(path)
    assert str(raised.value) == (
        f"the history store {path} was written by a newer irready "
        f"(schema {len(MIGRATIONS) + 1}, this one knows {len(MIGRATIONS)})")


def test_the_cli_refuses_a_newer_store_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    newer_store(path)

    result = irready("history", "--history", str(path))

    assert result.exit_code == 2
    assert result.stderr == (
        f"irready: error: the history store {path} was written by a newer irready "
        f"(schema {len(MIGRATIONS) + 1}, this one knows {len(MIGRATIONS)})\n")
    assert "Traceback" not in result.output


def test_a_store_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_text("not a database, just some notes\n" * 100)

    result = irready("history", "--history", str(path))

    assert result.exit_code == 2
    assert result.stderr == (
        f"irready: error: the history store {path} is not an SQLite database (damaged, or "
        "another file): move it aside (irready then starts a new one there) or pass another "
        "--history path\n")


@pytest.mark.parametrize("version", [0, 3])
def test_another_applications_database_is_refused_unchanged(tmp_path: Path,
                                                            version: int) -> None:
    """Non-empty, without irready's tables (whatever its user_version says): opening it
    added irready's tables to it."""
    path = tmp_path / "app.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute(f"PRAGMA user_version = {version}")
    before = path.read_bytes()

    with pytest.raises(StoreError) as raised:
        HistoryStore(path)

    assert raised.value.message == (
        f"{path} is another application's SQLite database, not an irready history store: "
        "irready leaves it unchanged; pass another --history path or [history] path")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite3"]


def test_damage_met_while_reading_rows_is_a_store_error(tmp_path: Path) -> None:
    """SQLite may meet a damaged page only while it steps through rows: the store's one
    door turns that into the StoreError naming the file too."""
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path):
        pass
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # the schema's pages (however many tables it has) stay whole: only rows are damaged
        schema_pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    with HistoryStore(path) as store:
        for day in range(40):
            store.save_run(a_run(started=STARTED + timedelta(days=day)))
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[schema_pages * 4096:] = b"\xff" * (len(data) - schema_pages * 4096)
    path.write_bytes(bytes(data))

    with HistoryStore(path) as store, pytest.raises(StoreError) as raised:
        store.runs()
    assert raised.value.message.startswith(f"the history store {path} is damaged (")
