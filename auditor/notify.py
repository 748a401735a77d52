"""Notifications: how a scheduled job that needs a person reaches one. An audit with new
failures or checks that could not run, a drill that failed or was slower than its
target, a job that could not run at all: each becomes one short message sent to every
configured channel, a webhook (a JSON POST whose `text` field Slack shows as is), an
SNS topic, or an email through SES.

A message says what failed and where the report is, never a secret: text is passed
through `auditor.redact.redact` before it is stored or sent, and a webhook URL (a Slack
URL is itself a credential) is never logged or put in an error message. A channel that
fails is reported back to the caller; it never stops the scheduler. The [notify]
settings live here, beside the channels they configure; the config only reads them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from auditor.errors import ConfigError
from auditor.redact import redact

if TYPE_CHECKING:
    from auditor.session import AwsContext

SUBJECT_LIMIT = 100  # SNS refuses longer subjects
WEBHOOK_TIMEOUT_SECONDS = 10.0
ENV_PREFIX = "env:"

_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_notify_settings(settings: NotifySettings) -> None:
    """One-line ConfigErrors for [notify]; called when the config is built."""
    url = settings.webhook_url
    if url.startswith(ENV_PREFIX):
        if not _ENV_NAME.match(url[len(ENV_PREFIX):]):
            raise ConfigError(f"notify.webhook_url: {url!r} is not env:NAME with a variable name")
    elif url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("notify.webhook_url: expected an http(s) URL or env:NAME")
    if settings.sns_topic_arn and not _SNS_ARN.match(settings.sns_topic_arn):
        raise ConfigError(f"notify.sns_topic_arn: {settings.sns_topic_arn!r} is not an SNS "
                          "topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
    for address in (*settings.email_to, settings.email_from):
        if address and not _EMAIL.match(address):
            raise ConfigError(f"notify: {address!r} is not an email address")
    if settings.email_to and not settings.email_from:
        raise ConfigError("notify.email_from: email_to needs a sender verified in SES")
    if settings.email_from and not settings.email_to:
        raise ConfigError("notify.email_to: email_from is set but nobody to send to")


@dataclass(frozen=True)
class NotifySettings:
    """Where the scheduler tells a person that something needs them."""

    webhook_url: str = ""  # JSON POST with a Slack-compatible `text`; "env:NAME" reads $NAME
    sns_topic_arn: str = ""
    email_to: tuple[str, ...] = ()  # sent through SES
    email_from: str = ""  # an SES-verified identity
    ses_region: str = ""  # empty: the default AWS region

    def __post_init__(self) -> None:
        validate_notify_settings(self)


@dataclass(frozen=True)
class Message:
    """What a person needs to read: a subject line and a few lines of detail."""

    subject: str
    body: str
    facts: Mapping[str, str] = field(default_factory=dict)  # job, status, report, host

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}".strip()


def message(subject: str, lines: list[str] | tuple[str, ...],
            facts: Mapping[str, str] | None = None) -> Message:
    """A Message with secrets redacted and a subject that fits every channel."""
    subject = redact(" ".join(subject.split()))
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 3] + "..."
    return Message(subject=subject, body=redact("\n".join(lines)),
                   facts={k: redact(v) for k, v in (facts or {}).items()})


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup; escaped, it shows them as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Notifier:
    """Sends a Message to every channel configured in [notify]."""

    def __init__(self, settings: NotifySettings,
                 context: Callable[[], AwsContext] | None = None) -> None:
        """`context`: the AWS session SNS and SES are reached through (the command's
        --profile and endpoint); None: the default credentials chain."""
        self.settings = settings
        self.context = context

    @property
    def channels(self) -> tuple[str, ...]:
        names = []
        if self.settings.webhook_url:
            names.append("webhook")
        if self.settings.sns_topic_arn:
            names.append("sns")
        if self.settings.email_to:
            names.append("email")
        return tuple(names)

    def send(self, note: Message) -> tuple[str, ...]:
        """Try every channel; return one line per channel that failed."""
        failures: list[str] = []
        senders = {"webhook": self._webhook, "sns": self._sns, "email": self._email}
        for channel in self.channels:
            try:
                senders[channel](note)
            except Exception as exc:  # noqa: BLE001 - a failed channel must not stop the others
                failures.append(self._hide_url(f"{channel}: {describe_failure(exc)}"))
        return tuple(failures)

    def _hide_url(self, line: str) -> str:
        """A Slack webhook URL is a credential: it never appears in a log line."""
        try:
            url = webhook_url(self.settings)
        except LookupError:
            return line
        return line.replace(url, "[webhook url]") if url else line

    def _webhook(self, note: Message) -> None:
        import urllib.request

        url = webhook_url(self.settings)
        payload = {"text": slack_escape(note.text), "irready": dict(note.facts)}
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "irready"},
        )
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read()

    def _sns(self, note: Message) -> None:
        from auditor.session import AwsContext

        region = self.settings.sns_topic_arn.split(":")[3]
        context = self.context() if self.context else AwsContext(region=region, max_attempts=3)
        client = context.client("sns", region)
        client.publish(TopicArn=self.settings.sns_topic_arn, Subject=_ascii(note.subject),
                       Message=note.text)

    def _email(self, note: Message) -> None:
        from auditor.session import AwsContext

        region = self.settings.ses_region or None
        context = self.context() if self.context else AwsContext(region=region, max_attempts=3)
        context.client("ses", region).send_email(
            Source=self.settings.email_from,
            Destination={"ToAddresses": list(self.settings.email_to)},
            Message={"Subject": {"Data": note.subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": note.text, "Charset": "UTF-8"}}},
        )


def webhook_url(settings: NotifySettings) -> str:
    url = settings.webhook_url
    if url.startswith(ENV_PREFIX):
        name = url[len(ENV_PREFIX):]
        value = os.environ.get(name, "")
        if not value:
            raise LookupError(f"${name} is not set")
        return value
    return url


def describe_failure(exc: BaseException) -> str:
    """One line about a failed delivery, without the webhook URL it went to."""
    import urllib.error

    from auditor.session import error_code

    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the webhook: {exc.reason}"
    if isinstance(exc, LookupError):
        return str(exc).strip("'\"")
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        detail = response.get("Error", {}).get("Message", "")
        return f"{error_code(exc)}: {detail}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()
