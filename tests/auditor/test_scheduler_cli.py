"""`irready schedule ...` as a user meets it: bad input is one line and an exit code;
`schedule job` runs the real `irready audit` in a subprocess (against a moto server) and
notifies a webhook on 127.0.0.1; `schedule run` stops on SIGTERM; the cron lines and
systemd units parse and call commands that exist."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import clikit
import pytest
from clikit import irready
from test_notify import Webhook

from auditor.cadence import WEEKDAYS
from auditor.config import load_config
from auditor.scheduler.jobs import TIMED_OUT, Completed, prune_reports
from auditor.scheduler.lock import FileLock
from auditor.scheduler.log import ScheduleLog
from auditor.scheduler.plan import Plan
from auditor.scheduler.runner import SubprocessRunner
from auditor.scheduler.vocabulary import JobKind, RunStatus, Trigger
from auditor.store import DrillRecord, HistoryStore


def write_config(folder: Path, schedule: str = "", notify: str = "", extra: str = "") -> Path:
    (folder / "reports").mkdir(parents=True, exist_ok=True)  # named folders must exist
    return clikit.write_config(
        folder,
        '[audit]\nregions = ["us-east-1"]\n'
        f'[history]\npath = "{folder / "history.sqlite3"}"\n'
        f'[schedule]\noutput_dir = "{folder / "reports"}"\n{schedule}\n'
        f"[notify]\n{notify}\n{extra}")


def plan_of(config_path: Path) -> Plan:
    return Plan.from_config(load_config(config_path))


# -- bad input: one line and an exit code -----------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        pytest.param('audit = "every mondey 06:00"',
                     "schedule.audit: cannot read 'every mondey 06:00' (expected 'daily HH:MM',"
                     " '<weekday> HH:MM', 'monthly [<weekday>] HH:MM', "
                     "'quarterly [<weekday>] HH:MM' or 'off')", id="schedule expression"),
        pytest.param('drill = "quarterly monday 7am"',
                     "schedule.drill: '7am' in 'quarterly monday 7am' is not a time HH:MM "
                     "(24-hour)", id="time"),
        pytest.param('timezone = "Europe/Pariss"',
                     "schedule.timezone: unknown time zone 'Europe/Pariss' (expected an IANA "
                     "name such as Europe/Paris or UTC)", id="time zone"),
        pytest.param("keep_reports = -1", "schedule.keep_reports: must be 0 (keep all) or more",
                     id="keep_reports"),
        pytest.param('detect = "quarterly mondey 07:30"',
                     "schedule.detect: 'mondey' is not a weekday in 'quarterly mondey 07:30'",
                     id="detection drill"),
    ],
)
def test_bad_schedule_settings_are_one_line_exit_2(tmp_path: Path, schedule: str,
                                                    error: str) -> None:
    config = write_config(tmp_path, schedule)
    for command in (["schedule", "run"], ["schedule", "status"], ["config", "check"]):
        result = irready(*command, "--config" if command[0] == "schedule" else str(config),
                         *([str(config)] if command[0] == "schedule" else []))
        assert result.exit_code == 2, command
        assert result.stderr == f"irready: error: {config}: {error}\n"


def test_an_output_folder_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    config = write_config(tmp_path, f'output_dir = "{tmp_path / "not-a-folder" / "reports"}"'
                          ).read_text().replace(f'output_dir = "{tmp_path / "reports"}"\n', "")
    (tmp_path / "irready.toml").write_text(config)

    for command in ("run", "job"):
        result = irready("schedule", command, *(["audit"] if command == "job" else []),
                         "--config", str(tmp_path / "irready.toml"))
        assert result.exit_code == 2
        # a folder named in the config is never created: it must exist
        assert result.stderr == (f"irready: error: schedule.output_dir: folder "
                                 f"{tmp_path / 'not-a-folder' / 'reports'} does not exist\n")


def test_a_second_scheduler_exits_5_and_names_the_holder(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with FileLock(plan_of(config).lock_path("scheduler"), "").held(
            datetime(2026, 1, 5, 6, tzinfo=UTC)):
        result = irready("schedule", "run", "--config", str(config))
    assert result.exit_code == 5
    assert re.fullmatch(
        rf"irready: error: another irready scheduler is already running: pid {os.getpid()} on "
        r"\S+ since 2026-01-05T06:00:00.000Z \(lock \S+history.sqlite3.scheduler.lock\)\n",
        result.stderr)


def test_a_job_already_running_exits_5(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with FileLock(plan_of(config).lock_path("audit"), "").held(datetime.now(UTC)):
        result = irready("schedule", "job", "audit", "--config", str(config))
    assert result.exit_code == 5
    assert result.stderr.startswith("irready: error: the audit job is already running: pid ")


def test_nothing_to_run(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'audit = "off"\nreport = "off"')
    result = irready("schedule", "run", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr == ("irready: error: schedule: every job is off, so there is "
                             "nothing to run\n")


def test_a_job_that_is_off(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = irready("schedule", "job", "drill", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr == ("irready: error: the drill job is off: no [drill] users in the "
                             "config\n")
    assert irready("schedule", "job", "drill", "--if-due", "--config", str(config)
                   ).exit_code == 0


# -- real jobs in subprocesses -----------------------------------------------------------


def test_the_scheduled_audit_runs_irready_audit_and_notifies_new_failures(
        tmp_path: Path, moto_server: str) -> None:
    with Webhook() as webhook:
        config = write_config(tmp_path, notify=f'webhook_url = "{webhook.url}"')
        first = irready("schedule", "job", "audit", "--config", str(config))
        second = irready("schedule", "job", "audit", "--config", str(config))

    # the first audit of an account: every failure is new, and a person hears of it
    assert first.exit_code == 1
    report, _second_report = sorted((tmp_path / "reports").glob("audit-*.json"))
    assert first.stderr.startswith("irready schedule: audit: ALERT: account 123456789012: score ")
    assert first.stderr.endswith(f"; report: {report}\n")
    (post,) = webhook.posts
    text = post["text"]
    assert text.startswith("irready audit needs attention: account 123456789012")
    assert "new FAIL [critical] cloudtrail.enabled" in text
    assert f"report: {report}" in text
    assert post["irready"]["report"] == str(report)
    document = json.loads(report.read_text())
    assert document["schema"] == "irready.audit/1"
    # the second finds the same failures: nothing new, nobody paged, exit 0 for cron
    assert second.exit_code == 0, second.stderr
    assert second.stderr == ""
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        assert len(store.runs()) == 2


def test_an_audit_that_cannot_run_is_a_failed_job(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = write_config(tmp_path)

    result = irready("schedule", "job", "audit", "--config", str(config))

    assert result.exit_code == 3
    assert result.stderr == (
        "irready: error: schedule job audit: the audit failed (exit 3): no AWS "
        "credentials found: set AWS_PROFILE or pass --profile, or run 'irready demo' to try "
        "irready on a simulated account\n")
    status = json.loads(irready("schedule", "status", "--format", "json", "--config",
                                str(config)).stdout)
    (audit,) = [job for job in status["jobs"] if job["job"] == "audit"]
    assert audit["last"]["status"] == "FAILED"
    assert audit["last"]["exit_code"] == 3
    assert audit["last"]["trigger"] == "manual"


def test_schedule_run_stops_on_sigterm(tmp_path: Path) -> None:
    tomorrow = WEEKDAYS[(date.today().weekday() + 1) % 7]
    config = write_config(tmp_path, f'audit = "{tomorrow} 06:00"\nreport = "off"')
    process = subprocess.Popen(
        [sys.executable, "-m", "auditor", "schedule", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    started = process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=30)[1]

    assert "irready schedule: started (pid " in started
    assert process.returncode == 0
    lines = rest.splitlines()
    # the signal may land before or after the start-up warnings are logged
    assert [line for line in lines if line.endswith(
        "irready schedule: SIGTERM received: stopping after the running job ends")]
    assert lines[-1].endswith("irready schedule: stopped")


def test_drill_results_are_read_from_the_history_store(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=(
        '[drill]\nusers = ["fast-user", "slow-user", "broken-user"]\n'
        '[[inventory]]\nuser = "fast-user"\nowner = "ops"\nrotation_target = "ssm:/app/fast"\n'
        '[[inventory]]\nuser = "slow-user"\nowner = "ops"\nrotation_target = "ssm:/app/slow"\n'
        '[[inventory]]\nuser = "broken-user"\nowner = "ops"\n'
        'rotation_target = "ssm:/app/broken"\n'))
    plan = plan_of(config)
    plan.output_dir.mkdir(exist_ok=True)
    started = datetime.now(UTC)

    def drill(argv: Any, timeout: float) -> Completed:
        """Stands in for `irready drill rotate`, which writes its drill to the store."""
        user = argv[argv.index("--user") + 1]
        if user == "broken-user":
            return Completed(1, "", "irready: error: the target ssm:/app/broken holds another "
                             "key; nothing was changed\n")
        seconds = {"fast-user": 240.0, "slow-user": 1100.0}[user]
        with HistoryStore(plan.history_file) as store:
            store.save_drill(DrillRecord(f"d-{user}", "123456789012", user, "t", "SUCCEEDED",
                                         started, started + timedelta(seconds=seconds),
                                         seconds, 900.0))
        Path(argv[argv.index("--output") + 1]).write_text("{}")
        return Completed(0)

    result = SubprocessRunner(plan, launch=drill)(plan.request(JobKind.DRILL, started))

    assert result.status is RunStatus.FAILED
    assert result.exit_code == 1
    assert result.summary == (
        "drill of fast-user (ssm:/app/fast) rotated in 4 min; "
        "drill of slow-user (ssm:/app/slow) took 18.3 min, over its 15-minute target; "
        "drill of broken-user (ssm:/app/broken) failed: the target "
        "ssm:/app/broken holds another key; nothing was changed")
    assert "slow-user: drill d-slow-user, status SUCCEEDED; details: irready drill show " \
           "d-slow-user" in result.details
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    assert result.report == ", ".join(
        str(plan.output_dir / f"drill-{stamp}-{user}.json") for user in ("fast-user", "slow-user"))


def test_two_runs_within_one_second_write_two_reports(tmp_path: Path) -> None:
    plan = plan_of(write_config(tmp_path))
    now = datetime(2026, 12, 7, 6, 0, 0, 400000, tzinfo=UTC)
    first = plan.request(JobKind.AUDIT, now).report
    assert first == plan.output_dir / "audit-20261207T060000Z.json"
    plan.output_dir.mkdir(parents=True, exist_ok=True)
    first.write_text("{}")

    second = plan.request(JobKind.AUDIT, now.replace(microsecond=900000)).report

    assert second == plan.output_dir / "audit-20261207T060001Z.json"
    assert plan.request(JobKind.REPORT, now).report == (
        plan.output_dir / "compliance-20261207T060000Z.pdf")  # another job's files: no clash


def test_old_reports_are_pruned_but_other_files_stay(tmp_path: Path) -> None:
    stamps = [f"2026010{day}T060000Z" for day in range(1, 6)]
    for stamp in stamps:
        (tmp_path / f"compliance-{stamp}.pdf").write_text("")
        (tmp_path / f"compliance-{stamp}.csv").write_text("")
        (tmp_path / f"drill-{stamp}-drill-user.json").write_text("")
    (tmp_path / "compliance-final.pdf").write_text("")

    prune_reports(tmp_path, "compliance", keep=2)
    prune_reports(tmp_path, "drill", keep=1)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "compliance-20260104T060000Z.csv", "compliance-20260104T060000Z.pdf",
        "compliance-20260105T060000Z.csv", "compliance-20260105T060000Z.pdf",
        "compliance-final.pdf", "drill-20260105T060000Z-drill-user.json"]


def test_compliance_reports_are_pruned_per_account(tmp_path: Path) -> None:
    """An account audited once a quarter keeps its reports while another's daily ones
    come and go."""
    for day in range(1, 6):
        for suffix in ("pdf", "findings.csv"):
            (tmp_path / f"compliance-2026010{day}T080000Z-111111111111.{suffix}").write_text("")
    (tmp_path / "compliance-20251001T080000Z-222222222222.pdf").write_text("")

    prune_reports(tmp_path, "compliance", keep=2, per_account=True)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "compliance-20251001T080000Z-222222222222.pdf",
        "compliance-20260104T080000Z-111111111111.findings.csv",
        "compliance-20260104T080000Z-111111111111.pdf",
        "compliance-20260105T080000Z-111111111111.findings.csv",
        "compliance-20260105T080000Z-111111111111.pdf"]


def test_the_reports_of_several_accounts_are_one_result(tmp_path: Path) -> None:
    plan = plan_of(write_config(tmp_path))
    started = datetime(2026, 6, 1, 8, tzinfo=UTC)
    request = plan.request(JobKind.REPORT, started, accounts=("111111111111", "222222222222"))

    def report(argv: Any, _timeout: float) -> Completed:
        if "222222222222" in argv:
            return Completed(2, "", "irready: error: no audit runs or drills for account "
                                    "222222222222")
        Path(argv[argv.index("--output") + 1]).write_text("%PDF")
        return Completed(0)

    plan.output_dir.mkdir(parents=True, exist_ok=True)
    result = SubprocessRunner(plan, launch=report)(request)

    first = plan.output_dir / "compliance-20260601T080000Z-111111111111.pdf"
    assert (result.status, result.exit_code, result.report) == (RunStatus.FAILED, 2, str(first))
    assert result.summary == (
        f"wrote {first}; the compliance report failed (exit 2): no audit runs or drills for "
        "account 222222222222")


# -- status -------------------------------------------------------------------------------


def test_status_table(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'timezone = "Europe/Paris"')
    result = irready("schedule", "status", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    assert "scheduler: not running" in result.stdout
    assert "time zone: Europe/Paris" in result.stdout
    assert "Mondays at 06:00" in result.stdout
    assert "off: no [drill] users in the config" in " ".join(result.stdout.split())
    assert "notifications: none configured ([notify]): a failed job reaches nobody" in \
        result.stdout


def test_status_names_the_notification_channels(tmp_path: Path) -> None:
    config = write_config(tmp_path, notify='webhook_url = "env:IRREADY_TEST_HOOK"\n'
                          'sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:alerts"')
    table = irready("schedule", "status", "--config", str(config))
    assert "notifications: webhook, sns" in table.stdout
    document = irready("schedule", "status", "--config", str(config), "--format", "json")
    assert json.loads(document.stdout)["notify_channels"] == ["webhook", "sns"]


# -- cron and systemd -----------------------------------------------------------------


CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_field_ok(text: str, low: int, high: int) -> bool:
    if text == "*":
        return True
    return all(part.isdigit() and low <= int(part) <= high for part in text.split(","))


def subcommands_exist(argv: list[str]) -> None:
    """Each word of `irready a b c` is a command listed by the `--help` of its parent."""
    words = [w for w in argv if not w.startswith("-")]
    path: list[str] = []
    for word in words[:2]:  # "schedule", then "job" or "run"
        listing = irready(*path, "--help").stdout
        assert re.search(rf"^\s+{word}\s", listing, re.MULTILINE), (path, word)
        path.append(word)


@pytest.fixture
def drill_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, 'timezone = "Europe/Paris"', extra=(
        '[drill]\nusers = ["drill-user"]\n'
        '[[inventory]]\nuser = "drill-user"\nowner = "ops"\n'
        'rotation_target = "secretsmanager:app-key"\n'))


def test_cron_lines_parse_and_call_commands_that_exist(drill_config: Path) -> None:
    result = irready("schedule", "install", "--cron", "--config", str(drill_config))
    assert result.exit_code == 0, result.stderr

    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "CRON_TZ=Europe/Paris"
    entries = [line.split(None, 5) for line in lines[1:]]
    assert [entry[:5] for entry in entries] == [["0", "6", "*", "*", "1"],
                                                ["0", "7", "*", "*", "*"],
                                                ["0", "8", "*", "*", "*"]]
    for entry in entries:
        assert all(cron_field_ok(f, *r) for f, r in zip(entry[:5], CRON_RANGES, strict=True))
        argv = shlex.split(entry[5])
        program_end = argv.index("schedule")
        assert argv[program_end:program_end + 2] == ["schedule", "job"]
        assert argv[program_end + 3:] == ["--if-due", "--config", str(drill_config)]
        subcommands_exist(argv[program_end:])
    # the program itself runs: its `--help` for the exact subcommand exits 0
    argv = shlex.split(entries[0][5])
    program_end = argv.index("schedule")
    check = subprocess.run([*argv[:program_end], "schedule", "job", "--help"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "--if-due" in check.stdout


def parse_units(text: str) -> dict[str, configparser.ConfigParser]:
    units = {}
    for chunk in text.split("# file: ")[1:]:
        name, body = chunk.split("\n", 1)
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(body)
        units[name] = parser
    return units


def test_systemd_timers_parse_and_call_commands_that_exist(drill_config: Path) -> None:
    result = irready("schedule", "install", "--systemd", "--config", str(drill_config))
    assert result.exit_code == 0, result.stderr

    units = parse_units(result.stdout)
    assert sorted(units) == sorted(f"irready-{job}.{kind}" for job in ("audit", "drill", "report")
                                   for kind in ("service", "timer"))
    calendars = {}
    for job in ("audit", "drill", "report"):
        service, timer = units[f"irready-{job}.service"], units[f"irready-{job}.timer"]
        assert service.sections() == ["Unit", "Service"]
        assert service["Service"]["Type"] == "oneshot"
        argv = shlex.split(service["Service"]["ExecStart"])
        assert Path(argv[0]).is_absolute()
        program_end = argv.index("schedule")
        assert argv[program_end:] == ["schedule", "job", job, "--if-due",
                                      "--config", str(drill_config)]
        subcommands_exist(argv[program_end:])
        assert timer.sections() == ["Unit", "Timer", "Install"]
        assert timer["Timer"]["Unit"] == f"irready-{job}.service"
        assert timer["Timer"]["Persistent"] == "true"
        calendars[job] = timer["Timer"]["OnCalendar"]
    assert calendars == {"audit": "Mon *-*-* 06:00:00 Europe/Paris",
                         "drill": "*-*-* 07:00:00 Europe/Paris",
                         "report": "*-*-* 08:00:00 Europe/Paris"}
    pattern = re.compile(r"^((Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\*-\*-\* "
                         r"([01]\d|2[0-3]):[0-5]\d:00 [A-Za-z_]+(/[A-Za-z_]+)*$")
    assert all(pattern.match(value) for value in calendars.values())
    analyze = shutil.which("systemd-analyze")
    if analyze:  # where systemd is installed, ask it too
        for value in calendars.values():
            check = subprocess.run([analyze, "calendar", value], capture_output=True,
                                   text=True, timeout=30)
            assert check.returncode == 0, check.stderr


def test_systemd_lets_every_drill_of_a_run_take_its_timeout(tmp_path: Path) -> None:
    """Two drill users and the report after them: three commands of up to 30 minutes (and
    a minute's SIGINT grace each) must fit in the drill unit's TimeoutStartSec, or
    systemd kills the second drill mid-step."""
    config = write_config(tmp_path, "job_timeout_minutes = 30", extra=(
        '[drill]\nusers = ["one", "two"]\n'
        '[[inventory]]\nuser = "one"\nowner = "ops"\nrotation_target = "ssm:/one"\n'
        '[[inventory]]\nuser = "two"\nowner = "ops"\nrotation_target = "ssm:/two"\n'))
    units = parse_units(irready("schedule", "install", "--systemd", "--config",
                                str(config)).stdout)
    limits = {job: units[f"irready-{job}.service"]["Service"]["TimeoutStartSec"]
              for job in ("audit", "drill", "report")}
    assert limits == {"audit": "41min", "drill": "103min", "report": "41min"}
    service = parse_units(irready("schedule", "install", "--systemd", "--service", "--config",
                                  str(config)).stdout)["irready-scheduler.service"]
    assert service["Service"]["TimeoutStopSec"] == "103min"


def test_the_long_running_systemd_service(drill_config: Path) -> None:
    result = irready("schedule", "install", "--systemd", "--service", "--config",
                     str(drill_config))
    (unit,) = parse_units(result.stdout).values()
    assert unit.sections() == ["Unit", "Service", "Install"]
    assert unit["Service"]["KillMode"] == "mixed"  # SIGTERM reaches only the scheduler
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert argv[argv.index("schedule"):] == ["schedule", "run", "--config", str(drill_config)]


def test_write_puts_files_only_where_asked(tmp_path: Path, drill_config: Path) -> None:
    target = tmp_path / "units"
    missing = irready("schedule", "install", "--systemd", "--write", str(target),
                      "--config", str(drill_config))
    assert missing.exit_code == 2
    assert missing.stderr == f"irready: error: --write: {target} is not an existing folder\n"

    target.mkdir()
    first = irready("schedule", "install", "--systemd", "--write", str(target),
                    "--config", str(drill_config))
    assert first.exit_code == 0, first.stderr
    assert sorted(p.name for p in target.iterdir()) == sorted(
        f"irready-{job}.{kind}" for job in ("audit", "drill", "report")
        for kind in ("service", "timer"))
    assert "systemctl --user enable --now irready-audit.timer" in first.stdout

    again = irready("schedule", "install", "--systemd", "--write", str(target),
                    "--config", str(drill_config))
    assert again.exit_code == 2
    assert again.stderr.endswith("exists; pass --force to overwrite it\n")

    cron = irready("schedule", "install", "--cron", "--write", str(target),
                   "--config", str(drill_config))
    assert cron.exit_code == 0
    assert (target / "irready.crontab").read_text().startswith("# irready: generated")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param([], "choose one of --cron or --systemd", id="neither"),
        pytest.param(["--cron", "--systemd"], "choose one of --cron or --systemd", id="both"),
        pytest.param(["--cron", "--service"], "--service goes with --systemd", id="service"),
    ],
)
def test_install_options(tmp_path: Path, args: list[str], error: str) -> None:
    result = irready("schedule", "install", *args, "--config", str(write_config(tmp_path)))
    assert result.exit_code == 2
    assert result.stderr == f"irready: error: {error}\n"


def test_the_commands_jobs_run_exist_with_their_options(drill_config: Path) -> None:
    plan = plan_of(drill_config)
    for kind in JobKind:
        for command in plan.request(kind, datetime.now(UTC)).commands:
            path = list(command[:command.index(next(w for w in command if w.startswith("-")))])
            listing = irready(*path, "--help").stdout
            for option in (w for w in command if w.startswith("--")):
                assert re.search(rf"(^|\s){option}[\s,]", listing, re.MULTILINE), (path, option)


@pytest.mark.pdf
def test_the_scheduled_drill_runs_irready_drill_then_the_compliance_report(
        tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch,
        inactive_keys_rejected: None) -> None:
    import boto3
    import requests

    admin = boto3.Session(region_name="us-east-1")
    iam = admin.client("iam", endpoint_url=moto_server)
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    admin_key = iam.create_access_key(UserName="admin")["AccessKey"]
    iam.create_user(UserName="drill-user")
    key = iam.create_access_key(UserName="drill-user")["AccessKey"]
    admin.client("secretsmanager", endpoint_url=moto_server).create_secret(
        Name="app-key", SecretString=json.dumps({"AccessKeyId": key["AccessKeyId"],
                                                 "SecretAccessKey": key["SecretAccessKey"]}))
    from moto import settings
    from moto.core.responses import ActionAuthenticatorMixin

    # the server runs in this process: its IAM enforcement is undone when the test ends
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT",
                        settings.INITIAL_NO_AUTH_ACTION_COUNT)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count",
                        ActionAuthenticatorMixin.request_count)
    requests.post(f"{moto_server}/moto-api/reset-auth", data=b"0", timeout=10)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin_key["SecretAccessKey"])
    config = write_config(tmp_path, extra=(
        '[drill]\nusers = ["drill-user"]\npropagation_timeout_seconds = 5\n'
        '[[inventory]]\nuser = "drill-user"\nowner = "ops"\n'
        'rotation_target = "secretsmanager:app-key"\n'))

    result = irready("schedule", "job", "drill", "--config", str(config), "--verbose")

    assert result.exit_code == 0, result.stderr
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        (drill,) = store.drills()
        runs = {run.job: run for run in ScheduleLog(store).runs()}
    assert drill.status == "SUCCEEDED"
    assert runs[JobKind.DRILL].status is RunStatus.OK
    assert runs[JobKind.DRILL].summary.startswith(
        "drill of drill-user (secretsmanager:app-key) rotated in ")
    (drill_report,) = (tmp_path / "reports").glob("drill-*-drill-user.json")
    assert json.loads(drill_report.read_text())["status"] == "SUCCEEDED"
    assert runs[JobKind.DRILL].report == str(drill_report)
    # the compliance PDF follows the drill
    assert runs[JobKind.REPORT].trigger == "after-drill"
    assert runs[JobKind.REPORT].status is RunStatus.OK, runs[JobKind.REPORT].summary
    (pdf,) = (tmp_path / "reports").glob("compliance-*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert key["SecretAccessKey"] not in result.stderr + result.stdout

    # next quarter: the first drill left its old key inactive beside the new one, and an
    # unattended drill must make room (delete that inactive key) instead of failing
    # every day until someone cleans up by hand
    again = irready("schedule", "job", "drill", "--config", str(config), "--verbose")

    assert again.exit_code == 0, again.stderr
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        assert [d.status for d in store.drills()] == ["SUCCEEDED", "SUCCEEDED"]
    as_admin = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1",
                            aws_access_key_id=admin_key["AccessKeyId"],
                            aws_secret_access_key=admin_key["SecretAccessKey"])
    keys = as_admin.list_access_keys(UserName="drill-user")["AccessKeyMetadata"]
    assert key["AccessKeyId"] not in {k["AccessKeyId"] for k in keys}  # the first old key
    assert sorted(k["Status"] for k in keys) == ["Active", "Inactive"]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import time; time.sleep(60)", id="stops on SIGINT"),
        pytest.param("import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                     "time.sleep(60)", id="ignores SIGINT: killed"),
    ],
)
def test_a_job_that_outlives_its_timeout_is_stopped(code: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.scheduler import runner

    monkeypatch.setattr(runner, "INTERRUPT_GRACE_SECONDS", 0.5)
    done = runner.launch_irready([], timeout=0.3, program=(sys.executable, "-c", code))
    assert done.exit_code == TIMED_OUT
    assert done.last_error_line() == "timed out after 0.005 minutes and was stopped"


def test_status_shows_a_run_whose_process_died_as_interrupted(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        ScheduleLog(store).start(JobKind.AUDIT, None, Trigger.MANUAL,
                                 datetime(2026, 1, 5, 6, tzinfo=UTC))
    status = json.loads(irready("schedule", "status", "--format", "json", "--config",
                                str(config)).stdout)
    (audit,) = [job for job in status["jobs"] if job["job"] == "audit"]
    assert audit["last"]["status"] == "INTERRUPTED"


def test_a_drill_user_without_target_is_fine_while_the_drill_is_off(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'drill = "off"', extra='[drill]\nusers = ["someone"]\n')
    assert plan_of(config).drill_targets == ()
    assert irready("schedule", "status", "--config", str(config)).exit_code == 0


# -- the detection drill -------------------------------------------------------------


CANARIES = '[drill]\ncanaries = ["canary-user"]\npropagation_timeout_seconds = 5\n'


def detect_document(drill_id: str, status: str, not_seen: tuple[str, ...] = ()) -> str:
    calls = [{"call": call, "seen_after_seconds": None if call in not_seen else 40.0}
             for call in ("sts:GetCallerIdentity", "iam:ListUsers")]
    return json.dumps({"drill_id": drill_id, "status": status,
                       "outcome": f"the drill's outcome ({status})",
                       "sources": [{"source": "s3", "location": "s3://trail-logs",
                                    "all_seen": not not_seen, "calls": calls}]})


def test_detection_drill_results_are_read_from_the_history_store(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=(
        '[drill]\ncanaries = ["seen-canary", "unseen-canary", "denied-canary", '
        '"cut-canary"]\n'))
    plan = plan_of(config)
    started = datetime.now(UTC)

    def detect(argv: Any, timeout: float) -> Completed:
        """Stands in for `irready drill detect`, which stores its drill and writes its
        JSON report (also when a call was not seen)."""
        canary = argv[argv.index("--user") + 1]
        if canary == "denied-canary":
            return Completed(3, "", "irready: error: iam:CreateAccessKey: AccessDenied; the "
                             "detection drill needs the policy that `irready policy detect` "
                             "prints\n")
        status, code = {"seen-canary": ("SEEN", 0), "unseen-canary": ("NOT_SEEN", 1),
                        "cut-canary": ("INTERRUPTED", 6)}[canary]
        document = detect_document(f"detect-{canary}", status,
                                   ("iam:ListUsers",) if code == 1 else ())
        with HistoryStore(plan.history_file) as store:
            store.begin_detect_drill(drill_id=f"detect-{canary}", account_id="123456789012",
                                     user=canary, started_at=started, journal={})
            store.finish_detect_drill(f"detect-{canary}", status, started, document,
                                      95.0 if code == 0 else None)
        if code != 6:
            Path(argv[argv.index("--output") + 1]).write_text(document)
            return Completed(code)
        return Completed(6, "", f"irready: error: detection drill detect-{canary} was cut off;"
                         " its temporary key was deleted\n")

    result = SubprocessRunner(plan, launch=detect)(plan.request(JobKind.DETECT, started))

    assert result.status is RunStatus.FAILED  # retried: two drills could not measure
    assert result.exit_code == 3
    assert result.summary == (
        "detection drill of seen-canary: every call seen after 1.6 min; "
        "detection drill of unseen-canary: NOT_SEEN: the drill's outcome (NOT_SEEN); "
        "detection drill of denied-canary failed (exit 3): iam:CreateAccessKey: "
        "AccessDenied; the detection drill needs the policy that `irready policy detect` "
        "prints; "
        "detection drill of cut-canary failed (exit 6): detection drill detect-cut-canary "
        "was cut off; its temporary key was deleted")
    assert "not seen in s3://trail-logs: iam:ListUsers" in result.details
    assert "unseen-canary: detection drill detect-unseen-canary, status NOT_SEEN; details: " \
           "irready drill show detect-unseen-canary" in result.details
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    assert result.report == ", ".join(str(plan.output_dir / f"detect-{stamp}-{canary}.json")
                                      for canary in ("seen-canary", "unseen-canary"))


def test_the_scheduled_detection_drill_notifies_a_call_not_seen_and_is_done(
        tmp_path: Path, aws: Any) -> None:
    """`irready drill detect` for real against moto (which logs nothing, so no call is
    ever seen), in this process, watching the bucket briefly: exit 1 completes the
    quarter's slot, and the webhook hears of it."""
    from auditor.scheduler.executor import Executor

    aws.client("iam").create_user(UserName="canary-user")
    aws.client("s3").create_bucket(Bucket="trail-logs")

    def detect(argv: Any, timeout: float) -> Completed:
        """The scheduler's command as it is, watched for 0.3 s (moto logs nothing)."""
        ran = irready(*argv, "--source", "s3://trail-logs", "--timeout", "0.3", "--poll",
                      "0.1")
        return Completed(ran.exit_code, ran.stdout, ran.stderr)

    with Webhook() as webhook:
        config = load_config(write_config(tmp_path, notify=f'webhook_url = "{webhook.url}"',
                                          extra=CANARIES))
        plan = Plan.from_config(config)
        now = datetime.now(UTC)
        slot = plan.cadences[JobKind.DETECT].latest_slot(now, plan.tz)
        assert slot is not None
        with HistoryStore(config.history_file) as store:
            store.ensure_schedule_epoch(slot - timedelta(days=1))
            executor = Executor(config, store, runner=SubprocessRunner(plan, launch=detect),
                                clock=lambda: slot + timedelta(minutes=1))
            run = executor.run_if_due(JobKind.DETECT, Trigger.CRON)
            assert run is not None
            assert executor.due(JobKind.DETECT, slot + timedelta(days=1)) is None
            (drill,) = store.detect_drills()
            notified = ScheduleLog(store).get(run.run_id).notified

    assert run.status is RunStatus.ALERT
    assert run.exit_code == 1
    assert run.summary == ("detection drill of canary-user: NOT_SEEN: some replayed calls "
                           "were not seen within 0.3 s in any source")
    assert notified == "webhook"
    (post,) = webhook.posts
    assert post["text"].startswith("irready detect needs attention: detection drill of "
                                   "canary-user: NOT_SEEN")
    assert "not seen in s3://trail-logs: sts:GetCallerIdentity, iam:ListUsers" in post["text"]
    assert f"irready drill show {drill.drill_id}" in post["text"]
    (report,) = (tmp_path / "reports").glob("detect-*-canary-user.json")
    assert json.loads(report.read_text())["status"] == "NOT_SEEN"
    assert aws.client("iam").list_access_keys(UserName="canary-user")["AccessKeyMetadata"] == []


def test_the_detection_drill_has_its_cron_line_and_systemd_timer(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=CANARIES)
    cron = irready("schedule", "install", "--cron", "--config", str(config)).stdout
    (line,) = [line for line in cron.splitlines() if " detect " in line
               and not line.startswith("#")]
    assert line.startswith("30 7 * * * ")
    assert shlex.split(line)[-4:] == ["detect", "--if-due", "--config", str(config)]
    units = parse_units(irready("schedule", "install", "--systemd", "--config",
                                str(config)).stdout)
    timer = units["irready-detect.timer"]["Timer"]
    assert timer["OnCalendar"] == "*-*-* 07:30:00 UTC"
    service = units["irready-detect.service"]["Service"]
    assert shlex.split(service["ExecStart"])[-5:] == ["job", "detect", "--if-due", "--config",
                                                      str(config)]
    assert service["TimeoutStartSec"] == "131min"  # one canary: one drill's job timeout
    status = irready("schedule", "status", "--config", str(config)).stdout
    assert "detect: quarterly, the first Monday of January, April, July and October at " \
           "07:30" in status
    for command in plan_of(config).request(JobKind.DETECT, datetime.now(UTC)).commands:
        listing = irready("drill", "detect", "--help").stdout
        for option in (w for w in command if w.startswith("--")):
            assert re.search(rf"(^|\s){option}[\s,]", listing, re.MULTILINE), option


def test_without_canaries_the_detection_drill_job_is_skipped_with_a_note(
        tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = irready("schedule", "job", "detect", "--config", str(config))
    assert result.exit_code == 0
    assert result.stderr == ("irready schedule: detect: skipped: no [drill] canaries in the "
                             "config (quarterly, the first Monday of January, April, July "
                             "and October at 07:30)\n")
    assert irready("schedule", "job", "detect", "--if-due", "--config", str(config)
                   ).stderr == ""
    cron = irready("schedule", "install", "--cron", "--config", str(config)).stdout
    assert "# detect: skipped: no [drill] canaries in the config" in cron

