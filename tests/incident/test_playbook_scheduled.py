"""The scheduler regenerates the playbook after each weekly audit: the audit job's
commands (compare last week's, then write this week's), what a change or a failure
makes of the job's result, and a real job writing the playbook into the reports folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import clikit
from clikit import irready

from auditor.config import load_config
from auditor.scheduler.jobs import Completed
from auditor.scheduler.plan import Plan
from auditor.scheduler.runner import SubprocessRunner
from auditor.scheduler.vocabulary import JobKind, RunStatus


def config_in(folder: Path, extra: str = "") -> Path:
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    return clikit.write_config(
        folder, '[audit]\nregions = ["us-east-1"]\n'
        f'[history]\npath = "{folder / "history.sqlite3"}"\n'
        f'[schedule]\noutput_dir = "{folder / "reports"}"\n{extra}')


def test_the_audit_job_compares_then_writes_the_playbook(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    plan = Plan.from_config(load_config(config))
    playbook = tmp_path / "reports" / "playbook.md"
    first = plan.request(JobKind.AUDIT, datetime.now(UTC)).commands
    assert [c[0] for c in first] == ["audit", "playbook"]  # no playbook yet: only written
    assert first[1] == ("playbook", "--no-audit", "--output", str(playbook), "--config",
                        str(config.absolute()))
    playbook.write_text("# last week's\n")
    commands = plan.request(JobKind.AUDIT, datetime.now(UTC)).commands
    assert [c[:4] for c in commands[1:]] == [
        ("playbook", "--no-audit", "--verify", str(playbook)),
        ("playbook", "--no-audit", "--output", str(playbook))]


def test_required_false_without_a_path_writes_none(tmp_path: Path) -> None:
    config = config_in(tmp_path, "[playbook]\nrequired = false\n")
    plan = Plan.from_config(load_config(config))
    assert [c[0] for c in plan.request(JobKind.AUDIT, datetime.now(UTC)).commands] == ["audit"]


def run_audit_job(tmp_path: Path, verify: Completed, write: Completed
                  ) -> tuple[RunStatus, tuple[str, ...]]:
    config = config_in(tmp_path)
    plan = Plan.from_config(load_config(config))
    (tmp_path / "reports" / "playbook.md").write_text("# last week's\n")
    request = plan.request(JobKind.AUDIT, datetime.now(UTC))

    def launch(argv: Sequence[str], timeout: float) -> Completed:
        if argv[0] == "audit":
            assert request.report is not None
            request.report.write_text(json.dumps({
                "account_id": "123456789012", "score": 90, "findings": [],
                "changes": {"new_failures": []}}))
            return Completed(0)
        return verify if "--verify" in argv else write

    result = SubprocessRunner(plan, launch=launch)(request)
    return result.status, result.details


def test_a_changed_playbook_is_named_in_the_notification(tmp_path: Path) -> None:
    changes = {"schema": "irready.playbook-verify/1", "matches": False, "changes": [
        {"section": "Trails", "added": ["| new |"], "removed": []},
        {"section": "Who", "added": [], "removed": ["| OPERATIONS |"]}]}
    status, details = run_audit_job(tmp_path, Completed(1, json.dumps(changes)), Completed(0))
    assert status is RunStatus.ALERT
    assert details == (f"playbook {tmp_path / 'reports' / 'playbook.md'} changed since last "
                       "week (Trails, Who): review and commit it",)


def test_an_unchanged_playbook_needs_nobody(tmp_path: Path) -> None:
    status, details = run_audit_job(tmp_path, Completed(0, '{"matches": true}'), Completed(0))
    assert (status, details) == (RunStatus.OK, ())


def test_a_playbook_not_written_needs_a_person(tmp_path: Path) -> None:
    status, details = run_audit_job(
        tmp_path, Completed(0), Completed(2, "", "irready: error: playbook.notes: cannot read "
                                                "notes.md: No such file or directory\n"))
    assert status is RunStatus.ALERT
    assert details == (f"playbook {tmp_path / 'reports' / 'playbook.md'} not written (exit 2): "
                       "playbook.notes: cannot read notes.md: No such file or directory",)


def test_a_real_audit_job_writes_the_playbook(tmp_path: Path, moto_server: str) -> None:
    config = config_in(tmp_path)
    irready("schedule", "job", "audit", "--config", str(config))
    second = irready("schedule", "job", "audit", "--config", str(config))
    assert second.exit_code == 0, second.stderr
    text = (tmp_path / "reports" / "playbook.md").read_text()
    assert text.startswith("# Incident playbook: AWS account 123456789012\n")
    assert "- **Not ready:** No trail: only 90 days of management events" in text
