"""`irready demo`: the whole tool on an embedded, simulated account (moto, in process).
No AWS account and no credentials are needed, and nothing can reach a real account:
the process's AWS settings are replaced with fake ones before anything is created."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.config import Config, DrillSettings, InventoryEntry, ReportSettings
from auditor.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.demo_account import DemoAccount

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7DEMOKEY",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-not-a-real-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}
DEMO_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")
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
    prepare_output(output_dir)
    isolate_from_aws()
    import boto3
    from moto import mock_aws

    from auditor.audit import perform_audit
    from auditor.demo_account import seed_story
    from auditor.history import HistoryStore
    from auditor.registry import discover
    from auditor.session import AwsContext
    from reports.formats import write_output
    from reports.json_report import render_json
    from reports.terminal import print_audit

    console.print("[bold]irready demo[/]: a simulated AWS account (moto, in this process); "
                  "no real account is touched.\n")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        account = seed_story(session)
        config = demo_config(account, output_dir)
        ctx = AwsContext(session=session)
        with HistoryStore(config.history_file) as store:
            result = perform_audit(ctx, config, discover(), history=store)
        print_audit(console, result.run, result.diff)
        report = output_dir / "audit.json"
        write_output(report, render_json(result.run, result.diff).encode())
        console.print(f"\nJSON report: {report}")
        console.print(f"History store: {config.history_file}")
    return ExitCode.OK
