"""One redaction for notifications, drills and reports: what either of the two earlier
patterns caught is still caught, wherever the text goes."""

from __future__ import annotations

import pytest

from auditor.redact import MASK, REDACTED, Redactor, redact, redact_fields

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example secret


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(f"key {SECRET} leaked", f"key {REDACTED} leaked", id="a secret's shape"),
    pytest.param("x" * 39 + "=", REDACTED, id="base64 padding is part of the shape"),
    pytest.param("aws_session_token = FwoGZXIvYXdzEXAMPLE",
                 f"aws_session_token = {REDACTED}", id="a labelled session token"),
    pytest.param("sha " + "a" * 41, "sha " + "a" * 41, id="41 characters are not a key"),
])
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_drill_masks_the_secrets_it_knows_and_any_secret_shape() -> None:
    redactor = Redactor()
    redactor.add("short-known-secret")
    text = f"boom short-known-secret {SECRET} SecretAccessKey: abc"
    assert redactor.redact(text) == f"boom {MASK} {MASK} SecretAccessKey: {MASK}"


def test_secret_named_fields_are_masked() -> None:
    assert redact_fields({"b": 1, "SecretAccessKey": "x", "a_password": "y"}) == {
        "SecretAccessKey": REDACTED, "a_password": REDACTED, "b": 1}
