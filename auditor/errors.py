"""One base error for everything a user can get wrong or the environment can deny.

The CLI turns each into a single line and the exit code it carries; a traceback that
reaches a user is a bug. Codes are documented in README ("Exit codes")."""

from __future__ import annotations

import sys
from enum import IntEnum
from typing import IO, Any


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a check failed at or above --fail-on, or a drill failed
    USAGE = 2  # bad command line or config, or a history store that cannot be used
    UNAVAILABLE = 3  # the account could not be audited at all
    INCOMPLETE = 4  # nothing failed, but some checks could not be evaluated
    LOCKED = 5  # another scheduler, or another run of the same scheduled job, holds the lock
    UNFINISHED = 6  # a drill was cut off or could not roll back: resume or roll it back
    INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it: 128 + 2


class IrreadyError(Exception):
    """An error with a one-line message meant for the user.

    Subclasses set `exit_code`. The CLI's root command group catches it, prints it with
    `show()` and exits with its code (see `auditor.cli.IrreadyGroup`). It is not a
    ClickException on purpose: typer ships its own copy of click, so a real click
    exception would escape it as a traceback, and importing click costs start-up time."""

    exit_code = int(ExitCode.USAGE)

    def __init__(self, message: str) -> None:
        self.message = " ".join(message.split())  # always one line
        super().__init__(self.message)

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        print(f"irready: error: {self.message}", file=file or sys.stderr, flush=True)


class ConfigError(IrreadyError):
    """The config file cannot be read, parsed or validated."""


class StoreError(IrreadyError):
    """The history store cannot be used: damaged, not irready's, read-only, busy. The
    message names the file and says what to do."""


class UsageError(IrreadyError):
    """A command-line value is wrong (unknown check id, bad key id, ...)."""


class AwsUnavailable(IrreadyError):
    """No credentials, endpoint unreachable, or STS denied: nothing can be audited."""

    exit_code = int(ExitCode.UNAVAILABLE)


class NotFound(IrreadyError):
    """A run, drill or user named on the command line does not exist."""


class Locked(IrreadyError):
    """Another process holds the lock this command needs; the message names it."""

    exit_code = int(ExitCode.LOCKED)


class Interrupted(IrreadyError):
    """Ctrl-C (SIGINT) stopped a command; the message says what was and was not kept."""

    exit_code = int(ExitCode.INTERRUPTED)
