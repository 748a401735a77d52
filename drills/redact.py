"""Keeping secret access keys out of every text a drill produces.

The engine never formats a secret, but text it does not write can hold one: botocore's
DEBUG log prints request parameters and response bodies (CreateAccessKey's answer,
GetSecretValue's), and an error message may quote a parameter. So every failure reason
the drill records goes through `Redactor.redact`, and while a drill runs, every log
record is redacted as it is created. Secrets the drill knows are replaced exactly; so is
anything shaped like a secret access key (40 base64 characters standing alone), since
botocore logs a new key's secret before the drill has even seen it."""

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
SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
MASK = "[secret]"


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
        return SECRET_SHAPE.sub(MASK, text)


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
