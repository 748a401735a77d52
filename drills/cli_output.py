"""What the drill commands print and write around the engine: the report a drill writes
as it ends, the drill shown on the terminal or as JSON, the live step printer, SIGTERM
handled as Ctrl-C, and the one mapping of a drill's status to an exit code. Renderers
come from reports/, imported lazily so that `irready --help` stays fast."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.cli_common import stderr, stdout
from drills.model import DrillFormat

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.config import Config
    from auditor.errors import ExitCode
    from auditor.store import DrillRecord, HistoryStore


def console_for(to_stderr: bool) -> Console:
    return stderr() if to_stderr else stdout()


def drill_report_path(config: Config, report: Path | None, no_report: bool) -> Path | None:
    """Where the drill's report goes; a folder that does not exist fails before the drill."""
    if no_report:
        return None
    from reports.drill_report import DRILL_SUFFIXES
    from reports.drill_report import DrillFormat as ReportFormat
    from reports.formats import check_output, output_format

    if report is not None:
        output_format(report, None, ReportFormat.PDF, DRILL_SUFFIXES, "--report")
        check_output(report)
        return report
    path = config.reports_dir / "drill-{drill_id}.pdf"
    if config.reports.dir:  # a folder named in the config must exist
        check_output(path)
    return path


def write_report(store: HistoryStore, record: DrillRecord, path: Path | None) -> None:
    """The drill's report (reports.drill_report), written as the drill ends. A report that
    cannot be written is said on stderr; it does not change the drill's outcome."""
    if path is None:
        return
    from auditor.errors import IrreadyError
    from reports.drill_report import DRILL_SUFFIXES, DrillFormat, write_drill_report
    from reports.formats import output_format

    path = path.with_name(path.name.replace("{drill_id}", record.drill_id))

    fmt = output_format(path, None, DrillFormat.PDF, DRILL_SUFFIXES, "--report")
    earlier = [d for d in store.drills(account_id=record.account_id, until=record.started_at)
               if d.drill_id != record.drill_id]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_drill_report(record, earlier, path, fmt)
    except (IrreadyError, OSError) as exc:
        console_for(True).print(f"irready: warning: the drill's report was not written: {exc}",
                             markup=False, highlight=False, soft_wrap=True)
        return
    console_for(True).print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def exit_code(record: DrillRecord, *, rollback: bool = False) -> ExitCode:
    """The one place a drill's status becomes an exit code."""
    from auditor.errors import ExitCode
    from drills.model import DrillStatus

    status = record.status
    if status is DrillStatus.SUCCEEDED or (rollback and status is DrillStatus.ROLLED_BACK):
        return ExitCode.OK
    if status in (DrillStatus.FAILED, DrillStatus.ROLLED_BACK):
        return ExitCode.FAILED
    return ExitCode.UNFINISHED


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a drill like Ctrl-C does: journaled, resumable."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def progress_printer(console: Console, header: str) -> Any:
    from reports.drill_terminal import progress_printer as printer

    return printer(console, header)


def emit(record: DrillRecord, fmt: DrillFormat, output: Path | None, cut_off: bool = False,
          live: bool = False) -> None:
    """Write/print a drill. `live`: its steps were just printed as they ran, so the
    terminal gets the verdict only."""
    from reports.drill_json import render_drill_json
    from reports.drill_terminal import print_drill, print_summary

    if output is not None:
        from reports.formats import write_output

        text = render_drill_json(record, cut_off) if fmt is DrillFormat.JSON else plain_text(record)
        write_output(output, text.encode())
        console_for(True).print(f"wrote {output}")
    if fmt is DrillFormat.TERMINAL and live:
        console = console_for(False)
        console.print(f"Drill {record.drill_id}: {record.status}", markup=False)
        print_summary(console, record, cut_off)
    elif fmt is DrillFormat.TERMINAL:
        print_drill(console_for(False), record, cut_off)
    elif output is None:
        sys.stdout.write(render_drill_json(record, cut_off))


def plain_text(record: DrillRecord) -> str:
    import io

    from rich.console import Console

    from reports.drill_terminal import print_drill

    buffer = io.StringIO()
    print_drill(Console(file=buffer, width=120, color_system=None), record)
    return buffer.getvalue()
