"""The drill's own errors. Each is an IrreadyError, so the CLI prints it as one line and
exits with the code it carries (README, "Exit codes"): bad input is 2, an account that
cannot be reached is 3, another drill holding the user is 5, and a drill that stopped
before it reached a safe final state is 6."""

from __future__ import annotations

from auditor.errors import ExitCode, IrreadyError, UsageError


class TargetError(UsageError):
    """A rotation target is malformed, missing, or does not hold the user's key."""


class DrillBusy(IrreadyError):
    """Another drill on the same user is running now, or was cut off and is unfinished."""

    exit_code = int(ExitCode.LOCKED)


class DrillUnfinished(IrreadyError):
    """The drill stopped (Ctrl-C, SIGTERM, a rollback that could not finish) and left
    work for `irready drill resume|rollback ID`; the message says which."""

    exit_code = int(ExitCode.UNFINISHED)


class StepFailed(Exception):
    """A step failed; the engine rolls back or records it. Never reaches the user as is."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason
