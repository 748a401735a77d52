"""`irready investigate` against moto's S3 holding the story's log files in CloudTrail's
layout: what the attacker did next, what they minted, what to undo, and every way the
search can be incomplete, read back from the JSON a user gets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import irready, user_env
from investigatekit import (
    ATTACK_DAY,
    BUCKET,
    DEMO_ACCOUNT,
    document,
    leaked_user,
    story_in_bucket,
    story_in_folder,
    write_records,
)

from auditor.errors import ExitCode
from demo.attack import (
    APP_IP,
    ATTACKER_IP,
    BACKDOOR_KEY,
    BACKDOOR_USER,
    ROLE_SESSION_KEY,
    SECOND_IP,
    SESSION_KEY,
)
from demo.cloudtrail_records import assumed_role, event, iam_user, root, session_credentials


@pytest.fixture
def story(aws: Any) -> tuple[Any, str, str]:
    key_id, secret = leaked_user(aws)
    story_in_bucket(aws, key_id)
    return aws, key_id, secret


def _investigate(*args: str) -> tuple[int, dict[str, Any]]:
    result = irready("investigate", *args, "--format", "json", "--workers", "1")
    assert result.stderr == "" or result.stderr.startswith("wrote"), result.stderr
    return result.exit_code, document(result.stdout)


def test_the_story_is_told_from_the_trails_files(story: tuple[Any, str, str]) -> None:
    _, key_id, _ = story
    code, found = _investigate(key_id, "--since", "7d", "--source", f"s3://{BUCKET}")
    assert code == ExitCode.FAILED
    assert found["owner"] == {"type": "IAMUser", "user": "app-integration-user",
                              "arn": f"arn:aws:iam::{DEMO_ACCOUNT}:user/app-integration-user",
                              "from_logs": False}
    chains = {c["access_key_id"]: (c["kind"], c["derived_from"]) for c in found["credentials"]}
    assert chains == {key_id: ("leaked", ""), SESSION_KEY: ("session", key_id),
                      BACKDOOR_KEY: ("created", key_id),
                      ROLE_SESSION_KEY: ("session", BACKDOOR_KEY)}
    by_name = {e["event_name"]: e for e in found["events"]}
    assert by_name["StopLogging"]["chain"] == [key_id, BACKDOOR_KEY, ROLE_SESSION_KEY]
    assert "defense_evasion" in by_name["StopLogging"]["tactics"]
    assert by_name["DescribeRegions"]["chain"] == [key_id, SESSION_KEY]
    assert by_name["GetCallerIdentity"]["suspicious"] is True
    assert all("permission_probing" in e["tactics"] for e in found["events"]
               if e["error_code"] == "AccessDenied")
    # the mailer's own traffic is reported, not suspicious
    usual = [e for e in found["events"] if e["event_name"] == "SendEmail"]
    assert usual
    assert not any(e["suspicious"] for e in usual)
    assert [m["event_name"] for m in found["mentions"]] == ["UpdateAccessKey"]
    ips = {ip["ip"]: ip["new"] for ip in found["source_ips"]}
    assert ips == {APP_IP: False, ATTACKER_IP: True, SECOND_IP: True}
    assert found["tactics"]["persistence"] >= 2
    commands = "\n".join(f["command"] for f in found["follow_ups"])
    assert "aws cloudtrail start-logging" in commands
    assert f"--access-key-id {BACKDOOR_KEY} --status Inactive" in commands
    assert f"--user-name {BACKDOOR_USER}" in commands
    assert found["verdict"]["first_suspicious"].startswith(f"{ATTACK_DAY:%Y-%m-%d}T12:11")
    # the attacker stopped the trail: whatever came after is in no file
    assert found["complete"] is False
    assert any(why.startswith("StopLogging at") for why in found["incomplete_because"])


def test_a_decoy_key_one_character_away_is_never_matched(story: tuple[Any, str, str]) -> None:
    _, key_id, _ = story
    _, found = _investigate(key_id, "--since", "7d", "--source", f"s3://{BUCKET}")
    assert {e["access_key_id"] for e in found["events"]} <= {
        key_id, SESSION_KEY, BACKDOOR_KEY, ROLE_SESSION_KEY}
    assert not [e for e in found["events"] if e["event_name"] == "GetObject"]


def test_a_forensic_copy_is_read_with_no_aws_access_at_all(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    story_in_folder(copy, "AKIAQDEMOLEAKEDKEY01")
    env = user_env(tmp_path)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name)
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # any call would fail loudly
    from clikit import irready_process

    result = irready_process("investigate", "AKIAQDEMOLEAKEDKEY01", "--since", "7d",
                             "--source", f"local:{copy}", "--format", "json", env=env,
                             cwd=tmp_path)
    assert result.returncode == ExitCode.FAILED, result.stderr
    found = document(result.stdout)
    assert found["owner"]["from_logs"] is True
    assert found["owner"]["user"] == "app-integration-user"
    assert found["sources"][0]["kind"] == "local"
    assert len(found["credentials"]) == 4


def test_usual_traffic_alone_is_nothing_suspicious_and_exits_0(aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    write_records([event("SendEmail", "ses", ATTACK_DAY - timedelta(days=day, hours=-hour),
                         principal=mailer, key=key_id, ip=APP_IP)
                   for day in range(0, 20) for hour in (3, 9, 15)], session=aws)
    code, found = _investigate(key_id, "--since", "7d", "--source", f"s3://{BUCKET}")
    assert (code, found["complete"]) == (ExitCode.OK, True)
    assert found["events"]
    assert not any(e["suspicious"] for e in found["events"])
    assert found["verdict"]["suspicious_events"] == 0


def test_a_damaged_file_makes_nothing_found_incomplete_exit_4(aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    keys = write_records([event("SendEmail", "ses", ATTACK_DAY - timedelta(days=day),
                                principal=mailer, key=key_id, ip=APP_IP)
                          for day in range(0, 20)], session=aws)
    damaged = keys[-1]
    body = aws.client("s3").get_object(Bucket=BUCKET, Key=damaged)["Body"].read()
    aws.client("s3").put_object(Bucket=BUCKET, Key=damaged, Body=body[: len(body) // 2])
    code, found = _investigate(key_id, "--since", "7d", "--source", f"s3://{BUCKET}")
    assert (code, found["complete"]) == (ExitCode.INCOMPLETE, False)
    notes = found["sources"][0]["notes"]
    assert any(damaged in note and "gzip" in note for note in notes), notes
    text = irready("investigate", key_id, "--since", "7d", "--source", f"s3://{BUCKET}",
                   "--workers", "1").stdout
    assert "the search was incomplete" in text


def test_a_root_key_is_a_p1_said_first(tmp_path: Path) -> None:
    key = "AKIAQDEMOROOTKEY0001"
    write_records([event("GetCallerIdentity", "sts", ATTACK_DAY, principal=root(DEMO_ACCOUNT),
                         key=key, ip=ATTACKER_IP)], folder=tmp_path / "copy")
    result = irready("investigate", key, "--since", "7d", "--source",
                     f"local:{tmp_path / 'copy'}", "--workers", "1")
    assert result.exit_code == ExitCode.FAILED
    assert "P1" in result.stdout.splitlines()[0] + result.stdout.splitlines()[1]


def test_a_session_in_an_account_the_logs_do_not_hold_is_named(tmp_path: Path) -> None:
    key = "AKIAQDEMOLEAKEDKEY01"
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    other = "111122223333"
    write_records([event(
        "AssumeRole", "sts", ATTACK_DAY, principal=mailer, key=key, ip=ATTACKER_IP,
        request={"roleArn": f"arn:aws:iam::{other}:role/admin", "roleSessionName": "x"},
        response={"credentials": session_credentials("ASIAQDEMOOTHERACCT01", ATTACK_DAY,
                                                     timedelta(hours=1)),
                  "assumedRoleUser": {"assumedRoleId": "AROAQDEMO:x",
                                      "arn": f"arn:aws:sts::{other}:assumed-role/admin/x"}})],
        folder=tmp_path / "copy")
    _, found = _investigate(key, "--since", "7d", "--source", f"local:{tmp_path / 'copy'}")
    assert found["complete"] is False
    assert any("ASIAQDEMOOTHERACCT01" in why and other in why
               for why in found["incomplete_because"])


def test_an_organization_trail_follows_a_session_into_a_member_account(tmp_path: Path) -> None:
    key = "AKIAQDEMOLEAKEDKEY01"
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    other = "111122223333"
    minted = "ASIAQDEMOOTHERACCT01"
    copy = tmp_path / "copy"
    write_records([event(
        "AssumeRole", "sts", ATTACK_DAY, principal=mailer, key=key, ip=ATTACKER_IP,
        request={"roleArn": f"arn:aws:iam::{other}:role/admin", "roleSessionName": "x"},
        response={"credentials": session_credentials(minted, ATTACK_DAY, timedelta(hours=1)),
                  "assumedRoleUser": {"assumedRoleId": "AROAQDEMO:x",
                                      "arn": f"arn:aws:sts::{other}:assumed-role/admin/x"}})],
        folder=copy, org_id="o-exampleorg1")
    write_records([event("ListBuckets", "s3", ATTACK_DAY + timedelta(minutes=2),
                         principal=assumed_role("admin", "x", other, ATTACK_DAY), key=minted,
                         ip=ATTACKER_IP)], folder=copy, org_id="o-exampleorg1")
    _, found = _investigate(key, "--since", "7d", "--source", f"local:{copy}")
    listed = [e for e in found["events"] if e["event_name"] == "ListBuckets"]
    assert listed
    assert listed[0]["chain"] == [key, minted]
    assert listed[0]["account_id"] == other
    assert not any(minted in why for why in found["incomplete_because"])


def test_the_investigation_is_stored_and_rendered_again(story: tuple[Any, str, str],
                                                        tmp_path: Path) -> None:
    _, key_id, secret = story
    first = irready("investigate", key_id, "--since", "7d", "--source", f"s3://{BUCKET}",
                    "--output", tmp_path / "inv.json", "--workers", "1")
    assert first.exit_code == ExitCode.FAILED
    again = irready("report", "investigation", "--key", key_id, "--format", "json")
    assert again.exit_code == 0
    assert document(again.stdout) == document((tmp_path / "inv.json").read_text())
    listed = irready("history")
    assert key_id in listed.stdout
    for fmt in ("markdown", "csv", "terminal"):
        rendered = irready("report", "investigation", "--key", key_id, "--format", fmt)
        assert rendered.exit_code == 0
        assert BACKDOOR_KEY in rendered.stdout
        assert secret not in rendered.stdout
    store = tmp_path / "xdg-data" / "irready" / "history.sqlite3"
    assert secret.encode() not in store.read_bytes()
    assert secret not in (tmp_path / "inv.json").read_text()


def test_a_key_of_another_account_is_refused_naming_it(aws: Any) -> None:
    other = aws.client("sts").assume_role(RoleArn="arn:aws:iam::111122223333:role/x",
                                          RoleSessionName="test")["Credentials"]
    import boto3

    member = boto3.Session(aws_access_key_id=other["AccessKeyId"],
                           aws_secret_access_key=other["SecretAccessKey"],
                           aws_session_token=other["SessionToken"], region_name="us-east-1")
    key_id, _ = leaked_user(member, "someone")
    result = irready("investigate", key_id, "--source", f"s3://{BUCKET}")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (f"irready: error: {key_id} belongs to account 111122223333, not "
                             f"{DEMO_ACCOUNT}: its calls are logged there; run irready with "
                             "credentials of account 111122223333\n")


def test_a_trail_with_a_key_prefix_is_read_under_it(aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    write_records([event("CreateUser", "iam", ATTACK_DAY, principal=mailer, key=key_id,
                         ip=ATTACKER_IP, request={"userName": "svc-x"})],
                  session=aws, prefix="org/trails")
    code, found = _investigate(key_id, "--since", "7d", "--source", f"s3://{BUCKET}/org/trails")
    assert code == ExitCode.FAILED
    assert [e["event_name"] for e in found["events"]] == ["CreateUser"]
    assert found["sources"][0]["location"] == f"s3://{BUCKET}/org/trails"


def test_a_session_key_is_investigated_with_its_owner_from_the_logs(
        story: tuple[Any, str, str]) -> None:
    code, found = _investigate(SESSION_KEY, "--since", "7d", "--source", f"s3://{BUCKET}")
    assert code == ExitCode.FAILED
    assert found["owner"]["from_logs"] is True
    assert found["owner"]["user"] == "app-integration-user"
    assert [e["event_name"] for e in found["events"]] == ["DescribeRegions"]
    assert any("session key" in note for note in found["notes"])
    # the leaked key's GetSessionToken names the session: listed apart, as a mention
    assert [m["event_name"] for m in found["mentions"]] == ["GetSessionToken"]


@pytest.mark.pdf
def test_the_incident_report_is_written_as_pdf_and_html(story: tuple[Any, str, str],
                                                        tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
    from report_seed import pdf_pages

    _, key_id, secret = story
    result = irready("investigate", key_id, "--since", "7d", "--source", f"s3://{BUCKET}",
                     "--output", tmp_path / "incident.pdf", "--workers", "1")
    assert result.exit_code == ExitCode.FAILED
    text = " ".join(" ".join(pdf_pages((tmp_path / "incident.pdf").read_bytes())).split())
    assert key_id in text
    assert BACKDOOR_USER in text
    assert "INCOMPLETE" in text
    assert "aws cloudtrail start-logging" in text
    html = irready("report", "investigation", "--key", key_id, "--format", "html")
    assert html.exit_code == 0
    assert "<html" in html.stdout
    assert secret not in html.stdout


def test_notify_sends_what_was_found_to_the_configured_webhook(
        story: tuple[Any, str, str], tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "auditor"))
    from clikit import write_config
    from test_notify import Webhook

    _, key_id, _ = story
    with Webhook() as webhook:
        config = write_config(tmp_path, f'[notify]\nwebhook_url = "{webhook.url}"\n')
        result = irready("investigate", key_id, "--since", "7d", "--source", f"s3://{BUCKET}",
                         "--notify", "--config", config, "--format", "json", "--workers", "1")
        assert result.exit_code == ExitCode.FAILED
        (post,) = webhook.posts
    assert post["text"].startswith(f"irready: suspicious activity by {key_id}")


def test_a_key_minted_by_a_record_seen_before_its_signer_was_known_is_followed(
        tmp_path: Path) -> None:
    """A session's CreateAccessKey that also names the leaked key is found in the first
    pass, before the session is known; it is looked at again once it is."""
    key = "AKIAQDEMOLEAKEDKEY01"
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    session = "ASIAQDEMOSESSIONKEY1"
    created = "AKIAQDEMOCREATEDKEY1"
    records = [
        event("GetSessionToken", "sts", ATTACK_DAY, principal=mailer, key=key, ip=ATTACKER_IP,
              response={"credentials": session_credentials(session, ATTACK_DAY,
                                                           timedelta(hours=12))}),
        # logged in another region's folder (read first), naming the leaked key
        event("CreateAccessKey", "iam", ATTACK_DAY + timedelta(minutes=3), region="eu-west-1",
              principal=mailer, key=session, ip=ATTACKER_IP,
              request={"userName": "svc-x", "note": key},
              response={"accessKey": {"userName": "svc-x", "accessKeyId": created,
                                      "status": "Active"}}),
        event("ListBuckets", "s3", ATTACK_DAY + timedelta(minutes=5),
              principal=iam_user("svc-x", DEMO_ACCOUNT), key=created, ip=ATTACKER_IP),
    ]
    write_records(records, folder=tmp_path / "copy")
    _, found = _investigate(key, "--since", "7d", "--source", f"local:{tmp_path / 'copy'}")
    assert {c["access_key_id"] for c in found["credentials"]} == {key, session, created}
    assert [e["chain"] for e in found["events"] if e["event_name"] == "ListBuckets"] == [
        [key, session, created]]


def test_control_characters_from_a_record_never_reach_the_terminal(tmp_path: Path) -> None:
    key = "AKIAQDEMOLEAKEDKEY01"
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    write_records([event("CreateUser", "iam", ATTACK_DAY, principal=mailer, key=key,
                         ip=ATTACKER_IP, agent="evil\x1b[2J\x1b[31m",
                         request={"userName": "svc\x1b[8m-x"})], folder=tmp_path / "copy")
    result = irready("investigate", key, "--since", "7d", "--source",
                     f"local:{tmp_path / 'copy'}", "--workers", "1")
    assert result.exit_code == ExitCode.FAILED
    assert "\x1b" not in result.stdout
    assert "svc\ufffd[8m-x" in result.stdout


def test_an_application_that_assumes_a_role_every_hour_is_not_suspicious(aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    mailer = iam_user("app-integration-user", DEMO_ACCOUNT)
    records = []
    for hour in range(24 * 20):
        moment = ATTACK_DAY - timedelta(days=19) + timedelta(hours=hour)
        session = f"ASIAQDEMOAPPSESS{hour:04d}"
        records.append(event("SendEmail", "ses", moment + timedelta(minutes=1),
                             principal=mailer, key=key_id, ip=APP_IP))
        records.append(event(
            "AssumeRole", "sts", moment, principal=mailer, key=key_id, ip=APP_IP,
            request={"roleArn": f"arn:aws:iam::{DEMO_ACCOUNT}:role/mailer",
                     "roleSessionName": "app"},
            response={"credentials": session_credentials(session, moment, timedelta(hours=1)),
                      "assumedRoleUser": {"assumedRoleId": "AROAQDEMO:app",
                                          "arn": f"arn:aws:sts::{DEMO_ACCOUNT}:assumed-role/"
                                                 "mailer/app"}}))
    write_records(records, session=aws)
    code, found = _investigate(key_id, "--since", "7d", "--source", f"s3://{BUCKET}")
    assert (code, found["verdict"]["suspicious_events"], found["follow_ups"]) == (
        ExitCode.OK, 0, [])
