"""Notifications reach a real HTTP server on 127.0.0.1 and moto's SNS and SES; a channel
that fails is reported in one line (without the webhook URL) and never raised; the
[notify] settings are validated when the config is read; no secret is ever sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from auditor.config import parse_config
from auditor.errors import ConfigError
from auditor.notify import Notifier, NotifySettings, message
from auditor.redact import redact

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example secret


class Webhook:
    """A webhook receiver on 127.0.0.1 that records each JSON POST."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.posts.append(json.loads(self.rfile.read(length)))
                receiver.headers.append(dict(self.headers))
                receiver.paths.append(self.path)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/services/T000/B000/hook-token"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as server:
        yield server


NOTE = message("irready audit needs attention: 2 new failures",
               ["new FAIL [high] iam.console_mfa admin-user (global): no MFA <b>&</b>",
                "report: /srv/irready/audit-20260105T060000Z.json"],
               {"job": "audit", "status": "ALERT",
                "report": "/srv/irready/audit-20260105T060000Z.json"})


def test_webhook_posts_json_whose_text_slack_shows(webhook: Webhook) -> None:
    failures = Notifier(NotifySettings(webhook_url=webhook.url)).send(NOTE)

    assert failures == ()
    (post,) = webhook.posts
    assert webhook.headers[0]["Content-Type"] == "application/json"
    assert post["text"].splitlines()[0] == "irready audit needs attention: 2 new failures"
    assert "report: /srv/irready/audit-20260105T060000Z.json" in post["text"]
    # Slack reads &, < and > as markup: they are escaped so they show as written
    assert "no MFA &lt;b&gt;&amp;&lt;/b&gt;" in post["text"]
    assert post["irready"] == {"job": "audit", "status": "ALERT",
                               "report": "/srv/irready/audit-20260105T060000Z.json"}


def test_webhook_url_can_come_from_the_environment(webhook: Webhook,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRREADY_WEBHOOK", webhook.url)
    notifier = Notifier(NotifySettings(webhook_url="env:IRREADY_WEBHOOK"))

    assert notifier.send(NOTE) == ()
    assert len(webhook.posts) == 1

    monkeypatch.delenv("IRREADY_WEBHOOK")
    assert notifier.send(NOTE) == ("webhook: $IRREADY_WEBHOOK is not set",)


def test_a_failing_webhook_is_one_line_without_its_url() -> None:
    with Webhook(status=500) as server:
        failures = Notifier(NotifySettings(webhook_url=server.url)).send(NOTE)
    assert failures == ("webhook: HTTP 500 Internal Server Error",)


def test_an_unreachable_webhook_is_reported_not_raised() -> None:
    with Webhook() as server:
        url = server.url
    (failure,) = Notifier(NotifySettings(webhook_url=url)).send(NOTE)
    assert failure.startswith("webhook: cannot reach the webhook:")
    assert "hook-token" not in failure


def test_sns_publishes_to_the_topic(aws: Any) -> None:
    sns = aws.client("sns", region_name="eu-west-1")
    sqs = aws.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="irready-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"]
                                         )["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    assert Notifier(NotifySettings(sns_topic_arn=topic)).send(NOTE) == ()

    (received,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(received["Body"])
    assert envelope["Subject"] == "irready audit needs attention: 2 new failures"
    assert "report: /srv/irready/audit-20260105T060000Z.json" in envelope["Message"]


def test_sns_to_a_missing_topic_is_one_line(aws: Any) -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:nobody-here"
    (failure,) = Notifier(NotifySettings(sns_topic_arn=arn)).send(NOTE)
    assert failure.startswith("sns: NotFound")


def test_email_goes_through_ses_from_a_verified_identity(aws: Any) -> None:
    from moto.ses.models import ses_backends

    aws.client("ses").verify_email_identity(EmailAddress="irready@example.com")
    settings = NotifySettings(email_to=("oncall@example.com",),
                              email_from="irready@example.com")

    assert Notifier(settings).send(NOTE) == ()

    (sent,) = ses_backends["123456789012"]["us-east-1"].sent_messages
    assert sent.destinations["ToAddresses"] == ["oncall@example.com"]
    assert sent.subject == "irready audit needs attention: 2 new failures"
    assert "report: /srv/irready/audit-20260105T060000Z.json" in sent.body


def test_email_from_an_unverified_sender_is_reported(aws: Any) -> None:
    settings = NotifySettings(email_to=("oncall@example.com",), email_from="nobody@example.com")
    (failure,) = Notifier(settings).send(NOTE)
    assert failure.startswith("email: MessageRejected")


def test_one_failed_channel_does_not_stop_the_others(aws: Any, webhook: Webhook) -> None:
    settings = NotifySettings(webhook_url=webhook.url,
                              sns_topic_arn="arn:aws:sns:us-east-1:123456789012:missing")
    failures = Notifier(settings).send(NOTE)
    assert [f.split(":")[0] for f in failures] == ["sns"]
    assert len(webhook.posts) == 1


def test_secrets_never_reach_a_channel(webhook: Webhook) -> None:
    note = message(f"drill failed: key {SECRET}",
                   [f"SecretAccessKey={SECRET}", "aws_session_token = FwoGZXIvYXdzEXAMPLE"],
                   {"detail": SECRET})
    Notifier(NotifySettings(webhook_url=webhook.url)).send(note)

    sent = json.dumps(webhook.posts)
    assert SECRET not in sent
    assert "FwoGZXIvYXdzEXAMPLE" not in sent
    assert "[redacted]" in sent


def test_redact_keeps_ordinary_text() -> None:
    text = "new FAIL [high] iam.console_mfa arn:aws:iam::123456789012:user/admin-user"
    assert redact(text) == text


def test_the_subject_fits_sns() -> None:
    note = message("x" * 300, [])
    assert len(note.subject) == 100
    assert note.subject.endswith("...")


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        pytest.param('webhook_url = "hooks.slack.com/x"',
                     "notify.webhook_url: expected an http(s) URL or env:NAME", id="no scheme"),
        pytest.param('webhook_url = "env:not a name"',
                     "notify.webhook_url: 'env:not a name' is not env:NAME with a variable name",
                     id="bad env name"),
        pytest.param('sns_topic_arn = "alerts"',
                     "notify.sns_topic_arn: 'alerts' is not an SNS topic ARN "
                     "(arn:aws:sns:REGION:ACCOUNT:NAME)", id="not an arn"),
        pytest.param('email_to = ["oncall@example.com"]',
                     "notify.email_from: email_to needs a sender verified in SES",
                     id="no sender"),
        pytest.param('email_to = ["oncall"]\nemail_from = "a@example.com"',
                     "notify: 'oncall' is not an email address", id="bad address"),
    ],
)
def test_bad_notify_settings_are_one_line(toml: str, error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"[notify]\n{toml}\n", "irready.toml")
    assert caught.value.message == f"irready.toml: {error}"


def test_nothing_configured_sends_nothing() -> None:
    assert Notifier(NotifySettings()).channels == ()
    assert Notifier(NotifySettings()).send(NOTE) == ()
