"""`irready drill detect` between the command line and the drill: every input checked
before AWS is asked anything (the canary's name, the sequence file, the sources, the
durations), then the drill, its output, and its exit code: 0 every call seen in a source
the playbook relies on, 1 not (or nothing could be replayed), 2 bad input, 3 AWS
unreachable or denied, 6 cut off. Also what `drill show`, `resume` and `rollback` do
when the id is a detection drill's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.session import AwsContext
    from auditor.store import DetectDrillRecord
    from drills.detect.model import DetectOptions, DetectResult
    from drills.detect.run import Delivery
    from drills.detect.sources import SourceChoice
    from drills.model import DrillFormat


def choose_canary(config: Config, user: str | None) -> str:
    from drills.engine.preflight import normalize_user

    if user:
        return normalize_user(user)
    if len(config.drill.canaries) == 1:
        return config.drill.canaries[0]
    raise UsageError("--user is required (the config lists "
                     f"{len(config.drill.canaries)} canaries, not exactly one)")


def detect_options(config: Config, *, user: str | None, sequence: str,
                   sources: list[str] | None, timeout: float, poll: float
                   ) -> tuple[DetectOptions, tuple[SourceChoice, ...]]:
    from drills.detect.model import DetectOptions
    from drills.detect.sequence import load_sequence
    from drills.detect.sources import parse_detect_sources

    canary = choose_canary(config, user)
    if poll > timeout and timeout > 0:
        raise UsageError(f"--poll {poll:g} is longer than --timeout {timeout:g}: the drill "
                         "would look once")
    name, calls = load_sequence(sequence)
    choices = parse_detect_sources(sources)
    return DetectOptions(
        user=canary, sources=tuple(dict.fromkeys(c.source for c in choices)),
        sequence_name=name, sequence=calls, timeout=timeout, poll=poll,
        propagation_timeout=float(config.drill.propagation_timeout_seconds)), choices


def exit_code(result: DetectResult) -> ExitCode:
    from drills.detect.model import DetectStatus

    return ExitCode.OK if result.status is DetectStatus.SEEN else ExitCode.FAILED


def run_from_cli(config: Config, *, user: str | None, sequence: str,
                 sources: list[str] | None, timeout: float, poll: float, json_out: bool,
                 output: Path | None, ctx_factory: Callable[[], AwsContext],
                 delivery: Delivery | None = None) -> int:
    from auditor.cli_common import open_store, stderr, stdout
    from drills.detect.jsonform import document_text
    from drills.detect.run import run_detect
    from drills.detect.terminal import print_detect

    options, choices = detect_options(config, user=user, sequence=sequence, sources=sources,
                                      timeout=timeout, poll=poll)
    ctx = ctx_factory()
    progress = stderr()
    with open_store(config) as store:
        result = run_detect(ctx, config, store, options, choices, delivery=delivery,
                            say=lambda line: progress.print(line, markup=False,
                                                            highlight=False))
    text = document_text(result)
    if output is not None:
        from reports.formats import write_output

        write_output(output, text.encode())
        progress.print(f"wrote {output}", markup=False, highlight=False)
    if json_out and output is None:
        sys.stdout.write(text)
    elif not json_out:
        print_detect(stdout(), result)
    return int(exit_code(result))


def show_detection(record: DetectDrillRecord, fmt: DrillFormat, output: Path | None
                   ) -> None:
    """`drill show` of a detection drill: its stored JSON, or the terminal's account."""
    from drills.cli_output import console_for
    from drills.detect.stored import print_stored, show_document
    from drills.model import DrillFormat

    if output is not None:
        from reports.formats import write_output

        write_output(output, show_document(record).encode())
        console_for(True).print(f"wrote {output}")
    elif fmt is DrillFormat.JSON:
        sys.stdout.write(show_document(record))
    else:
        print_stored(console_for(False), record)


def close_if_detection(config: Config, ctx: AwsContext, drill_id: str) -> None:
    """A cut-off detection drill has nothing to go on with: resume and rollback both
    delete the temporary key it may have left, close it, and exit 0."""
    import typer

    from auditor.cli_common import open_store, stdout
    from drills.detect.recovery import close_detect_drill

    with open_store(config) as store:
        if store.find_detect_drill(drill_id) is None:
            return
        message = close_detect_drill(ctx, store, drill_id)
    stdout().print(f"detection drill {drill_id}: {message}", markup=False, highlight=False)
    raise typer.Exit(0)
