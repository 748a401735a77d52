"""`irready audit --org`: the organization audit as a command. Everything that can be
wrong without AWS (the scope, the format, the selection, the store) is refused before
the first account is read; then every account is audited, the organization run is
stored, the roll-up is shown, and the exit code is the worst over the accounts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from auditor.cli_common import aws_context, check_ids_in_config, open_store, stdout
from auditor.errors import ExitCode, Interrupted, UsageError
from reports.formats import AuditFormat

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.org import AccountAudit, OrgAudit, OrgScope
    from auditor.session import AwsContext
    from auditor.store import HistoryStore

ORG_FORMATS = (AuditFormat.TERMINAL, AuditFormat.JSON)


def audit_org(config: Config, scope: OrgScope, *, fmt: AuditFormat, output: Path | None,
              fail_on: str | None, check: Sequence[str], skip: Sequence[str],
              profile: str | None, region: str | None, endpoint_url: str | None,
              regions_given: bool, no_history: bool, security_hub: bool, debug: bool
              ) -> NoReturn:
    from auditor.audit import check_regions, select_checks
    from auditor.models import Severity
    from auditor.org import check_scope, org_exit_code
    from auditor.org_run import audit_organization
    from auditor.registry import discover
    from reports.formats import check_output, write_output
    from reports.org_report import print_org, render_org_json

    if fmt not in ORG_FORMATS:
        raise UsageError(f"--format {fmt.value}: the organization audit writes terminal or "
                         "json (each account's run is stored: `irready report audit --run "
                         "ID` renders it in any format)")
    check_scope(scope)
    if output is not None:
        check_output(output)
    try:
        threshold = Severity.parse(fail_on) if fail_on else config.fail_on
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    registry = discover()
    check_ids_in_config(config, registry)
    select_checks(registry, config, only=check, skip=skip)
    ctx = aws_context(profile, region, endpoint_url)
    check_regions(ctx, config, "--regions" if regions_given else "")
    if security_hub:
        from auditor.hub_cli import check_home_region

        check_home_region(ctx, "--region" if region else "the home region")
    from auditor.org_run import discover_accounts

    chosen = discover_accounts(ctx, scope)  # a typo in --accounts: refused before the store
    keep = not no_history
    store: HistoryStore | None = None
    if keep or config.history_file.exists():
        store = open_store(config)  # migrated and checked once, before any account
        try:
            if keep:
                store.check_writable()
        finally:
            store.close()

    def account_store() -> HistoryStore | None:
        return open_store(config) if store is not None else None

    undelivered: list[str] = []

    def deliver(member: AwsContext, item: AccountAudit) -> AccountAudit:
        from auditor.hub_cli import deliver_to_security_hub

        if item.run is not None and deliver_to_security_hub(
                member, item.run, item.diff, ExitCode.OK) is not ExitCode.OK:
            undelivered.append(item.account_id)
        return item

    from auditor.cli_common import progress_reporter
    from auditor.org_run import OrgInterrupted

    interrupted = False
    try:
        with progress_reporter(len(chosen), "auditing accounts") as progress:
            org = audit_organization(ctx, config, registry, scope, only=check, skip=skip,
                                     open_store=account_store, save=keep,
                                     after_audit=deliver if security_hub else None,
                                     debug=debug, accounts=chosen, progress=progress)
    except OrgInterrupted as stopped:  # what was audited is stored and shown all the same
        org, interrupted = stopped.org, True
    if keep and store is not None:
        from dataclasses import replace

        with open_store(config) as history:
            org = replace(org, org_run_id=history.save_org_run(org))
    if output is not None:
        payload = render_org_json(org)
        write_output(output, payload)
        typer.echo(f"wrote {output}", err=True)
    if fmt is AuditFormat.TERMINAL:
        print_org(stdout(), org)
    elif output is None:
        sys.stdout.buffer.write(render_org_json(org))
    if interrupted:
        raise _interrupted(org)
    code = org_exit_code(org, threshold)
    if undelivered and code is ExitCode.OK:
        code = ExitCode.INCOMPLETE
    raise typer.Exit(int(code))


def _interrupted(org: OrgAudit) -> Interrupted:
    from auditor.org_run import INTERRUPTED

    left = sum(item.reason == INTERRUPTED for item in org.accounts)
    kept = (f"organization run {org.org_run_id} was stored with them marked not audited "
            f"(`irready report audit --org --run {org.org_run_id}`)"
            if org.org_run_id is not None else "nothing more was stored (--no-history)")
    return Interrupted(f"interrupted: {left} of {len(org.accounts)} accounts were not "
                       f"audited; {kept}")
