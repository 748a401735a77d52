"""The check playbook.current against moto: no playbook fails; a playbook written (or
verified) after the audit passes the next audit; a change to a part the playbook was
built from fails it and names the part; an old one fails; `required = false` is
NOT_APPLICABLE."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import irready

from auditor.errors import ExitCode
from auditor.store import HistoryStore, PlaybookRecord


def current(config_file: Path) -> tuple[str, str]:
    result = irready("audit", "--config", config_file, "--format", "json",
                     "--check", "playbook.current")
    assert result.exit_code in (ExitCode.OK, ExitCode.FAILED), result.output
    (finding,) = json.loads(result.stdout)["findings"]
    return finding["status"], finding["message"]


def full_audit_and_playbook(config_file: Path, *extra: str) -> None:
    assert irready("audit", "--config", config_file, "--format", "json").exit_code in (
        ExitCode.OK, ExitCode.FAILED)
    result = irready("playbook", "--config", config_file, "--no-audit", *extra)
    assert result.exit_code == ExitCode.OK, result.output


def test_no_playbook_fails(secrets: dict[str, str], config_file: Path) -> None:
    assert current(config_file) == (
        "FAIL", "No playbook has been written for this account (irready playbook).")


def test_a_current_playbook_passes_and_a_change_names_the_part(
        aws: Any, secrets: dict[str, str], config_file: Path, tmp_path: Path) -> None:
    full_audit_and_playbook(config_file, "--output", tmp_path / "playbook.md")
    status, message = current(config_file)
    assert status == "PASS"
    assert message.endswith("(0 days ago) still describes the account.")

    aws.client("account").put_alternate_contact(
        AlternateContactType="OPERATIONS", Name="Ops", Title="Ops",
        EmailAddress="ops@example.com", PhoneNumber="+15555550101")
    aws.client("iam").create_user(UserName="new-bot")
    aws.client("iam").create_access_key(UserName="new-bot")
    status, message = current(config_file)
    assert status == "FAIL"
    assert message == (f"The account changed since the playbook of "
                       f"{datetime.now(UTC):%Y-%m-%d}: users with active keys, alternate "
                       "contacts.")


def test_a_matching_verify_counts_as_current(secrets: dict[str, str], config_file: Path,
                                             tmp_path: Path) -> None:
    full_audit_and_playbook(config_file, "--output", tmp_path / "playbook.md")
    path = config_file.parent / "history.sqlite3"
    with HistoryStore(path) as store:
        first = store.latest_playbook("123456789012")
    assert first is not None
    result = irready("playbook", "--config", config_file, "--no-audit", "--verify",
                     tmp_path / "playbook.md")
    assert result.exit_code == ExitCode.OK
    with HistoryStore(path) as store:
        second = store.latest_playbook("123456789012")
    assert second is not None
    assert second.generated_at > first.generated_at


def test_the_newest_playbook_counts(secrets: dict[str, str], config_file: Path) -> None:
    full_audit_and_playbook(config_file)
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        latest = store.latest_playbook("123456789012")
        assert latest is not None
        store.record_playbook(PlaybookRecord(
            latest.account_id, datetime.now(UTC) + timedelta(days=-30, seconds=1),
            latest.run_id, latest.digests))
    # the newest playbook counts, not the last one recorded
    assert current(config_file)[0] == "PASS"
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        store.record_playbook(PlaybookRecord(
            latest.account_id, datetime.now(UTC) + timedelta(seconds=5), latest.run_id,
            latest.digests))
    assert current(config_file)[0] == "PASS"


@pytest.mark.parametrize("days", [20])
def test_a_playbook_older_than_max_age_fails(secrets: dict[str, str], config_file: Path,
                                             days: int) -> None:
    full_audit_and_playbook(config_file)
    path = config_file.parent / "history.sqlite3"
    import sqlite3

    db = sqlite3.connect(path)
    stamp = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    db.execute("UPDATE playbooks SET generated_at = ?", (stamp,))
    db.commit()
    db.close()
    assert current(config_file) == (
        "FAIL", f"The playbook was written {days} days ago (every 14 days is the target).")


def test_required_false_is_not_applicable(secrets: dict[str, str], config_file: Path) -> None:
    config_file.write_text(config_file.read_text().replace(
        "[playbook]\n", "[playbook]\nrequired = false\n"))
    assert current(config_file) == (
        "NOT_APPLICABLE", "[playbook] required = false: the team keeps its playbook elsewhere.")


def test_the_compliance_summary_names_the_playbook(secrets: dict[str, str],
                                                  config_file: Path) -> None:
    from reports.compliance import build_compliance
    from reports.compliance_pdf import render_compliance_html
    from reports.compliance_period import parse_period

    path = config_file.parent / "history.sqlite3"
    assert irready("audit", "--config", config_file, "--format", "json").exit_code in (
        ExitCode.OK, ExitCode.FAILED)
    now = datetime.now(UTC) + timedelta(seconds=1)
    with HistoryStore(path) as store:
        report = build_compliance(store, period=parse_period(since=None, quarter=None, now=now),
                                  generated_at=now)
    assert report.playbook == "Playbook: none written yet (irready playbook)."

    full_audit_and_playbook(config_file)
    now = datetime.now(UTC) + timedelta(seconds=1)
    with HistoryStore(path) as store:
        report = build_compliance(store, period=parse_period(since=None, quarter=None, now=now),
                                  generated_at=now)
    # billing-app and ci-deployer are in the inventory; legacy-etl is not
    line = f"Playbook: current as of {now:%Y-%m-%d}, covers 2 of 3 keys."
    assert report.playbook == line
    assert f'<p class="playbook-line">{line}</p>' in render_compliance_html(report)
