"""Telling an access key id from everything a user may paste instead: a key id is
20 characters, AKIA (a long-term key) or ASIA (a session's key) and 16 more. The
most dangerous mistake is pasting the secret access key; it is refused without being
echoed, stored or logged."""

from __future__ import annotations

import re

from auditor.errors import UsageError
from auditor.redact import SECRET_SHAPE

KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
ANY_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_SHOWABLE = re.compile(r"[A-Za-z0-9_.:-]{1,24}")


def is_session_key(key_id: str) -> bool:
    return key_id.startswith("ASIA")


def checked_key_id(value: str) -> str:
    """The key id in `value`, or a UsageError that never repeats a secret."""
    text = value.strip()
    if SECRET_SHAPE.fullmatch(text) or len(text) >= 30:
        raise UsageError("that looks like a secret access key, not an access key id; it was "
                         "not stored or shown. Give the key id (AKIA... or ASIA..., 20 "
                         "characters), and rotate the secret if it was pasted where others "
                         "can see it")
    if KEY_ID.fullmatch(text):
        return text
    shown = repr(text) if _SHOWABLE.fullmatch(text) else "the value given"
    if KEY_ID.fullmatch(text.upper()):
        raise UsageError(f"{shown} is not an access key id: key ids are upper case "
                         f"({text.upper()})")
    raise UsageError(f"{shown} is not an access key id: expected AKIA or ASIA followed by 16 "
                     "letters or digits (20 characters)")
