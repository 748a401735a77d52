"""Glue/Athena facts: the tables whose location could cover the CloudTrail logs, and,
with --deep, a one-row test query that proves the table can actually be queried."""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass

from auditor.awsfacts.cloudtrail import TRAILS
from auditor.facts import Fact, FactError, Facts, fact, map_concurrently
from auditor.session import error_code


@dataclass(frozen=True, slots=True)
class GlueTable:
    region: str
    database: str
    name: str
    location: str
    partition_columns: tuple[str, ...] = ()  # e.g. region, date in a partitioned table

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"


def _tables_in(facts: Facts, region: str) -> list[GlueTable] | None:
    """The tables of one region; None when the configured database is not in it."""
    glue = facts.aws.client("glue", region)
    settings = facts.config.athena
    if settings.database:
        databases = [settings.database]
    else:
        pages = glue.get_paginator("get_databases").paginate()
        databases = [db["Name"] for page in pages for db in page["DatabaseList"]]
    tables = []
    for database in databases:
        try:
            pages = list(glue.get_paginator("get_tables").paginate(DatabaseName=database))
        except Exception as exc:
            # Glue databases are regional: the configured one exists in one region only
            if settings.database and error_code(exc) == "EntityNotFoundException":
                return None
            raise
        for page in pages:
            for table in page["TableList"]:
                if settings.table and table["Name"] != settings.table:
                    continue
                location = table.get("StorageDescriptor", {}).get("Location", "")
                partitions = tuple(key["Name"] for key in table.get("PartitionKeys") or ())
                tables.append(GlueTable(region, database, table["Name"], location,
                                        partitions))
    return tables


@fact("glue.tables", "glue:GetDatabases", "glue:GetTables")
def GLUE_TABLES(facts: Facts) -> tuple[GlueTable, ...]:
    """Tables in the audit's region and in each trail's home region."""
    regions = {facts.aws.region}
    # without trails to look near, the default region is still searched
    with contextlib.suppress(FactError):
        regions |= {trail.home_region for trail in facts.get(TRAILS)}
    found = map_concurrently(lambda r: _tables_in(facts, r), sorted(regions),
                             facts.config.audit.max_workers)
    database = facts.config.athena.database
    if database and all(tables is None for tables in found.values()):
        raise FactError("glue.tables", "EntityNotFoundException",
                        f"Glue database {database} (athena.database) exists in none of: "
                        f"{', '.join(sorted(found))}")
    return tuple(table for region in sorted(found) for table in found[region] or ())


QUERY_TIMEOUT_SECONDS = 60  # a LIMIT 1 query that takes longer is not "ready"


@dataclass(frozen=True, slots=True)
class QueryResult:
    state: str
    reason: str = ""


def _run_query(facts: Facts, table: GlueTable) -> QueryResult:
    athena = facts.aws.client("athena", table.region)
    settings = facts.config.athena
    params: dict[str, object] = {
        "QueryString": f'SELECT eventname FROM "{table.database}"."{table.name}" LIMIT 1',
        "QueryExecutionContext": {"Database": table.database},
        "WorkGroup": settings.workgroup,
    }
    if settings.output_location:
        params["ResultConfiguration"] = {"OutputLocation": settings.output_location}
    query_id = athena.start_query_execution(**params)["QueryExecutionId"]
    deadline = time.monotonic() + QUERY_TIMEOUT_SECONDS
    delay = 0.2
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        state = status["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED") or time.monotonic() + delay > deadline:
            # a state still QUEUED or RUNNING here means "did not finish in time"
            return QueryResult(state, status.get("StateChangeReason", ""))
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


@functools.cache
def probe_query(table: GlueTable) -> Fact[QueryResult]:
    """The --deep test query over one table (not named test_*: pytest would collect it)."""
    return Fact(
        f"athena.test_query:{table.region}:{table.qualified}",
        lambda f: _run_query(f, table),
        ("athena:StartQueryExecution", "athena:GetQueryExecution", "s3:GetObject",
         "s3:PutObject", "glue:GetTable"),
    )
