"""athena.cloudtrail_table: whether a Glue table's location really covers the trail's
logs (not another bucket, account, prefix or region), the Glue tables read from moto,
and the --deep test query, succeeded or failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from factbuilders import ACCOUNT, OTHER_ACCOUNT, evaluate, only, trail

from auditor.awsfacts.athena import GLUE_TABLES, GlueTable, QueryResult, probe_query
from auditor.awsfacts.cloudtrail import TRAILS
from auditor.config import AthenaSettings, AuditSettings, Config
from auditor.facts import FactError, Facts
from auditor.models import Status
from auditor.runner import run_check
from checks.athena import cloudtrail_table, covers

LOGS = "s3://trail-bucket/AWSLogs/"
ORG_LOGS = LOGS  # an organization trail writes AWSLogs/o-ORG/ACCOUNT/ under the same root


@pytest.mark.parametrize(
    ("table", "logs", "expected"),
    [
        pytest.param(LOGS, LOGS, True, id="the table is at AWSLogs/"),
        pytest.param("s3://trail-bucket/AWSLogs", LOGS, True, id="without the trailing slash"),
        pytest.param("s3://trail-bucket/", LOGS, True, id="the whole bucket"),
        pytest.param(f"{LOGS}{ACCOUNT}/CloudTrail/", LOGS, True,
                     id="the account's CloudTrail folder, as the console creates it"),
        pytest.param(f"{LOGS}{ACCOUNT}/", LOGS, True, id="the account's folder"),
        pytest.param(f"{LOGS}o-abc123defg/", ORG_LOGS, True,
                     id="the whole organization's folder"),
        pytest.param(f"{LOGS}o-abc123defg/{ACCOUNT}/CloudTrail/", ORG_LOGS, True,
                     id="this account inside an organization trail"),
        pytest.param(f"{LOGS}{OTHER_ACCOUNT}/CloudTrail/", LOGS, False,
                     id="another account's logs"),
        pytest.param(f"{LOGS}o-abc123defg/{OTHER_ACCOUNT}/CloudTrail/", ORG_LOGS, False,
                     id="another member's logs in the organization trail"),
        pytest.param(f"{LOGS}{ACCOUNT}/CloudTrail-Digest/", LOGS, False,
                     id="the digest files, not the logs"),
        pytest.param(f"{LOGS}{ACCOUNT}/CloudTrail/us-east-1/", LOGS, False,
                     id="a single region of the logs"),
        pytest.param("s3://other-bucket/AWSLogs/", LOGS, False,
                     id="a table that points at another bucket"),
        pytest.param("s3://trail-bucket-old/AWSLogs/", LOGS, False,
                     id="a bucket whose name starts the same"),
        pytest.param("s3://trail-bucket/AWSLogsOld/", LOGS, False, id="a sibling prefix"),
        pytest.param("s3://trail-bucket/cloudtrail/AWSLogs/", LOGS, False,
                     id="a prefix the trail does not write to"),
        pytest.param("s3://trail-bucket/cloudtrail/", "s3://trail-bucket/cloudtrail/AWSLogs/", True,
                     id="the trail's own prefix"),
    ],
)
def test_covers(table: str, logs: str, expected: bool) -> None:
    assert covers(table, logs, ACCOUNT) is expected


def table(location: str, name: str = "cloudtrail_logs", region: str = "us-east-1") -> GlueTable:
    return GlueTable(region, "security", name, location)


DEEP = replace(Config(), audit=AuditSettings(deep=True))


@pytest.mark.parametrize(
    ("tables", "expected", "words"),
    [
        pytest.param((table(LOGS),), Status.PASS,
                     "Table security.cloudtrail_logs reads s3://trail-bucket/AWSLogs/.",
                     id="a table over the trail's logs"),
        pytest.param((), Status.FAIL, "No Glue/Athena table reads s3://trail-bucket/AWSLogs/.",
                     id="no table at all"),
        pytest.param((table("s3://other-bucket/AWSLogs/"),), Status.FAIL,
                     "Tables found point elsewhere: security.cloudtrail_logs "
                     "(s3://other-bucket/AWSLogs/)",
                     id="a table that points at another bucket"),
        pytest.param((table("s3://other-bucket/AWSLogs/", "old"), table(LOGS, "new")),
                     Status.PASS, "security.new", id="the right table among others"),
        pytest.param((table(""),), Status.FAIL, "No Glue/Athena table",
                     id="a table without a location"),
    ],
)
def test_cloudtrail_table(tables: tuple[GlueTable, ...], expected: Status, words: str) -> None:
    finding = only(evaluate(cloudtrail_table, {TRAILS: (trail(),), GLUE_TABLES: tables}))
    assert finding.status is expected
    assert words in finding.message


def test_no_logging_trail_means_nothing_to_query() -> None:
    finding = only(evaluate(cloudtrail_table, {TRAILS: (trail(logging=False),),
                                               GLUE_TABLES: (table(LOGS),)}))
    assert finding.status is Status.FAIL
    assert "No logging trail" in finding.message


def test_the_organization_trail_is_preferred() -> None:
    trails = (trail("local", bucket="local-bucket", multi_region=False),
              trail("org", bucket="org-bucket", account=OTHER_ACCOUNT, organization=True))
    tables = (table("s3://local-bucket/AWSLogs/", "local_logs"),
              table("s3://org-bucket/AWSLogs/", "org_logs"))
    finding = only(evaluate(cloudtrail_table, {TRAILS: trails, GLUE_TABLES: tables}))
    assert finding.evidence["table"] == "security.org_logs"


@pytest.mark.parametrize(
    ("result", "expected", "words"),
    [
        pytest.param(QueryResult("SUCCEEDED"), Status.PASS, "a test query succeeded",
                     id="deep: the test query succeeds"),
        pytest.param(QueryResult("FAILED", "HIVE_BAD_DATA: bad JSON"), Status.FAIL,
                     "a test query ended FAILED: HIVE_BAD_DATA: bad JSON",
                     id="deep: the test query fails"),
        pytest.param(QueryResult("RUNNING"), Status.ERROR, "did not finish in time",
                     id="deep: the test query never finishes"),
        pytest.param(FactError("athena.test_query", "AccessDenied", "",
                               ("athena:StartQueryExecution",)),
                     Status.ERROR, "Test query could not run: access denied: needs "
                     "athena:StartQueryExecution", id="deep: the query may not be started"),
    ],
)
def test_deep_query(result: QueryResult | FactError, expected: Status, words: str) -> None:
    ready = table(LOGS)
    finding = only(evaluate(cloudtrail_table, {TRAILS: (trail(),), GLUE_TABLES: (ready,),
                                               probe_query(ready): result}, config=DEEP))
    assert finding.status is expected
    assert words in finding.message


# -- Glue and Athena in moto -----------------------------------------------------------

def glue_table(aws: Any, location: str, database: str = "security",
               name: str = "cloudtrail_logs", region: str = "us-east-1") -> None:
    glue = aws.client("glue", region_name=region)
    if database not in {d["Name"] for d in glue.get_databases()["DatabaseList"]}:
        glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": name, "StorageDescriptor": {"Location": location}})


def facts_over(ctx_facts: Facts, config: Config, trails: tuple[Any, ...]) -> Facts:
    return Facts(ctx_facts.ctx, config, account_id=ACCOUNT, values={TRAILS.name: trails})


def test_glue_tables_read_from_the_trail_home_region(aws: Any,
                                                    live_facts: Callable[..., Facts]) -> None:
    glue_table(aws, "s3://trail-bucket/AWSLogs/", region="eu-west-1")
    glue_table(aws, "s3://elsewhere/", database="analytics", name="sales")
    glue_table(aws, "s3://ignored/", region="ap-southeast-2")
    facts = facts_over(live_facts(), live_facts().config, (trail(region="eu-west-1"),))
    found = {(t.region, t.qualified, t.location) for t in facts.get(GLUE_TABLES)}
    assert found == {("eu-west-1", "security.cloudtrail_logs", "s3://trail-bucket/AWSLogs/"),
                     ("us-east-1", "analytics.sales", "s3://elsewhere/")}
    assert only(run_check(cloudtrail_table, facts, facts.config)).status is Status.PASS


def test_configured_database_and_table_narrow_the_search(
        aws: Any, live_facts: Callable[..., Facts]) -> None:
    glue_table(aws, "s3://trail-bucket/AWSLogs/", database="security", name="trail")
    glue_table(aws, "s3://trail-bucket/AWSLogs/", database="other", name="copy")
    config = replace(Config(), athena=AthenaSettings(database="security", table="trail"))
    facts = facts_over(live_facts(), config, (trail(),))
    assert [t.qualified for t in facts.get(GLUE_TABLES)] == ["security.trail"]


def test_configured_database_in_the_trail_region_only(
        aws: Any, live_facts: Callable[..., Facts]) -> None:
    """Glue databases are regional: the configured one lives next to the trail, and the
    audit's own region (also searched) has no such database. That is no error."""
    glue_table(aws, "s3://trail-bucket/AWSLogs/", database="security", region="eu-west-1")
    config = replace(Config(), athena=AthenaSettings(database="security"))
    facts = facts_over(live_facts(), config, (trail(region="eu-west-1"),))
    assert [(t.region, t.qualified) for t in facts.get(GLUE_TABLES)] == [
        ("eu-west-1", "security.cloudtrail_logs")]
    assert only(run_check(cloudtrail_table, facts, facts.config)).status is Status.PASS


def test_configured_database_found_nowhere_is_named(
        aws: Any, live_facts: Callable[..., Facts]) -> None:
    config = replace(Config(), athena=AthenaSettings(database="securty"))
    facts = facts_over(live_facts(), config, (trail(region="eu-west-1"),))
    finding = only(run_check(cloudtrail_table, facts, facts.config))
    assert finding.status is Status.ERROR, "the table may be in a region not searched"
    assert ("Glue database securty (athena.database) exists in none of: eu-west-1, "
            "us-east-1") in finding.message


def test_table_pointing_at_another_bucket_read_from_moto(
        aws: Any, live_facts: Callable[..., Facts]) -> None:
    glue_table(aws, "s3://another-bucket/AWSLogs/")
    facts = facts_over(live_facts(), Config(), (trail(),))
    finding = only(run_check(cloudtrail_table, facts, facts.config))
    assert finding.status is Status.FAIL
    assert "s3://another-bucket/AWSLogs/" in finding.message


def test_deep_query_succeeds_in_moto(aws: Any, live_facts: Callable[..., Facts],
                                     api_calls: list[str]) -> None:
    glue_table(aws, "s3://trail-bucket/AWSLogs/")
    config = replace(DEEP, athena=AthenaSettings(output_location="s3://athena-results/"))
    facts = facts_over(live_facts(), config, (trail(),))
    finding = only(run_check(cloudtrail_table, facts, config))
    assert finding.status is Status.PASS
    assert "a test query succeeded" in finding.message
    assert "athena:StartQueryExecution" in api_calls


def test_deep_query_failed(aws: Any, live_facts: Callable[..., Facts]) -> None:
    from botocore.stub import Stubber

    glue_table(aws, "s3://trail-bucket/AWSLogs/")
    facts = facts_over(live_facts(), DEEP, (trail(),))
    athena = facts.aws.client("athena", "us-east-1")
    with Stubber(athena) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, {
            "QueryString": 'SELECT eventname FROM "security"."cloudtrail_logs" LIMIT 1',
            "QueryExecutionContext": {"Database": "security"}, "WorkGroup": "primary"})
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
            "State": "FAILED",
            "StateChangeReason": "HIVE_CURSOR_ERROR: Row is not a valid JSON Object"}}},
            {"QueryExecutionId": "q-1"})
        finding = only(run_check(cloudtrail_table, facts, DEEP))
        stub.assert_no_pending_responses()
    assert finding.status is Status.FAIL
    assert finding.message == (
        "Table security.cloudtrail_logs exists but a test query ended FAILED: "
        "HIVE_CURSOR_ERROR: Row is not a valid JSON Object.")


def test_without_deep_no_query_runs(aws: Any, live_facts: Callable[..., Facts],
                                    api_calls: list[str]) -> None:
    glue_table(aws, "s3://trail-bucket/AWSLogs/")
    facts = facts_over(live_facts(), Config(), (trail(),))
    assert only(run_check(cloudtrail_table, facts, facts.config)).status is Status.PASS
    assert not [call for call in api_calls if call.startswith("athena:")], (
        "the default audit stays read-only")
