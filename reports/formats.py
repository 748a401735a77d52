"""The output formats of `irready audit --format` and `irready report audit`, and the
one function that renders a run in any of them. A test renders every member."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from auditor.errors import UsageError
from auditor.models import AuditRun
from reports.diff import RunDiff


class AuditFormat(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"


def render_audit(run: AuditRun, diff: RunDiff | None, fmt: AuditFormat) -> bytes:
    """The report as bytes (PDF is binary); TERMINAL renders as plain text."""
    if fmt is AuditFormat.JSON:
        from reports.json_report import render_json

        return render_json(run, diff).encode()
    if fmt is AuditFormat.TERMINAL:
        import io

        from rich.console import Console

        buffer = io.StringIO()
        from reports.terminal import print_audit

        print_audit(Console(file=buffer, width=120, color_system=None), run, diff)
        return buffer.getvalue().encode()
    raise UsageError(f"unsupported format {fmt}")


def write_output(path: Path, content: bytes) -> None:
    """Write atomically; a folder that does not exist is a usage error, not a traceback."""
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(content)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
