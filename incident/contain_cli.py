"""`irready contain ...`: contain a leaked key on the day itself, rotate before block.
Thin: each command loads the config, calls one function of incident.contain (its run
or undo module), renders, and exits with a code from ExitCode, as the drill's: 0 the
key is contained (or the plan printed, or undone), 1 the rotation failed and was rolled
back (the exposed key is still active), 2 bad input, 3 AWS unreachable or denied, 5
another containment of the key runs or one is unfinished, 6 the containment stopped
before it was safe (resume it)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli_common import (
    ConfigOpt,
    EndpointOpt,
    HistoryOpt,
    ProfileOpt,
    RegionOpt,
    aws_context,
    load,
    open_store,
)
from auditor.errors import ExitCode

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.store import ContainmentRecord
    from incident.contain.model import ContainOptions

app = typer.Typer(help="Contain a leaked key: rotate before you block, journaled and timed.",
                  no_args_is_help=True)


class ContainFormat(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"


KeyArg = Annotated[str, typer.Argument(metavar="KEY_ID", show_default=False,
                                       help="The exposed access key id (AKIA...).")]
IdArg = Annotated[str, typer.Argument(metavar="ID", show_default=False,
                                      help="The containment's id (`contain list`).")]
FormatOpt = Annotated[ContainFormat, typer.Option("--format", "-f", help="Output format.")]
TargetOpt = Annotated[str | None, typer.Option(
    "--target", "-t", help="Where the application reads its key (TYPE:VALUE, as the "
    "drill's; default: the user's [[inventory]] rotation_target).")]
BlockNowOpt = Annotated[bool, typer.Option(
    "--block-now", help="Deactivate the key without rotating (no target: a vendor holds "
    "it, the application is unknown); what uses it breaks.")]
FirstOpt = Annotated[list[str] | None, typer.Option(
    "--deactivate-first", metavar="KEY_ID", help="The user's other key to deactivate "
    "first (the rotation then deletes it to make room); repeatable.")]
NoInvestigateOpt = Annotated[bool, typer.Option(
    "--no-investigate", help="Use no investigation (keys the attacker made stay unknown).")]
RevokeSessionsOpt = Annotated[bool, typer.Option(
    "--revoke-sessions", help="Deny on the user to credentials issued before now: cuts off "
    "the sessions the key minted (the new key keeps working).")]
RevokeRolesOpt = Annotated[str | None, typer.Option(
    "--revoke-roles", metavar="ROLE,...", help="The same on roles the key assumed (every "
    "earlier session of each role is cut off).")]
QuarantineOpt = Annotated[bool, typer.Option(
    "--quarantine", help="Attach AWS's newest compromised-key quarantine policy to the "
    "user (V4, else V3, else V2).")]
FollowUpsOpt = Annotated[bool, typer.Option(
    "--contain-follow-ups", help="Deactivate backdoor keys and delete backdoor login "
    "profiles the investigation found (never users or roles).")]
RestartOpt = Annotated[str | None, typer.Option(
    help="Run after publishing, to restart the application (default: [drill] "
    "restart_command).")]
HealthCommandOpt = Annotated[str | None, typer.Option(
    help="Must exit 0 once the application runs on the new key.")]
HealthUrlOpt = Annotated[str | None, typer.Option(
    help="Must answer 2xx once the application runs on the new key.")]


def _options(config: Config, key: str, target: str | None, block_now: bool,
             deactivate_first: list[str] | None, no_investigate: bool,
             restart_command: str | None, health_command: str | None,
             health_url: str | None, revoke_sessions: bool = False,
             revoke_roles: str | None = None, quarantine: bool = False,
             contain_follow_ups: bool = False) -> ContainOptions:
    from drills.engine.preflight import check_command, check_health_url
    from incident.contain.model import ContainOptions
    from incident.contain.plan import check_options
    from incident.investigate.keyids import checked_key_id

    options = ContainOptions(
        key_id=checked_key_id(key), target=(target or "").strip(), block_now=block_now,
        deactivate_first=tuple(checked_key_id(k) for k in deactivate_first or ()),
        investigate=not no_investigate,
        restart_command=(config.drill.restart_command if restart_command is None
                         else restart_command),
        health_command=config.drill.health_command if health_command is None
        else health_command,
        health_url=config.drill.health_url if health_url is None else health_url,
        propagation_timeout=float(config.drill.propagation_timeout_seconds),
        revoke_sessions=revoke_sessions,
        revoke_roles=tuple(r.strip() for r in (revoke_roles or "").split(",") if r.strip()),
        quarantine=quarantine, contain_follow_ups=contain_follow_ups)
    if revoke_roles is not None and not options.revoke_roles:
        from auditor.errors import UsageError

        raise UsageError("--revoke-roles: name at least one role (ROLE,ROLE,...)")
    check_options(options)
    check_command("--restart-command", options.restart_command)
    check_command("--health-command", options.health_command)
    check_health_url(options.health_url)
    return options


@app.command("plan")
def plan(key: KeyArg, target: TargetOpt = None, block_now: BlockNowOpt = False,
         revoke_sessions: RevokeSessionsOpt = False, revoke_roles: RevokeRolesOpt = None,
         quarantine: QuarantineOpt = False, contain_follow_ups: FollowUpsOpt = False,
         deactivate_first: FirstOpt = None, no_investigate: NoInvestigateOpt = False,
         restart_command: RestartOpt = None, health_command: HealthCommandOpt = None,
         health_url: HealthUrlOpt = None, fmt: FormatOpt = ContainFormat.TERMINAL,
         config_path: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         endpoint_url: EndpointOpt = None, history_path: HistoryOpt = None) -> None:
    """Print every action, the AWS call behind it and its undo; change nothing."""
    from incident.contain.render import plan_json, plan_text
    from incident.contain.run import plan_containment

    config = load(config_path, history_path)
    options = _options(config, key, target, block_now, deactivate_first, no_investigate,
                       restart_command, health_command, health_url, revoke_sessions,
                       revoke_roles, quarantine, contain_follow_ups)
    ctx = aws_context(profile, region, endpoint_url)
    with open_store(config) as store:
        result = plan_containment(ctx, config, store, options)
    typer.echo(plan_json(result) if fmt is ContainFormat.JSON else plan_text(result), nl=False)


@app.command("run")
def run(key: KeyArg, target: TargetOpt = None, block_now: BlockNowOpt = False,
        revoke_sessions: RevokeSessionsOpt = False, revoke_roles: RevokeRolesOpt = None,
        quarantine: QuarantineOpt = False, contain_follow_ups: FollowUpsOpt = False,
        deactivate_first: FirstOpt = None, no_investigate: NoInvestigateOpt = False,
        restart_command: RestartOpt = None, health_command: HealthCommandOpt = None,
        health_url: HealthUrlOpt = None, fmt: FormatOpt = ContainFormat.TERMINAL,
        config_path: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
        endpoint_url: EndpointOpt = None, history_path: HistoryOpt = None) -> None:
    """Carry the plan out: make room, rotate before block, deactivate and verify."""
    from drills.cli_output import sigterm_as_interrupt
    from incident.contain.run import run_containment

    config = load(config_path, history_path)
    options = _options(config, key, target, block_now, deactivate_first, no_investigate,
                       restart_command, health_command, health_url, revoke_sessions,
                       revoke_roles, quarantine, contain_follow_ups)
    ctx = aws_context(profile, region, endpoint_url)
    with open_store(config) as store:
        store.check_writable()
        with sigterm_as_interrupt():
            record = run_containment(ctx, config, store, options, say=_say)
    _finish(record, fmt)


@app.command("resume")
def resume(containment_id: IdArg, fmt: FormatOpt = ContainFormat.TERMINAL,
           config_path: ConfigOpt = None, profile: ProfileOpt = None,
           region: RegionOpt = None, endpoint_url: EndpointOpt = None,
           history_path: HistoryOpt = None) -> None:
    """Finish a containment that was cut off (Ctrl-C, kill -9, lost network)."""
    from drills.cli_output import sigterm_as_interrupt
    from incident.contain.run import resume_containment

    config = load(config_path, history_path)
    ctx = aws_context(profile, region, endpoint_url)
    with open_store(config) as store, sigterm_as_interrupt():
        record = resume_containment(ctx, config, store, containment_id, say=_say)
    _finish(record, fmt)


@app.command("undo")
def undo(containment_id: IdArg, fmt: FormatOpt = ContainFormat.TERMINAL,
         config_path: ConfigOpt = None, profile: ProfileOpt = None,
         region: RegionOpt = None, endpoint_url: EndpointOpt = None,
         history_path: HistoryOpt = None) -> None:
    """Reactivate the exposed key (the application broke); the attacker's keys stay off."""
    from incident.contain.undo import undo_containment

    config = load(config_path, history_path)
    ctx = aws_context(profile, region, endpoint_url)
    with open_store(config) as store:
        record = undo_containment(ctx, config, store, containment_id)
    _finish(record, fmt)


@app.command("release")
def release(containment_id: IdArg, fmt: FormatOpt = ContainFormat.TERMINAL,
            config_path: ConfigOpt = None, profile: ProfileOpt = None,
            region: RegionOpt = None, endpoint_url: EndpointOpt = None,
            history_path: HistoryOpt = None) -> None:
    """Remove the session denies once the longest session lifetime (36 h) has passed."""
    from incident.contain.render import record_json, record_text
    from incident.contain.undo import release_containment

    config = load(config_path, history_path)
    ctx = aws_context(profile, region, endpoint_url)
    with open_store(config) as store:
        record = release_containment(ctx, store, containment_id)
    typer.echo(record_json(record) if fmt is ContainFormat.JSON else record_text(record),
               nl=False)


@app.command("show")
def show(containment_id: IdArg, fmt: FormatOpt = ContainFormat.TERMINAL,
         config_path: ConfigOpt = None, history_path: HistoryOpt = None) -> None:
    """A containment's actions, status, outcome and time to safe."""
    from incident.contain.lock import is_cut_off
    from incident.contain.render import record_json, record_text

    config = load(config_path, history_path)
    with open_store(config) as store:
        record = store.load_containment(containment_id)
        cut_off = is_cut_off(store, record)
    typer.echo(record_json(record) if fmt is ContainFormat.JSON
               else record_text(record, cut_off=cut_off), nl=False)


@app.command("list")
def list_containments(fmt: FormatOpt = ContainFormat.TERMINAL, config_path: ConfigOpt = None,
                      history_path: HistoryOpt = None) -> None:
    """Every containment, newest first."""
    from incident.contain.render import list_json, list_text

    config = load(config_path, history_path)
    with open_store(config) as store:
        records = store.containments()
    typer.echo(list_json(records) if fmt is ContainFormat.JSON else list_text(records),
               nl=False)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _finish(record: ContainmentRecord, fmt: ContainFormat) -> None:
    from incident.contain.model import ContainStatus
    from incident.contain.render import record_json, record_text

    typer.echo(record_json(record) if fmt is ContainFormat.JSON else record_text(record),
               nl=False)
    status = ContainStatus(record.status)
    if status in (ContainStatus.SAFE, ContainStatus.UNDONE):
        raise typer.Exit(int(ExitCode.OK))
    if status is ContainStatus.FAILED:
        raise typer.Exit(int(ExitCode.FAILED))
    raise typer.Exit(int(ExitCode.UNFINISHED))
