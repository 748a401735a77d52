"""`irready demo`: the whole tool on an embedded, simulated account (moto, in process).
No AWS account and no credentials are needed, and nothing can reach a real account:
the process's AWS settings are replaced with fake ones before anything is created."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.config import Config, DrillSettings, InventoryEntry, ReportSettings
from auditor.errors import ExitCode, UsageError
from demo.account import DEMO_REGIONS, seed_story
from reports.formats import write_output
from reports.json_report import render_json
from reports.terminal import print_audit

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from rich.console import Console

    from auditor.audit import AuditResult
    from auditor.store import HistoryStore
    from demo.account import DemoAccount

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7DEMOKEY",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-not-a-real-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}
UNSAFE_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
              "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONFIG_FILE",
              "AWS_SHARED_CREDENTIALS_FILE")


def isolate_from_aws() -> None:
    """Make sure no client built in this process can talk to a real account."""
    for name in UNSAFE_ENV:
        os.environ.pop(name, None)
    os.environ.update(FAKE_ENV)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def demo_config(account: DemoAccount, output_dir: Path) -> Config:
    return replace(
        Config(),
        # a few regions keep the demo quick; a real audit covers every enabled region
        audit=replace(Config().audit, regions=DEMO_REGIONS),
        inventory=(InventoryEntry(user=account.drill_user, owner="platform-team@example.com",
                                  application="drill-app",
                                  rotation_target=account.drill_target),),
        drill=DrillSettings(users=(account.drill_user,), propagation_timeout_seconds=10),
        reports=ReportSettings(dir=str(output_dir)),
        history_path=str(output_dir / "history.sqlite3"),
        source="built-in demo config",
    )


def prepare_output(output_dir: Path) -> None:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / ".irready-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to {output_dir}: {exc.strerror or exc}") from None
    for stale in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
        (output_dir / stale).unlink(missing_ok=True)


def run_demo(output_dir: Path, console: Console) -> ExitCode:
    """Replay the story: the unprepared account's audit, a fix a week with an audit
    after each (simulated clock), a real rotation drill, today's audit, the reports, and
    the investigation of yesterday's leak from the simulated trail's log files.
    Exits 0 when the demo ran, whatever the simulated account's findings are."""
    prepare_output(output_dir)
    isolate_from_aws()
    from datetime import timedelta

    import boto3
    from moto import mock_aws

    from auditor.clock import utcnow
    from auditor.store import HistoryStore
    from demo.contain import contain_leak
    from demo.detect import run_demo_detect
    from demo.drill import run_demo_drill
    from demo.investigation import SINCE, investigate_leak, leaked_key_id
    from demo.organization import audit_demo_organization
    from demo.playbook import write_playbook
    from demo.weeks import (
        FIXES,
        ORG_REPORT_NAME,
        SIMULATION_NOTICE,
        simulated_weeks,
        ticking_clock,
        write_demo_report,
    )
    from drills.detect.jsonform import document_text
    from reports.compliance_pdf import write_org_compliance_report
    from reports.drill_report import write_drill_report
    from reports.investigation_terminal import print_investigation
    from reports.org_report import print_org, render_org_json

    console.print("[bold]irready demo[/]: a simulated AWS account (moto, in this process); "
                  "no real account is read or changed.\n")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        account = seed_story(session)
        config = demo_config(account, output_dir)
        audit = _auditor(session, config)
        with HistoryStore(config.history_file) as store:
            weeks = simulated_weeks(utcnow(), len(FIXES) + 1)
            console.rule("[bold]Week 1 (simulated): the account as the story found it[/]",
                         align="left")
            first = audit(store, ticking_clock(weeks[0]))
            print_audit(console, first.run, first.diff)
            first_playbook = write_playbook(store, config, output_dir / "playbook-week1.md",
                                            weeks[0] + timedelta(hours=1))

            console.rule("[bold]The weeks after (simulated): one fix a week, an audit after "
                         "each[/]", align="left")
            for week, (moment, fix) in enumerate(zip(weeks[1:], FIXES, strict=True), start=2):
                fix.apply(session, account)
                result = audit(store, ticking_clock(moment))
                covers = result.run.coverage.note
                console.print(f"week {week} ({moment:%Y-%m-%d}): {fix.title}; readiness "
                              f"score [bold]{result.run.score:.0f}[/]/100"
                              + (f" ({covers})" if covers else ""))

            console.rule("[bold]Today: the quarterly rotation drill (real, timed)[/]",
                         align="left")
            drill = run_demo_drill(session, config, store, account, console)
            earlier = [d for d in store.drills(account_id=account.account_id)
                       if d.drill_id != drill.drill_id]
            drill_pdf = write_drill_report(drill, earlier, output_dir / "drill-report.pdf")

            console.rule("[bold]Today: the detection drill (simulated delivery)[/]",
                         align="left")
            detection = run_demo_detect(session, config, store, account, console)
            detect_json = output_dir / "detect-drill.json"
            write_output(detect_json, document_text(detection).encode())

            console.rule("[bold]Today: the weekly audit[/]", align="left")
            final = audit(store, utcnow)
            print_audit(console, final.run, final.diff)
            audit_json = output_dir / "audit.json"
            write_output(audit_json, render_json(final.run, final.diff).encode())
            playbook = write_playbook(store, config, output_dir / "playbook.md",
                                      utcnow(), pdf=True)
            written = write_demo_report(store, output_dir, account, generated_at=utcnow())

            console.rule("[bold]Yesterday's leak: what did the attacker do next?[/]",
                         align="left")
            key = leaked_key_id(session)
            console.print(f"$ irready investigate {key} --since {SINCE}", markup=False)
            investigation, investigation_files = investigate_leak(
                session, store, account.trail_bucket, utcnow(), output_dir)
            print_investigation(console, investigation)

            console.rule("[bold]Today: contain the leaked key (rotate before you block)[/]",
                         align="left")
            contain_leak(session, config, store, key, console)

            console.rule("[bold]The organization: every account in one run[/]",
                         align="left")
            console.print("$ irready audit --org", markup=False)
            org = audit_demo_organization(session, config, store)
            print_org(console, org)
            org_json = output_dir / "org-audit.json"
            write_output(org_json, render_org_json(org))
            org_pdf = write_org_compliance_report(
                org, output_dir / ORG_REPORT_NAME, generated_at=utcnow(),
                notice=SIMULATION_NOTICE)[0]

    console.rule("[bold]Files[/]", align="left")
    for path, what in ((audit_json, "today's audit, JSON (schema irready.audit/1)"),
                       (written[0], "compliance report for management (PDF, simulation)"),
                       *((extra, "full findings, CSV") for extra in written[1:]),
                       (drill_pdf, "the drill's report (PDF)"),
                       (detect_json, "the detection drill, JSON (irready.detect-drill/1; "
                                     "simulated delivery)"),
                       (first_playbook[0], "the playbook of week 1: every step that breaks"),
                       (playbook[0], "today's incident playbook (Markdown, for git)"),
                       *((extra, "today's incident playbook (PDF)") for extra in playbook[1:]),
                       (investigation_files[0],
                        "the leaked key's investigation, JSON (irready.investigation/1)"),
                       (investigation_files[1], "the investigation for the ticket (Markdown)"),
                       (investigation_files[2], "the incident report, for those not in the room "
                                                "(PDF)"),
                       (org_json, "the organization audit, JSON (irready.org-audit/1)"),
                       (org_pdf, "the organization's compliance report (PDF, simulation)"),
                       (config.history_file, "history store (SQLite)")):
        console.print(f"{what}: {path}")
    console.rule("[bold]Next: your own account[/]", align="left")
    # the demo's last lines are what a newcomer reads: say how to go from it to real use
    for command, why in (
        ("irready policy audit", "the read-only IAM policy the audit needs"),
        ("irready config init", "a commented irready.toml to adapt"),
        ("irready playbook -o playbook.md", "your account's own incident playbook"),
        ("irready investigate KEY_ID", "on the day: what a leaked key did"),
        ("irready contain plan KEY_ID", "on the day: rotate before you block"),
        ("irready audit --profile PROFILE", "the weekly audit (read-only)"),
    ):
        console.print(f"  {command:<34}{why}")
    return ExitCode.OK


def _auditor(session: Any, config: Config) -> Callable[[HistoryStore, Callable[[], datetime]],
                                                         AuditResult]:
    """One registry and one context for every audit of the demo."""
    from auditor.audit import perform_audit
    from auditor.registry import discover
    from auditor.session import AwsContext
    from demo.account import moto_report_dated

    registry = discover()

    def audit(store: HistoryStore, clock: Callable[[], datetime]) -> AuditResult:
        ctx = AwsContext(session=session)  # a fresh fact cache per audit
        readings: list[datetime] = []

        def recorded() -> datetime:
            readings.append(clock())
            return readings[-1]

        # the credential report is generated when the (simulated) audit starts, as IAM's
        # would be: never nine years old, never from the real clock in a past week
        with moto_report_dated(lambda: readings[0] if readings else clock()):
            return perform_audit(ctx, config, registry, history=store, clock=recorded)

    return audit
