"""The calls a detection drill replays: the story's (the attacker's first minutes:
who am I, which users, their keys, roles, policies, then another user), or a file's.

A file is JSON: a list of {"service": "iam", "operation": "ListUsers", "parameters":
{...}}. Only reads (Get*, List*, Describe*) are accepted: the canary has no permission,
so its calls are denied anyway, but a drill never asks AWS to change anything with the
key it hands out. Every operation is checked against botocore's model before the first
write to AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.errors import UsageError
from drills.detect.model import ApiCall

STORY: tuple[ApiCall, ...] = (
    ApiCall("sts", "GetCallerIdentity"),
    ApiCall("iam", "ListUsers"),
    ApiCall("iam", "ListAccessKeys"),
    ApiCall("iam", "ListRoles"),
    ApiCall("iam", "ListPolicies"),
    ApiCall("iam", "GetUser", {"UserName": "admin-user"}),
)
READ_PREFIXES = ("Get", "List", "Describe")
MAX_CALLS = 50


def load_sequence(value: str) -> tuple[str, tuple[ApiCall, ...]]:
    """`story` or a file's path: (its name for the report, its calls)."""
    if value == "story":
        return "story", STORY
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--sequence {value}: cannot be read: {reason}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--sequence {value}: not JSON: {exc.msg} at line {exc.lineno}"
                         ) from None
    return path.name, parse_calls(document, f"--sequence {value}")


def parse_calls(document: Any, where: str) -> tuple[ApiCall, ...]:
    if not isinstance(document, list) or not document:
        raise UsageError(f"{where}: must be a non-empty JSON list of calls")
    if len(document) > MAX_CALLS:
        raise UsageError(f"{where}: {len(document)} calls; at most {MAX_CALLS}")
    calls = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict) or set(item) - {"service", "operation", "parameters"}:
            raise UsageError(f"{where}: call {number}: must be an object with service, "
                             "operation and (optionally) parameters")
        service, operation = item.get("service"), item.get("operation")
        parameters = item.get("parameters", {})
        if not isinstance(service, str) or not isinstance(operation, str):
            raise UsageError(f"{where}: call {number}: service and operation must be text")
        if not isinstance(parameters, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in parameters.items()):
            raise UsageError(f"{where}: call {number}: parameters must map names to text")
        call = ApiCall(service, operation, dict(parameters))
        check_call(call, f"{where}: call {number}")
        calls.append(call)
    return tuple(calls)


def check_call(call: ApiCall, where: str) -> None:
    """A read operation that botocore knows, with parameters its model names."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    if not call.operation.startswith(READ_PREFIXES):
        raise UsageError(f"{where}: {call.operation} is not a read (Get*, List*, "
                         "Describe*): a detection drill only replays reads")
    session = botocore.session.get_session()
    try:
        model = session.get_service_model(call.service)
    except UnknownServiceError:
        raise UsageError(f"{where}: unknown service {call.service!r}") from None
    if call.operation not in model.operation_names:
        raise UsageError(f"{where}: {call.service} has no operation {call.operation!r}")
    shape = model.operation_model(call.operation).input_shape
    known = set(shape.members) if shape is not None else set()
    unknown = sorted(set(call.parameters) - known)
    if unknown:
        raise UsageError(f"{where}: {call.operation} takes no parameter "
                         f"{', '.join(unknown)}")


def method_name(operation: str) -> str:
    """boto3's method for an operation: ListAccessKeys -> list_access_keys."""
    from botocore import xform_name

    return str(xform_name(operation))
