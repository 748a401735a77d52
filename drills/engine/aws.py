"""How the engine reads an AWS failure: one line about it, its error code, whether AWS
refused the call outright (so it surely did nothing), and the hint a denied preflight
gives."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from auditor.errors import AwsUnavailable
from drills.errors import StepFailed, TargetError

AWS_ERRORS = (ClientError, BotoCoreError)


def describe_error(exc: BaseException) -> str:
    """One line about a failure, without the boto noise that says nothing more."""
    if isinstance(exc, ClientError):
        from auditor.session import error_code

        operation = getattr(exc, "operation_name", "") or "the call"
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{operation}: {error_code(exc)}" + (f": {message}" if message else "")
    if isinstance(exc, TargetError | StepFailed):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, BotoCoreError) else f"{type(exc).__name__}: {text}"


def error_code(exc: BaseException) -> str:
    from auditor.session import error_code

    return error_code(exc)


def aws_denied(action: str, exc: BaseException) -> AwsUnavailable:
    return AwsUnavailable(f"{action} failed ({describe_error(exc)}); the drill needs the "
                          "policy that `irready policy drill` prints")


def refused_at_once(exc: ClientError) -> bool:
    """AWS answered the only attempt with a 4xx: the call was not done (no retry of a
    possibly applied attempt came before)."""
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    return int(meta.get("RetryAttempts") or 0) == 0 and 400 <= status < 500
