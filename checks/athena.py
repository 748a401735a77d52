"""CloudTrail's console shows 90 days and filters poorly; at 2 a.m. the responder needs
SQL over every log file. This check asks whether a Glue/Athena table already points at
the trail's logs, and with --deep, whether a query over it runs."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.athena import GLUE_TABLES, GlueTable, probe_query
from auditor.awsfacts.cloudtrail import TRAILS
from auditor.config import Config
from auditor.facts import FactError, Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from checks._util import active_trails, checked_elsewhere_note, checked_here


def covers(table_location: str, log_location: str, account_id: str = "") -> bool:
    """The table reads this account's CloudTrail logs: it points at AWSLogs/ or above it,
    or at the account's folder (`AWSLogs/[o-ORG/]ACCOUNT[/CloudTrail]/`). Not at
    a sibling prefix, another bucket, another account, the digest files, or a single
    region (a leaked key is used in the regions nobody looks at)."""
    table = table_location.rstrip("/") + "/"
    logs = log_location.rstrip("/") + "/"
    if logs.startswith(table):
        return True
    if not table.startswith(logs):
        return False
    parts = [part for part in table[len(logs):].split("/") if part]
    if parts and parts[0].startswith("o-"):
        parts = parts[1:]  # organization trails write under AWSLogs/o-ORG/ACCOUNT/
    if not parts:
        return True
    if not account_id or parts[0] != account_id:
        return False
    return parts[1:] in ([], ["CloudTrail"])


@check(
    id="athena.cloudtrail_table",
    title="An Athena table is ready over the CloudTrail logs",
    severity=Severity.HIGH,
    plain=(
        "The logs cannot be searched yet: during an incident the first hours would go "
        "into setting up the search."
    ),
    requires=(TRAILS, GLUE_TABLES),
    remediation=(
        "CloudTrail console > Event history > Create Athena table (choose the trail's bucket), "
        "or CREATE EXTERNAL TABLE cloudtrail_logs ... LOCATION 's3://BUCKET/AWSLogs/'"
    ),
)
def cloudtrail_table(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Writing the CREATE TABLE during an incident costs the first hour; it must exist
    before the leak."""
    seen = active_trails(facts.get(TRAILS))
    live = checked_here(seen, facts.account_id)
    if seen and not live:
        yield Outcome(Status.NOT_APPLICABLE, "account",
                      "Only the organization trail logs this account; its table is checked "
                      "where its bucket is." + checked_elsewhere_note(seen, facts.account_id))
        return
    if not live:
        yield Outcome(Status.FAIL, "account", "No logging trail, so there are no logs to query.")
        return
    tables = facts.get(GLUE_TABLES)
    for trail in sorted(live, key=lambda t: (not t.organization, not t.multi_region, t.arn)):
        matches = [t for t in tables
                   if t.location and covers(t.location, trail.log_location, facts.account_id)]
        if matches:
            yield from _ready(facts, config, matches[0], trail.log_location)
            return
    location = live[0].log_location
    elsewhere = ", ".join(f"{t.qualified} ({t.location})" for t in tables[:3])
    detail = f" Tables found point elsewhere: {elsewhere}." if tables else ""
    yield Outcome(Status.FAIL, "account",
                  f"No Glue/Athena table reads {location}.{detail}",
                  evidence={"log_location": location})


def _ready(facts: Facts, config: Config, table: GlueTable, location: str) -> Iterator[Outcome]:
    resource = f"{table.region}:{table.qualified}"
    evidence = {"table": table.qualified, "location": table.location, "log_location": location}
    if not config.audit.deep:
        yield Outcome(Status.PASS, resource,
                      f"Table {table.qualified} reads {table.location}.", region=table.region,
                      evidence=evidence)
        return
    try:
        result = facts.get(probe_query(table))
    except FactError as error:
        yield Outcome(Status.ERROR, resource, f"Test query could not run: {error.describe()}",
                      region=table.region, evidence=evidence)
        return
    if result.state not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        yield Outcome(Status.ERROR, resource,
                      f"Test query on {table.qualified} did not finish in time "
                      f"(still {result.state}).", region=table.region, evidence=evidence)
    elif result.state == "SUCCEEDED":
        yield Outcome(Status.PASS, resource,
                      f"Table {table.qualified} reads {table.location}; a test query succeeded.",
                      region=table.region, evidence=evidence)
    else:
        reason = f": {result.reason}" if result.reason else ""
        yield Outcome(Status.FAIL, resource,
                      f"Table {table.qualified} exists but a test query ended {result.state}"
                      f"{reason}.", region=table.region, evidence=evidence)
