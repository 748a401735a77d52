"""irready as a user runs it: `python -m auditor` in its own process, against moto's
server over real HTTP (a seeded account with the story of the leaked key), an endpoint
that refuses connections, and `irready demo`. What is checked is what a user sees: the
exit code, the JSON report, and one line on stderr instead of a traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import clikit
import pytest
from clikit import irready_process

REGIONS = "us-east-1,eu-west-1"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    return clikit.user_env(tmp_path)


@pytest.fixture
def story_server(moto_server: str) -> str:
    """moto's server seeded with the demo's story of the leaked key."""
    import boto3

    from demo.account import seed_story

    seed_story(boto3.Session(region_name="us-east-1"))
    return moto_server


def findings_of(document: dict[str, Any], check_id: str) -> list[dict[str, Any]]:
    return [f for f in document["findings"] if f["check_id"] == check_id]


def test_an_audit_over_http_twice(story_server: str, user_env: dict[str, str],
                                  tmp_path: Path) -> None:
    env = {**user_env, "AWS_ENDPOINT_URL": story_server}
    first = irready_process("audit", "--regions", REGIONS, "--format", "json",
                            "--output", "first.json", env=env, cwd=tmp_path)
    second = irready_process("audit", "--regions", REGIONS, "--format", "json",
                             "--output", "second.json", env=env, cwd=tmp_path)

    assert first.returncode == 1, first.stderr
    assert first.stderr == "wrote first.json\n"
    report = json.loads((tmp_path / "first.json").read_text())
    assert report["schema"] == "irready.audit/1"
    assert report["account_id"] == "123456789012"
    # the story: an admin without MFA, logs expiring after 30 days, no Athena table,
    # only a billing contact
    admin = [f for f in findings_of(report, "iam.console_mfa") if f["status"] == "FAIL"]
    assert [f["resource"] for f in admin] == ["arn:aws:iam::123456789012:user/admin-user"]
    assert {f["status"] for f in findings_of(report, "cloudtrail.bucket_retention")} == {"FAIL"}
    assert {f["status"] for f in findings_of(report, "athena.cloudtrail_table")} == {"FAIL"}
    contacts = {f["resource"]: f["status"]
                for f in findings_of(report, "account.alternate_contacts")}
    assert sorted(contacts.values()) == ["FAIL", "FAIL", "PASS"]

    assert second.returncode == 1
    again = json.loads((tmp_path / "second.json").read_text())
    assert again["changes"]["previous_run_id"] == report["run_id"]
    assert again["changes"]["new_failures"] == []
    assert again["changes"]["fixed"] == []
    history = irready_process("history", env=env, cwd=tmp_path)
    assert history.returncode == 0
    assert history.stdout.count("123456789012") == 2


def test_an_endpoint_that_refuses_connections(user_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"  # closed again: connections are refused

    result = irready_process("audit", "--endpoint-url", url,
                             env={**user_env, "AWS_MAX_ATTEMPTS": "2"}, cwd=tmp_path)

    assert result.returncode == 3
    assert result.stderr == (f"irready: error: cannot reach {url}: Could not connect to the "
                             f'endpoint URL: "{url}/"\n')
    assert result.stdout == ""


@pytest.mark.pdf
def test_the_demo(user_env: dict[str, str], tmp_path: Path) -> None:
    result = irready_process("demo", "--output-dir", "out", env=user_env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    report = tmp_path / "out" / "audit.json"
    assert "out/audit.json" in result.stdout
    document = json.loads(report.read_text())
    assert document["schema"] == "irready.audit/1"
    assert document["account_id"] == "123456789012"
    assert {f["check_id"] for f in document["findings"]} >= {"iam.console_mfa", "drill.recent"}
    # the account's own playbook, for git and for print
    assert "out/playbook.md" in result.stdout
    assert (tmp_path / "out" / "playbook.md").read_text().startswith(
        "# Incident playbook: AWS account 123456789012\n")
    assert (tmp_path / "out" / "playbook.pdf").read_bytes().startswith(b"%PDF")
    # the story's last act: the leaked key investigated from the simulated trail's files
    investigation = json.loads((tmp_path / "out" / "investigation.json").read_text())
    assert investigation["schema"] == "irready.investigation/1"
    assert investigation["owner"]["user"] == "app-integration-user"
    assert [c["kind"] for c in investigation["credentials"]] == [
        "leaked", "session", "created", "session"]
    assert {"StopLogging", "PutAlternateContact", "CreateUser"} <= {
        e["event_name"] for e in investigation["events"] if e["suspicious"]}
    assert "irready investigate AKIA" in result.stdout
    assert "out/investigation.md" in result.stdout
    assert (tmp_path / "out" / "investigation.pdf").read_bytes().startswith(b"%PDF")
    # the organization's run, and its edition of the compliance report
    assert "out/org-compliance.pdf" in result.stdout
    assert (tmp_path / "out" / "org-compliance.pdf").read_bytes().startswith(b"%PDF")
    # it ends with the way from the demo to a real account
    assert result.stdout.rstrip().endswith("irready audit --profile PROFILE   the weekly audit "
                                           "(read-only)")
