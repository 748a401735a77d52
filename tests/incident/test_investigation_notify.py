"""`irready investigate --notify`: an investigation that found something reaches a real
HTTP server on 127.0.0.1 and moto's SNS through the scheduler's Notifier, in one short
message (verdict, first and last, tactics, the top follow-ups, incomplete, the report);
a quiet one sends nothing; a failed channel comes back as a line, never raised."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from investigationkit import (
    BACKDOOR,
    LEAKED,
    ROLE_SESSION,
    SESSION,
    quiet_investigation,
    sample_investigation,
)

# the webhook receiver of the notifier's own tests
sys.path.insert(0, str(Path(__file__).parents[1] / "auditor"))
from test_notify import Webhook

from auditor.notify import SUBJECT_LIMIT, NotifySettings
from auditor.session import AwsContext
from incident.investigate.model import Owner, OwnerType
from incident.investigate.notify import (
    investigation_message,
    notify_investigation,
)

REPORT = "reports/incident-AKIAEXAMPLELEAKED123.pdf"


@pytest.fixture
def webhook() -> Any:
    with Webhook() as server:
        yield server


def test_a_suspicious_investigation_reaches_the_webhook(webhook: Webhook) -> None:
    failures = notify_investigation(NotifySettings(webhook_url=webhook.url),
                                    sample_investigation(), REPORT)

    assert failures == []
    (post,) = webhook.posts
    lines = post["text"].splitlines()
    assert lines[0] == f"irready: suspicious activity by {LEAKED} (9 events, 7 follow-ups)"
    assert lines[1] == (f"9 suspicious event(s) and 7 follow-up(s) for key {LEAKED} of IAM "
                        "user app-integration-user in account 123456789012.")
    assert "first suspicious: 2026-12-01 12:11:03Z GetCallerIdentity from 203.0.113.9" in lines
    assert "last suspicious: 2026-12-01 12:25:00Z PutAlternateContact from 203.0.113.9" in lines
    assert any(line.startswith("tactics: account manipulation 1, defense evasion 1")
               for line in lines)
    # the session made at 12:14 is valid for 12 hours, past the search's end
    assert f"session {SESSION} still valid until 2026-12-02 00:14:00Z" in lines
    assert "follow-ups (5 of 7):" in lines
    assert "- user backdoor-user" in lines
    assert "  aws iam delete-user --user-name backdoor-user" in lines
    # the top five, in time order; the stopped trail and the contact are in the report
    assert [line for line in lines if line.startswith("- ")] == [
        "- user backdoor-user", f"- access_key {BACKDOOR}",
        "- policy backdoor-user:arn:aws:iam::aws:policy/AdministratorAccess",
        f"- session {SESSION}", f"- session {ROLE_SESSION} (valid until 2026-12-01 13:20:00Z)"]
    assert f"report: {REPORT}" in lines
    assert not any(line.startswith("INCOMPLETE") for line in lines)
    assert post["irready"] == {"job": "investigate", "status": "SUSPICIOUS", "key": LEAKED,
                               "account": "123456789012",
                               "investigation": "inv-20261201T130000Z-0001",
                               "complete": "true", "report": REPORT}


def test_a_quiet_investigation_sends_nothing(webhook: Webhook) -> None:
    assert notify_investigation(NotifySettings(webhook_url=webhook.url),
                                quiet_investigation(), REPORT) == []
    assert webhook.posts == []


def test_an_incomplete_quiet_investigation_sends_nothing(webhook: Webhook) -> None:
    inv = quiet_investigation(complete=False, incomplete_because=("a folder was denied",))
    assert notify_investigation(NotifySettings(webhook_url=webhook.url), inv, None) == []
    assert webhook.posts == []


def test_follow_ups_alone_are_sent(webhook: Webhook) -> None:
    sample = sample_investigation()
    inv = quiet_investigation(follow_ups=sample.follow_ups[:1], complete=False,
                              incomplete_because=("2 files could not be read",))
    assert notify_investigation(NotifySettings(webhook_url=webhook.url), inv, None) == []

    lines = webhook.posts[0]["text"].splitlines()
    assert lines[0] == f"irready: follow-ups for {LEAKED} (0 events, 1 follow-ups)"
    assert "INCOMPLETE, there may be more: 2 files could not be read" in lines
    assert "report: none written (irready investigate --format pdf -o FILE)" in lines
    assert webhook.posts[0]["irready"]["status"] == "FOLLOW_UPS"
    assert not any(line.startswith("first suspicious") for line in lines)


def test_a_root_key_is_p1_in_the_subject() -> None:
    inv = sample_investigation(owner=Owner(OwnerType.ROOT, "arn:aws:iam::123456789012:root",
                                           "", from_logs=False))
    note = investigation_message(inv, REPORT)
    assert note.subject == (f"irready P1: suspicious activity by root key {LEAKED} "
                            "(9 events, 7 follow-ups)")
    assert len(note.subject) <= SUBJECT_LIMIT
    assert note.body.startswith("P1: this is the account's root key.")


def test_a_failed_webhook_is_a_line() -> None:
    with Webhook(status=500) as server:
        failures = notify_investigation(NotifySettings(webhook_url=server.url),
                                        sample_investigation(), REPORT)
    assert failures == ["webhook: HTTP 500 Internal Server Error"]


def test_no_channel_sends_nothing() -> None:
    assert notify_investigation(NotifySettings(), sample_investigation(), REPORT) == []


def test_sns_publishes_through_the_given_session(aws: Any) -> None:
    sns = aws.client("sns", region_name="eu-west-1")
    sqs = aws.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="irready-incidents")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"]
                                         )["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    made: list[AwsContext] = []

    def session_factory() -> AwsContext:
        made.append(AwsContext(session=aws, max_attempts=1))
        return made[-1]

    failures = notify_investigation(NotifySettings(sns_topic_arn=topic),
                                    sample_investigation(), REPORT,
                                    session_factory=session_factory)

    assert failures == []
    assert len(made) == 1
    (received,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(received["Body"])
    assert envelope["Subject"] == (f"irready: suspicious activity by {LEAKED} "
                                   "(9 events, 7 follow-ups)")
    assert f"report: {REPORT}" in envelope["Message"]


def test_sns_to_a_missing_topic_is_a_line(aws: Any) -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:nobody-here"
    failures = notify_investigation(NotifySettings(sns_topic_arn=arn),
                                    sample_investigation(), REPORT,
                                    session_factory=lambda: AwsContext(session=aws))
    assert [failure.split(":")[0] for failure in failures] == ["sns"]
    assert "NotFound" in failures[0]


def test_follow_ups_with_a_command_come_first() -> None:
    sample = sample_investigation()
    expired = replace(sample.follow_ups[3], command="", note="expired 2026-12-02T00:14:00Z")
    inv = sample_investigation(follow_ups=(expired, *sample.follow_ups[4:]))
    lines = investigation_message(inv, None).body.splitlines()

    listed = [line for line in lines if line.startswith("- ")]
    assert listed[0] == f"- session {ROLE_SESSION} (valid until 2026-12-01 13:20:00Z)"
    assert listed[-1] == f"- session {SESSION} (expired 2026-12-02T00:14:00Z)"
    assert "follow-ups (4 of 4):" in lines
