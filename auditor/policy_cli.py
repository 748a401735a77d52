"""`irready policy NAME`: the least-privilege IAM policies irready ships, so a team
grants exactly what each command calls."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor.cli_common import ConfigOpt, load

app = typer.Typer(help="Print the least-privilege IAM policies irready needs.",
                  no_args_is_help=True)


def _print_shipped(name: str) -> None:
    from importlib.resources import files

    typer.echo(files("auditor").joinpath(f"policies/{name}").read_text(), nl=False)


@app.command("audit")
def policy_audit(
    org: Annotated[bool, typer.Option(
        "--org", help="The policy of the identity that runs `irready audit --org`: the "
        "audit's, listing the organization's accounts, and assuming the audit role.")]
    = False,
    cloudformation: Annotated[bool, typer.Option(
        "--cloudformation", help="A CloudFormation template (StackSet-ready) of the read-only "
        "audit role each member account needs.")] = False,
    org_role: Annotated[str | None, typer.Option(
        "--org-role", metavar="NAME", help="The audit role's name (default irready-audit).")]
    = None,
) -> None:
    """The IAM policy the audit needs (read-only)."""
    from auditor.errors import UsageError
    from auditor.org import DEFAULT_ROLE, ROLE_NAME
    from auditor.org_policy import dumps, org_caller_policy, role_template

    if org and cloudformation:
        raise UsageError("--org prints the caller's policy and --cloudformation the members' "
                         "role: pass one of them")
    if org_role is not None and not (org or cloudformation):
        raise UsageError("--org-role names the organization's audit role: add --org or "
                         "--cloudformation")
    role = org_role if org_role is not None else DEFAULT_ROLE
    if not ROLE_NAME.match(role):
        raise UsageError(f"--org-role: {role!r} is not an IAM role name")
    if org:
        typer.echo(dumps(org_caller_policy(role)), nl=False)
    elif cloudformation:
        typer.echo(dumps(role_template(role)), nl=False)
    else:
        _print_shipped("audit.json")


@app.command("playbook")
def policy_playbook() -> None:
    """The IAM policy `irready playbook` needs: the audit's (read-only), since it
    audits first when the newest audit is older than 7 days."""
    _print_shipped("audit.json")


@app.command("drill")
def policy_drill(
    config_path: ConfigOpt = None,
    user: Annotated[list[str] | None, typer.Option(
        "--user", metavar="USER", help="A drill user besides [drill] users (repeatable).")]
    = None,
    target: Annotated[list[str] | None, typer.Option(
        "--target", metavar="TARGET",
        help="A rotation target besides the inventory's (repeatable).")] = None,
) -> None:
    """The IAM policy the drill needs, scoped to the drill users and their targets."""
    from drills.policy import render_policy

    typer.echo(render_policy(load(config_path), user or (), target or ()), nl=False)


@app.command("contain")
def policy_contain(
    config_path: ConfigOpt = None,
    user: Annotated[list[str] | None, typer.Option(
        "--user", metavar="USER", help="A user whose key may be contained (repeatable).")]
    = None,
    all_users: Annotated[bool, typer.Option(
        "--all-users", help="Every user: for a break-glass role used only on the day.")]
    = False,
    target: Annotated[list[str] | None, typer.Option(
        "--target", metavar="TARGET",
        help="A rotation target besides the inventory's (repeatable).")] = None,
    role: Annotated[list[str] | None, typer.Option(
        "--role", metavar="ROLE", help="A role --revoke-roles may put its deny on "
        "(repeatable).")] = None,
) -> None:
    """The IAM policy `irready contain` needs: the drill's on the users named (or every
    user), and finding whose key it is. Keep it on a break-glass role."""
    from incident.contain.policy import render_contain_policy

    typer.echo(render_contain_policy(load(config_path), user or (), target or (),
                                     all_users=all_users, roles=role or ()), nl=False)


@app.command("securityhub")
def policy_securityhub() -> None:
    """The one write `irready audit --security-hub` makes, kept out of the read-only
    audit policy: grant it beside that policy, to the identity that runs the audit."""
    _print_shipped("securityhub.json")


@app.command("investigate")
def policy_investigate(
    bucket: Annotated[list[str] | None, typer.Option(
        "--bucket", metavar="BUCKET",
        help="A trail bucket to read (repeatable; default: every bucket).")] = None,
    results_bucket: Annotated[str | None, typer.Option(
        "--results-bucket", metavar="BUCKET",
        help="Athena's query-results bucket (default: aws-athena-query-results-*).")]
    = None,
) -> None:
    """The IAM policy `irready investigate` needs: the key's owner, the trail's log
    files (kms:Decrypt through S3), event history, and the Athena table; it changes
    nothing in the account (Athena writes its results to the results bucket)."""
    from incident.investigate.policy import RESULTS_BUCKET, investigate_policy

    typer.echo(investigate_policy(bucket or (), results_bucket or RESULTS_BUCKET), nl=False)


@app.command("detect")
def policy_detect(
    config_path: ConfigOpt = None,
    user: Annotated[list[str] | None, typer.Option(
        "--user", metavar="USER", help="A canary besides [drill] canaries (repeatable).")]
    = None,
    bucket: Annotated[list[str] | None, typer.Option(
        "--bucket", metavar="BUCKET",
        help="A trail bucket to read (repeatable; default: every bucket).")] = None,
    athena: Annotated[bool, typer.Option(
        "--athena", help="Also query the audited Athena table (drill detect --source "
                         "athena).")] = False,
    results_bucket: Annotated[str | None, typer.Option(
        "--results-bucket", metavar="BUCKET",
        help="Athena's query-results bucket (implies --athena; default: "
             "aws-athena-query-results-*).")] = None,
) -> None:
    """The IAM policy `irready drill detect` needs: read the canaries, create and delete
    their keys, find the trails, search event history and read the trail's log files;
    with --athena, also query the Athena table and write its results."""
    from drills.detect.policy import render_detect_policy
    from incident.investigate.policy import RESULTS_BUCKET

    config = load(config_path)
    typer.echo(render_detect_policy([*config.drill.canaries, *(user or ())], bucket or (),
                                    athena=athena or results_bucket is not None,
                                    results_bucket=results_bucket or RESULTS_BUCKET),
               nl=False)
