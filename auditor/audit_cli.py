"""`irready audit`: the weekly, read-only audit as a command. It checks everything it
can before it reads AWS or writes the store (the config's check ids, the selection, the
regions, a writable store, the output file), then runs the audit, shows the report and
exits with the audit's code; a cut-off or an unstorable run says what was kept."""

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
    check_ids_in_config,
    checked_path,
    load,
    open_store,
    progress_reporter,
    stdout,
)
from auditor.errors import Interrupted, UsageError
from auditor.hub_cli import check_home_region, deliver_to_security_hub
from reports.formats import AuditFormat

if TYPE_CHECKING:
    from auditor.store import HistoryStore


def audit(
    config_path: ConfigOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    history_path: HistoryOpt = None,
    regions: Annotated[str | None, typer.Option(
        help="Comma-separated regions to audit (default: all enabled).")] = None,
    check: Annotated[list[str] | None, typer.Option(
        "--check", metavar="ID", help="Run only this check id or area (repeatable).")] = None,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", metavar="ID", help="Skip this check id or area (repeatable).")] = None,
    fmt: Annotated[AuditFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: from --output's extension, else "
        "terminal).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, callback=checked_path, metavar="PATH",
        help="Write the report here (.txt, .json, .html, .pdf, .csv, .md, .xml, .jsonl "
        "for OCSF or .sarif).")] = None,
    fail_on: Annotated[str | None, typer.Option(
        help="Exit 1 only for failures at or above: low, medium, high, critical.")] = None,
    deep: Annotated[bool, typer.Option(help="Also run an Athena test query.")] = False,
    no_history: Annotated[bool, typer.Option(
        "--no-history", help="Do not store this run (it is still compared with stored runs).")]
    = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show passing checks.")]
    = False,
    debug: Annotated[bool, typer.Option(help="Re-raise errors inside checks.")] = False,
    security_hub: Annotated[bool, typer.Option(
        "--security-hub", help="Also import the findings into Security Hub (the audit's one "
        "write: securityhub:BatchImportFindings, see `irready policy securityhub`).")]
    = False,
    org: Annotated[bool, typer.Option(
        "--org", help="Audit every account of the AWS Organization (from the management "
        "account or a delegated administrator).", rich_help_panel="Organization")] = False,
    org_role: Annotated[str | None, typer.Option(
        "--org-role", metavar="NAME", help="The role assumed in each member account "
        "(default irready-audit; see `irready policy audit --cloudformation`).",
        rich_help_panel="Organization")] = None,
    external_id: Annotated[str | None, typer.Option(
        "--external-id", metavar="ID", help="The external id the role requires.",
        rich_help_panel="Organization")] = None,
    accounts: Annotated[str | None, typer.Option(
        "--accounts", metavar="ID,...", help="Audit only these accounts of the organization.",
        rich_help_panel="Organization")] = None,
    ou: Annotated[str | None, typer.Option(
        "--ou", metavar="OU", help="Audit the accounts of this OU and the OUs under it.",
        rich_help_panel="Organization")] = None,
    exclude: Annotated[str | None, typer.Option(
        "--exclude", metavar="ID,...", help="Leave these accounts out.",
        rich_help_panel="Organization")] = None,
    parallel: Annotated[int | None, typer.Option(
        "--parallel", metavar="N", min=1, max=INT_MAX,
        help="Accounts audited at once (default 8).", rich_help_panel="Organization")] = None,
) -> None:
    """Audit the account read-only; exit 1 on failures, 4 if some checks could not run."""
    given = [name for name, value in (("--org-role", org_role), ("--external-id", external_id),
                                      ("--accounts", accounts), ("--ou", ou),
                                      ("--exclude", exclude), ("--parallel", parallel))
             if value is not None]
    if given and not org:
        raise UsageError(f"{given[0]} is an option of the organization audit: add --org")
    from dataclasses import replace

    from auditor.audit import (
        RunNotStored,
        audit_exit_code,
        check_regions,
        perform_audit,
        select_checks,
    )
    from auditor.config import region_problem
    from auditor.models import Severity
    from auditor.registry import discover
    from reports.formats import (
        AUDIT_SUFFIXES,
        check_output,
        output_format,
        render_audit,
        write_output,
    )

    fmt = output_format(output, fmt, AuditFormat.TERMINAL, AUDIT_SUFFIXES)
    if output is not None:
        check_output(output)  # before the audit, not after it
    if output is None and fmt is AuditFormat.PDF and sys.stdout.isatty():
        raise UsageError("--format pdf is binary: pass --output FILE.pdf (or redirect stdout)")
    config = load(config_path, history_path)
    settings = config.audit
    if regions is not None:
        chosen = tuple(r.strip() for r in regions.split(",") if r.strip())
        if not chosen:
            # an empty list in a script's variable must not widen the audit to every region
            raise UsageError("--regions: no region named; leave --regions out to audit "
                             "every enabled region")
        for name in chosen:
            if region_problem(name):
                raise UsageError(f"--regions: {region_problem(name)}")
        settings = replace(settings, regions=chosen)
    if deep:
        settings = replace(settings, deep=True)
    config = replace(config, audit=settings)
    if org:
        from auditor.org import DEFAULT_PARALLEL, DEFAULT_ROLE, OrgScope, parse_account_ids
        from auditor.org_cli import audit_org

        scope = OrgScope(role=org_role if org_role is not None else DEFAULT_ROLE,
                         external_id=external_id, ou=ou,
                         accounts=parse_account_ids("--accounts", accounts),
                         exclude=parse_account_ids("--exclude", exclude),
                         parallel=parallel if parallel is not None else DEFAULT_PARALLEL)
        audit_org(config, scope, fmt=fmt, output=output, fail_on=fail_on, check=check or (),
                  skip=skip or (), profile=profile, region=region, endpoint_url=endpoint_url,
                  regions_given=regions is not None, no_history=no_history,
                  security_hub=security_hub, debug=debug)
    try:
        threshold = Severity.parse(fail_on) if fail_on else config.fail_on
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    registry = discover()
    check_ids_in_config(config, registry)
    only, skipped = check or (), skip or ()
    selected = select_checks(registry, config, only=only, skip=skipped)
    ctx = aws_context(profile, region, endpoint_url)
    check_regions(ctx, config, "--regions" if regions is not None else "")
    if security_hub:
        check_home_region(ctx, "--region" if region else "the home region")
    # --no-history still compares with the stored runs, but creates and writes nothing
    keep = not no_history
    store = open_store(config) if keep or config.history_file.exists() else None
    try:
        if keep and store is not None:
            store.check_writable()  # before the audit, not after it
        newest = _newest_run_id(store)
    except BaseException:
        if store is not None:
            store.close()
        raise
    not_stored: RunNotStored | None = None
    try:
        with progress_reporter(len(selected) + 1) as progress:  # the checks, then the end
            result = perform_audit(ctx, config, registry, only=only, skip=skipped,
                                   history=store, save=keep, debug=debug, progress=progress)
    except RunNotStored as exc:  # the report is still shown, then the error
        not_stored, result = exc, exc.result
    except KeyboardInterrupt:
        # the run is stored in one transaction once every check ended: cut off before
        # that, nothing is; just after it, the run is (without its account snapshot)
        stored = _newest_run_id(store) if keep else newest
        if stored != newest:
            raise Interrupted(f"interrupted: run {stored} was stored just before; its "
                              "report was not written") from None
        why = "--no-history" if not keep else "a run is stored only once it ends"
        raise Interrupted(f"interrupted: the audit stopped before it ended; nothing was "
                          f"stored ({why})") from None
    finally:
        if store is not None:
            store.close()
    try:
        if output is not None:
            write_output(output, render_audit(result.run, result.diff, fmt, ctx.region))
            typer.echo(f"wrote {output}", err=True)
        if fmt is AuditFormat.TERMINAL:
            from reports.terminal import print_audit  # rich: only for the terminal

            print_audit(stdout(), result.run, result.diff, verbose=verbose)
        elif output is None:
            sys.stdout.buffer.write(render_audit(result.run, result.diff, fmt, ctx.region))
    except KeyboardInterrupt:
        run_id = result.run.run_id
        kept = (f"run {run_id} was stored (`irready report audit --run {run_id}` shows it)"
                if run_id is not None else "nothing was stored (--no-history)")
        raise Interrupted(f"interrupted: the audit ended and {kept}, but its report was "
                          "not completely written") from None
    code = audit_exit_code(result.run, threshold)
    if security_hub:
        sys.stdout.flush()
        code = deliver_to_security_hub(ctx, result.run, result.diff, code)
    if not_stored is not None:
        sys.stdout.flush()
        raise not_stored
    raise typer.Exit(int(code))


def _newest_run_id(store: HistoryStore | None) -> int | None:
    if store is None:
        return None
    newest = store.runs(limit=1)
    return newest[0].run_id if newest else None
