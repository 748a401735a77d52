"""`irready playbook` read back: its facts against the moto account it was made from,
the same bytes for the same facts, --verify both ways, a fresh audit when the stored
one is missing, and no secret in anything it writes."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import irready
from playbookkit import ACCOUNT, BUCKET, NOTES, TABLE_LOCATION, seed

from auditor.errors import ExitCode
from auditor.store import DrillRecord, HistoryStore
from incident.playbook.model import KEY_PLACEHOLDER

SCHEMAS = Path(__file__).resolve().parents[2] / "reports" / "schemas"


def schema_errors(document: Any, name: str) -> list[str]:
    where = Path(__file__).resolve().parents[1] / "reports" / "schema_check.py"
    spec = importlib.util.spec_from_file_location("schema_check", where)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: list[str] = module.errors(document, json.loads((SCHEMAS / name).read_text()))
    return found


def audit(config_file: Path) -> None:
    result = irready("audit", "--config", config_file, "--format", "json")
    assert result.exit_code in (ExitCode.OK, ExitCode.FAILED), result.output


def drill(config_file: Path, user: str, seconds: float) -> None:
    started = datetime.now(UTC) - timedelta(days=3)
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        store.save_drill(DrillRecord(f"d-{user}", ACCOUNT, user, "t", "SUCCEEDED", started,
                                     started + timedelta(seconds=seconds), seconds, 900.0))


def playbook(config_file: Path, *args: str | Path) -> Any:
    return irready("playbook", "--config", config_file, "--no-audit", *args)


def test_the_playbook_says_what_the_account_is(secrets: dict[str, str], config_file: Path,
                                               tmp_path: Path) -> None:
    audit(config_file)
    drill(config_file, "billing-app", 312.0)
    result = playbook(config_file, "--output", tmp_path / "playbook.md")
    assert result.exit_code == ExitCode.OK, result.output
    text = (tmp_path / "playbook.md").read_text()

    assert text.startswith(f"# Incident playbook: AWS account {ACCOUNT}\n")
    assert "| SECURITY | Security team | security@example.com |" in text
    assert "no SECURITY contact" not in text
    assert "| Incident lead | Dana (on-call lead) +1 555 0100 |" in text
    assert "| Vendor holding keys | CI vendor: support@ci.example |" in text
    # the trail, its bucket and how long it keeps logs
    assert f"| org-trail | us-east-1 | yes | yes | s3://{BUCKET} | 400 days |" in text
    assert "Not ready" not in text  # 400 days >= 365, multi-region, a table
    # one lookup-events line per audited region, only the key to type
    assert [line for line in text.splitlines() if "lookup-events" in line] == [
        f"aws cloudtrail lookup-events --region {region} --lookup-attributes "
        f"AttributeKey=AccessKeyId,AttributeValue={KEY_PLACEHOLDER}"
        for region in ("eu-west-1", "us-east-1")]
    # the Athena table as Glue has it, filled into the queries
    assert "- Table: `forensics.trail_events` (region us-east-1)" in text
    assert f"- Location: `{TABLE_LOCATION}`" in text
    assert "- Partition columns: region, day" in text
    assert text.count("FROM forensics.trail_events\n") == 6
    assert text.count(f"WHERE useridentity.accesskeyid = '{KEY_PLACEHOLDER}'\n  AND day >= ") == 6
    assert "CREATE EXTERNAL TABLE" not in text
    # containment: the inventory, the measured drill, the unknown key
    assert ("| billing-app | payments@example.com | billing | secretsmanager:prod/billing/aws"
            f" | {(datetime.now(UTC) - timedelta(days=3)):%Y-%m-%d} | 5.2 min | "
            "`irready drill rotate --user billing-app --target "
            "secretsmanager:prod/billing/aws` |") in text
    assert "| ci-deployer | platform@example.com | ci | ssm:/ci/aws-key | never | - |" in text
    assert "unknown: find the owner first):\n\n- legacy-etl\n" in text
    assert ("The arithmetic: 3 active keys x 5.2 min (the last drill's measured rotation) = "
            "15.6 min, within the 4-hour window.") in text
    assert "Never drilled: ci-deployer, legacy-etl." in text
    # the team's notes, verbatim, above the status
    facts, status = text.split("\n## Status as of ")
    assert f"## Team notes\n\n{NOTES}" in facts
    assert status.startswith(f"{datetime.now(UTC).date().isoformat()}\n")
    assert "| legacy-etl | 1 | 0 | never |" in status
    for secret in secrets.values():
        assert secret not in text


def test_the_same_facts_give_the_same_bytes_and_verify_matches(
        secrets: dict[str, str], config_file: Path, tmp_path: Path) -> None:
    audit(config_file)
    first = playbook(config_file)
    second = playbook(config_file)
    assert first.exit_code == ExitCode.OK
    assert first.stdout_bytes == second.stdout_bytes
    (tmp_path / "committed.md").write_bytes(first.stdout_bytes)

    result = playbook(config_file, "--verify", tmp_path / "committed.md")
    assert (result.exit_code, result.stdout) == (
        ExitCode.OK, f"{tmp_path / 'committed.md'}: the facts match the latest audit\n")


def test_verify_names_what_changed_and_ignores_the_status(
        aws: Any, secrets: dict[str, str], config_file: Path, tmp_path: Path) -> None:
    audit(config_file)
    committed = tmp_path / "committed.md"
    committed.write_bytes(playbook(config_file).stdout_bytes)
    # only the dated status changes: still a match
    committed.write_text(committed.read_text().replace("Status as of ", "Status as of 1999"))
    assert playbook(config_file, "--verify", committed).exit_code == ExitCode.OK

    aws.client("iam").create_user(UserName="new-bot")
    aws.client("iam").create_access_key(UserName="new-bot")
    aws.client("cloudtrail").create_trail(Name="audit-trail", S3BucketName=BUCKET)
    audit(config_file)
    result = playbook(config_file, "--verify", committed)

    assert result.exit_code == ExitCode.FAILED
    lines = result.stdout.splitlines()
    assert lines[0] == f"{committed}: the account's facts changed since it was written:"
    assert "Trails: 1 line(s) added, 0 removed" in lines
    assert f"  + | audit-trail | us-east-1 | no | no | s3://{BUCKET} | 400 days |" in lines
    assert "  + - new-bot" in lines

    as_json = playbook(config_file, "--verify", committed, "--format", "json")
    document = json.loads(as_json.stdout)
    assert as_json.exit_code == ExitCode.FAILED
    assert schema_errors(document, "playbook-verify.schema.json") == []
    assert document["matches"] is False
    assert {change["section"] for change in document["changes"]} >= {"Trails"}


def test_no_stored_audit_runs_one_first_and_stores_it(secrets: dict[str, str],
                                                     config_file: Path) -> None:
    result = irready("playbook", "--config", config_file)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr == ("irready: the newest audit is older than 7 days (or missing): "
                             "auditing first (read-only)\n")
    assert result.stdout.startswith(f"# Incident playbook: AWS account {ACCOUNT}")
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        assert len(store.runs()) == 1
        assert store.latest_snapshot(ACCOUNT) is not None
    # a fresh audit is used as it is: no second audit
    again = irready("playbook", "--config", config_file)
    assert again.stderr == ""
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        assert len(store.runs()) == 1


def test_json_follows_its_schema(secrets: dict[str, str], config_file: Path) -> None:
    audit(config_file)
    result = playbook(config_file, "--format", "json")
    document = json.loads(result.stdout)
    assert schema_errors(document, "playbook.schema.json") == []
    assert document["facts"]["logs"]["table"] == "forensics.trail_events"
    assert document["facts"]["containment"]["unknown_users"] == ["legacy-etl"]


def test_the_latest_time_to_safe_is_shown(secrets: dict[str, str], config_file: Path) -> None:
    from auditor.store import ContainmentRecord

    audit(config_file)
    started = datetime.now(UTC) - timedelta(days=2)
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        store.begin_containment(ContainmentRecord(
            "c-1", ACCOUNT, "billing-app", "AKIAIOSFODNN7EXAMPLE", "running", started, None,
            None, {"actions": []}))
        store.save_containment("c-1", journal={"actions": []}, status="safe",
                               finished_at=started, safe_seconds=95.0)
    document = json.loads(playbook(config_file, "--format", "json").stdout)
    assert schema_errors(document, "playbook.schema.json") == []
    assert document["facts"]["containment"]["containments"] == 1
    text = playbook(config_file).stdout
    assert "Containments so far: 1; the latest was safe in" in text
    assert "`irready contain run KEY_ID`" in text


def test_an_account_without_a_table_gets_the_create_table(aws: Any, config_file: Path) -> None:
    seed(aws)
    aws.client("glue").delete_table(DatabaseName="forensics", Name="trail_events")
    audit(config_file)
    text = playbook(config_file).stdout
    assert ("- **Not ready:** No Athena table over the trail's logs: the queries below can't "
            "run yet. Run the CREATE TABLE below first (it creates "
            "security_logs.cloudtrail_logs).") in text
    assert f"LOCATION '{TABLE_LOCATION}'" in text
    assert "'projection.region.values' = 'eu-west-1,us-east-1'" in text
    assert f"'storage.location.template' = '{TABLE_LOCATION}${{region}}/${{day}}'" in text


@pytest.mark.pdf
def test_pdf_and_html(secrets: dict[str, str], config_file: Path, tmp_path: Path) -> None:
    audit(config_file)
    assert playbook(config_file, "-o", tmp_path / "p.pdf").exit_code == ExitCode.OK
    assert playbook(config_file, "-o", tmp_path / "p.html").exit_code == ExitCode.OK
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    html = (tmp_path / "p.html").read_text()
    assert "<code>forensics.trail_events</code>" in html
    assert "<td>SECURITY</td>" in html  # the Markdown tables are HTML tables
    for secret in secrets.values():
        assert secret.encode() not in (tmp_path / "p.pdf").read_bytes()
        assert secret not in html


def test_policy_playbook_is_the_audits_and_is_enough(
        aws: Any, config_file: Path, monkeypatch: pytest.MonkeyPatch,
        user_with_policy: Any, enforce_iam: Any) -> None:
    """The playbook's only AWS calls are its fresh audit's: the audit's read policy,
    proven under moto's IAM enforcement with a user that holds only that policy."""
    printed = irready("policy", "playbook")
    assert printed.exit_code == ExitCode.OK
    assert printed.stdout == irready("policy", "audit").stdout
    secrets = seed(aws)
    session = user_with_policy(json.loads(printed.stdout))
    credentials = session.get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)

    with enforce_iam():
        result = irready("playbook", "--config", config_file, "--format", "json")

    assert result.exit_code == ExitCode.OK, result.output
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        run = store.latest_run(ACCOUNT, complete=True)
        assert run is not None
        assert [f.message for f in run.findings if f.status == "ERROR"] == []
        latest = store.latest_snapshot(ACCOUNT)
        assert latest is not None
        # nothing denied (Object Lock is read only when a lifecycle rule is too short)
        assert [gap.reason for gap in latest[1].missing if "denied" in gap.reason] == []
        assert latest[1].trails
    for secret in (*secrets.values(), credentials.secret_key):
        assert secret not in result.stdout


def test_the_playbook_quotes_the_newest_detection_drill(secrets: dict[str, str],
                                                        config_file: Path) -> None:
    audit(config_file)
    assert "Our logs show" not in playbook(config_file).stdout  # no detection drill yet
    started = datetime.now(UTC) - timedelta(days=2)
    with HistoryStore(config_file.parent / "history.sqlite3") as store:
        store.begin_detect_drill(drill_id="detect-1", account_id=ACCOUNT, user="canary-user",
                                 started_at=started, journal={})
        store.finish_detect_drill("detect-1", "SEEN", started + timedelta(minutes=9), "{}",
                                  431.0)
    text = " ".join(playbook(config_file).stdout.split())
    assert (f"Our logs show a key's calls after about 7 minutes (detection drill detect-1, "
            f"{started:%Y-%m-%d}). A call made in the last minutes may not be in the logs "
            "yet") in text
