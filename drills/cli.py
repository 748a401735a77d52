"""`irready drill ...`: the rotation drill's commands. Thin: each loads the config, calls
one function of drills.rotation, renders, and exits with a code from ExitCode:
0 the drill succeeded (or was rolled back on request), 1 it failed and was rolled back,
2 bad input, 3 AWS unreachable or denied, 5 another drill holds the user,
6 the drill stopped unfinished (resume or roll it back)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli_common import (
    INT_MAX,
    ConfigOpt,
    EndpointOpt,
    HistoryOpt,
    ProfileOpt,
    RegionOpt,
    aws_context,
    checked_path,
    load,
    open_store,
    stderr,
)
from drills.cli_output import (
    console_for,
    drill_report_path,
    emit,
    exit_code,
    progress_printer,
    sigterm_as_interrupt,
    write_report,
)
from drills.model import DrillFormat

if TYPE_CHECKING:

    from auditor.config import Config
    from auditor.store import DrillRecord
    from drills.rotation import Corrections

app = typer.Typer(help="Rotate a test user's key for real, timed and journaled.",
                  no_args_is_help=True)

FormatOpt = Annotated[DrillFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                callback=checked_path,
                                                help="Write the output here.")]
ReportOpt = Annotated[Path | None, typer.Option(
    "--report", dir_okay=False, callback=checked_path,
    help="Write the drill's report here as it ends (.pdf, .html or .json; default: a PDF "
         "in the configured reports folder).")]
NoReportOpt = Annotated[bool, typer.Option("--no-report", help="Write no report.")]
RestartOpt = Annotated[str | None, typer.Option(
    "--restart-command", help="Run after publishing (and after a rollback), to restart the "
                              "application; replaces the drill's own.")]
HealthCommandOpt = Annotated[str | None, typer.Option(
    "--health-command", help="Must exit 0 once the application runs on the new key; "
                             "replaces the drill's own.")]
HealthUrlOpt = Annotated[str | None, typer.Option(
    "--health-url", help="Must answer 2xx once the application runs on the new key; "
                         "replaces the drill's own.")]
NoRestartOpt = Annotated[bool, typer.Option(
    "--no-restart", help="Run no restart command (restart the application yourself).")]
TARGET_HELP = ("Where the application reads its key: secretsmanager:SECRET_ID, ssm:PARAMETER, "
               "credentials-file:PATH#PROFILE, env-file:PATH or command:CMD (default: the "
               "user's rotation_target in the inventory).")


@app.command()
def rotate(
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="The IAM user to drill (default: the only [drill] user).")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help=TARGET_HELP)] = None,
    make_room: Annotated[bool, typer.Option(
        help="If the user has two keys, delete the inactive one first.")] = False,
    restart_command: Annotated[str | None, typer.Option(
        help="Run after publishing, to restart/redeploy the application.")] = None,
    health_command: Annotated[str | None, typer.Option(
        help="Must exit 0 once the application runs on the new key.")] = None,
    health_url: Annotated[str | None, typer.Option(
        help="Must answer 2xx once the application runs on the new key.")] = None,
    propagation_timeout: Annotated[float | None, typer.Option(
        help="Seconds to wait for IAM to accept the new key (and refuse the old).")] = None,
    health_timeout: Annotated[float | None, typer.Option(
        help="Seconds to retry the health check.")] = None,
    delete_old: Annotated[bool, typer.Option(
        help="Delete the old key at the end (default: keep it inactive).")] = False,
    dry_run: Annotated[bool, typer.Option(
        help="Print the plan and what it would touch; change nothing.")] = False,
    fmt: FormatOpt = DrillFormat.TERMINAL,
    output: OutputOpt = None,
    report: ReportOpt = None,
    no_report: NoReportOpt = False,
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
) -> None:
    """Rotate USER's key through TARGET, step by step, timed: rotate before you block."""
    from dataclasses import replace

    from drills.engine.preflight import check_options
    from drills.model import DrillOptions
    from drills.rotation import options_from_config, plan_drill, run_drill

    config = load(config_path, history_path)
    if dry_run and (fmt is not DrillFormat.TERMINAL or output is not None):
        from auditor.errors import UsageError

        raise UsageError("--dry-run prints the plan as text on stdout; --format json and "
                         "--output apply to a drill that runs")
    chosen = _choose_user(config, user)
    if target:
        options = DrillOptions(
            user=chosen, target=target,
            restart_command=config.drill.restart_command,
            health_command=config.drill.health_command, health_url=config.drill.health_url,
            propagation_timeout=float(config.drill.propagation_timeout_seconds),
            health_timeout=float(config.drill.health_timeout_seconds),
            command_timeout=float(config.drill.command_timeout_seconds))
    else:
        options = options_from_config(config, chosen)
    options = replace(
        options, make_room=make_room, delete_old=delete_old,
        restart_command=options.restart_command if restart_command is None else restart_command,
        health_command=options.health_command if health_command is None else health_command,
        health_url=options.health_url if health_url is None else health_url,
        propagation_timeout=(options.propagation_timeout if propagation_timeout is None
                             else propagation_timeout),
        health_timeout=options.health_timeout if health_timeout is None else health_timeout)
    check_options(options)  # before AWS is asked anything
    report_path = None if dry_run else drill_report_path(config, report, no_report)
    ctx = aws_context(profile, region, endpoint_url)
    with open_store(config) as store:
        if dry_run:
            from reports.drill_terminal import print_plan

            print_plan(console_for(False), plan_drill(ctx, config, store, options))
            return
        show = progress_printer(console_for(fmt is DrillFormat.JSON),
                                f"Drill of {options.user} through {options.target}:")
        with sigterm_as_interrupt():
            record = run_drill(ctx, config, store, options, on_event=show)
        emit(record, fmt, output, live=True)
        write_report(store, record, report_path)
    _say_what_is_left(record)
    raise typer.Exit(int(exit_code(record)))


@app.command()
def detect(
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="The canary user (default: the only [drill] canaries user).")
    ] = None,
    sequence: Annotated[str, typer.Option(
        help="The calls to replay: story (the attacker's first minutes) or a JSON file.")
    ] = "story",
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", help="Where to look, repeatable: lookup, s3, s3://BUCKET[/PREFIX], "
                               "athena (after the files; costs money, never counted) and "
                               "guardduty beside them (default: lookup and every "
                               "trail's files).", metavar="SOURCE")
    ] = None,
    timeout: Annotated[float, typer.Option(
        help="Seconds to wait for the calls to be visible.", min=0.0, max=86400.0)] = 1800.0,
    poll: Annotated[float, typer.Option(
        help="Seconds between two looks.", min=0.01, max=3600.0)] = 30.0,
    fmt: FormatOpt = DrillFormat.TERMINAL,
    output: OutputOpt = None,
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
) -> None:
    """Replay the attacker's first minutes with a canary's temporary key (always deleted),
    then time how long until the calls can be seen in event history and the trail's files."""
    from drills.detect.cli_run import run_from_cli

    config = load(config_path, history_path)
    with sigterm_as_interrupt():
        code = run_from_cli(config, user=user, sequence=sequence, sources=source,
                            timeout=timeout, poll=poll, json_out=fmt is DrillFormat.JSON,
                            output=output,
                            ctx_factory=lambda: aws_context(profile, region, endpoint_url))
    raise typer.Exit(code)


def _choose_user(config: Config, user: str | None) -> str:
    from auditor.errors import UsageError

    if user:
        return user
    if len(config.drill.users) == 1:
        return config.drill.users[0]
    raise UsageError("--user is required (the config lists "
                     f"{len(config.drill.users)} drill users, not exactly one)")


@app.command("list")
def list_drills(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
    limit: Annotated[int, typer.Option(help="How many drills, newest first.", min=1,
                                       max=INT_MAX, metavar="N")] = 20,
    fmt: FormatOpt = DrillFormat.TERMINAL,
    output: OutputOpt = None,
    config_path: ConfigOpt = None,
    history_path: HistoryOpt = None,
) -> None:
    """Past drills, newest first, with their status and time to rotate."""
    from drills.rotation import is_cut_off
    from reports.drill_json import render_drills_json
    from reports.drill_terminal import print_drills

    config = load(config_path, history_path)
    with open_store(config) as store:
        records = store.drills(account_id=account, user=user)[:limit]
        cut_off = {r.drill_id for r in records if is_cut_off(store, r)}
        detections = store.detect_drills(account_id=account, user=user)[:limit]
    if fmt is DrillFormat.JSON or output is not None:
        import json

        from drills.detect.stored import summary

        document = json.loads(render_drills_json(records, cut_off))
        document["detection_drills"] = [summary(record) for record in detections]
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        if output is not None:
            from reports.formats import write_output

            write_output(output, text.encode())
            console_for(True).print(f"wrote {output}")
        elif fmt is DrillFormat.JSON:
            sys.stdout.write(text)
    if fmt is DrillFormat.TERMINAL:
        if records:
            print_drills(console_for(False), records, cut_off)
        if detections:
            from drills.detect.stored import print_detect_list

            print_detect_list(console_for(False), detections)
        if not records and not detections:
            console_for(False).print(f"no drills in {config.history_file}")


@app.command()
def show(
    drill_id: Annotated[str, typer.Argument(
        metavar="ID", help="The drill's id (see `irready drill list`).")],
    fmt: FormatOpt = DrillFormat.TERMINAL,
    output: OutputOpt = None,
    config_path: ConfigOpt = None,
    history_path: HistoryOpt = None,
) -> None:
    """One drill: its step timeline, outcome, and what to do if it was cut off."""
    from drills.rotation import is_cut_off

    config = load(config_path, history_path)
    with open_store(config) as store:
        detection = store.find_detect_drill(drill_id)
    if detection is not None:
        from drills.detect.cli_run import show_detection

        show_detection(detection, fmt, output)
        return
    with open_store(config) as store:
        record = store.load_drill(drill_id)
        cut_off = is_cut_off(store, record)
    emit(record, fmt, output, cut_off)


@app.command()
def resume(
    drill_id: Annotated[str, typer.Argument(metavar="ID", help="The drill to finish.")],
    fmt: FormatOpt = DrillFormat.TERMINAL,
    output: OutputOpt = None,
    report: ReportOpt = None,
    no_report: NoReportOpt = False,
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
    restart_command: RestartOpt = None,
    health_command: HealthCommandOpt = None,
    health_url: HealthUrlOpt = None,
    no_restart: NoRestartOpt = False,
) -> None:
    """Finish a drill that was cut off, from where its journal says it stopped (a
    detection drill: delete the key it may have left, and close it)."""
    from drills.rotation import resume_drill

    corrections = _corrections(restart_command, health_command, health_url, no_restart)
    config = load(config_path, history_path)
    ctx = aws_context(profile, region, endpoint_url)
    from drills.detect.cli_run import close_if_detection

    close_if_detection(config, ctx, drill_id)
    with open_store(config) as store:
        report_path = drill_report_path(config, report, no_report)
        show = progress_printer(console_for(fmt is DrillFormat.JSON), f"Resuming drill {drill_id}:")
        with sigterm_as_interrupt():
            record = resume_drill(ctx, config, store, drill_id, corrections=corrections,
                                  on_event=show)
        emit(record, fmt, output, live=True)
        write_report(store, record, report_path)
    _say_what_is_left(record)
    raise typer.Exit(int(exit_code(record)))


@app.command()
def rollback(
    drill_id: Annotated[str, typer.Argument(metavar="ID", help="The drill to undo.")],
    fmt: FormatOpt = DrillFormat.TERMINAL,
    output: OutputOpt = None,
    report: ReportOpt = None,
    no_report: NoReportOpt = False,
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
    restart_command: RestartOpt = None,
    health_command: HealthCommandOpt = None,
    health_url: HealthUrlOpt = None,
    no_restart: NoRestartOpt = False,
) -> None:
    """Undo a drill that stopped before the old key was deactivated: the target gets the
    old key back, the new key is deleted, then the application is restarted."""
    from drills.rotation import rollback_drill

    corrections = _corrections(restart_command, health_command, health_url, no_restart)
    config = load(config_path, history_path)
    ctx = aws_context(profile, region, endpoint_url)
    from drills.detect.cli_run import close_if_detection

    close_if_detection(config, ctx, drill_id)
    with open_store(config) as store:
        report_path = drill_report_path(config, report, no_report)
        show = progress_printer(console_for(fmt is DrillFormat.JSON),
                                f"Rolling back drill {drill_id}:")
        with sigterm_as_interrupt():
            record = rollback_drill(ctx, config, store, drill_id, corrections=corrections,
                                    on_event=show)
        emit(record, fmt, output, live=True)
        write_report(store, record, report_path)
    _say_what_is_left(record)
    raise typer.Exit(int(exit_code(record, rollback=True)))


def _corrections(restart_command: str | None, health_command: str | None,
                 health_url: str | None, no_restart: bool) -> Corrections:
    """The corrected commands a resume or a rollback runs, proved before anything."""
    from auditor.errors import UsageError
    from drills.engine.preflight import check_command, check_health_url
    from drills.rotation import Corrections

    if no_restart and restart_command:
        raise UsageError("--no-restart and --restart-command contradict each other")
    check_command("--restart-command", restart_command or "")
    check_command("--health-command", health_command or "")
    check_health_url(health_url or "")
    return Corrections(restart_command="" if no_restart else restart_command,
                       health_command=health_command, health_url=health_url)


def _say_what_is_left(record: DrillRecord) -> None:
    """One line on stderr when the drill is not closed, or closed with work left to the
    user (the application was not restarted)."""
    from drills.model import DrillStatus

    detail = record.detail
    if record.status.unfinished:
        stderr().print(
            f"irready: error: drill {record.drill_id} is {record.status}: "
            f"{detail.get('outcome') or 'it stopped unfinished'}; see `irready drill show "
            f"{record.drill_id}` and README, \"Drill: the way out\"",
            markup=False, highlight=False, soft_wrap=True)
    elif record.status in (DrillStatus.ROLLED_BACK, DrillStatus.FAILED) and \
            isinstance(detail.get("restart_failure"), dict):
        stderr().print(
            f"irready: warning: drill {record.drill_id} is rolled back (the old key is in "
            "the target and the only active key), but the application was not restarted: "
            "restart it yourself", markup=False, highlight=False, soft_wrap=True)
