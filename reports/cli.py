"""`irready report ...`: reports from the history store."""

from __future__ import annotations

import typer

app = typer.Typer(help="Compliance PDF, audit and drill reports from the history store.",
                  no_args_is_help=True)
