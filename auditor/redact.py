"""Keeping secrets out of every text irready stores, prints or sends: notifications,
the drill's journal and logs, and the reports.

Nothing formats a secret on purpose, but text we did not write can hold one: botocore's
DEBUG log prints request parameters and response bodies (CreateAccessKey's answer,
GetSecretValue's), an error message may quote a parameter, a command target may echo
its input. So three nets, one module: a detail whose key names a secret is never
shown (`redact_fields`); anything shaped like a secret access key (40 base64
characters standing alone) or following a session-token or secret-key label is masked
(`redact`); and a drill's `Redactor` also replaces, exactly, the secrets it knows.
False positives (a 40-character hash) cost only legibility."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# detail keys whose value could be a secret: never rendered, whoever put them there
SECRET_WORDS = ("secret_access_key", "secretaccesskey", "password", "session_token",
                "sessiontoken", "private_key")
REDACTED = "[redacted]"
MASK = "[secret]"  # what a drill writes in place of a secret in its reasons and logs
SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")
SECRET_LABEL = re.compile(r"(?i)(session[_-]?token|secret[_-]?access[_-]?key)(\W+)\S+")


def redact(text: str, mask: str = REDACTED) -> str:
    """`text` without anything that looks like a secret access key or a session token."""
    text = SECRET_LABEL.sub(lambda m: f"{m.group(1)}{m.group(2)}{mask}", text)
    return SECRET_SHAPE.sub(mask, text)


def is_secret_field(name: str) -> bool:
    flat = name.lower().replace("-", "_")
    return any(word in flat or word in flat.replace("_", "") for word in SECRET_WORDS)


def redact_fields(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A drill's or step's detail, keys sorted, with every secret-named value masked."""
    return {key: REDACTED if is_secret_field(key) else value
            for key, value in sorted(detail.items())}


class Redactor:
    """Knows the secrets of one drill; thread-safe, since botocore may log from threads."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return redact(text, MASK)


@contextmanager
def redacted_logs(redactor: Redactor) -> Iterator[None]:
    """While the block runs, every log record's message is redacted as it is created,
    whichever logger or handler it goes to."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem, not ours
            return record
        clean = redactor.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)
