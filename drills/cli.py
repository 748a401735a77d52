"""`irready drill ...`: the rotation drill's commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Rotate a test user's key for real, timed and journaled.",
                  no_args_is_help=True)
