"""`irready schedule ...`: the scheduler's commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the weekly audit and quarterly drill, or print cron/systemd units.",
                  no_args_is_help=True)
