"""The Athena table as a source of records, against moto's Athena with queued results:
the SQL carries the window's day partition and the account, rows come back as the very
records the trail wrote, an unpartitioned table is sized from its bucket before anything
runs (and refused when too large), failures and denials are notes, the scanned bytes and
cost are reported, and Ctrl-C stops the query Athena would otherwise keep running."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from athenakit import athena_row, queue
from logfilekit import error_response

from auditor.session import AwsContext
from auditor.snapshot import AthenaTable
from demo.cloudtrail_records import (
    assumed_role,
    event,
    iam_user,
    session_credentials,
    user_session,
)
from incident.investigate.athena_rows import record_of
from incident.investigate.athena_source import COLUMNS, FIX, AthenaSource
from incident.investigate.search import search

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
REGION = "us-east-1"
LEAKED = "AKIAIOSFODNN7EXAMPLE"
SESSION = "ASIAQTESTSESSION0001"
ROLE_SESSION = "ASIAQTESTROLESESS001"
BUCKET = "trail-logs-123456789012"
LOCATION = f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/"
START = datetime(2026, 11, 20, tzinfo=UTC)
END = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)
ATTACK = datetime(2026, 12, 4, 12, 11, 5, tzinfo=UTC)
PARTITIONED = AthenaTable(REGION, "security_logs", "cloudtrail_logs", LOCATION,
                          ("region", "day"))
UNPARTITIONED = AthenaTable(REGION, "default", "cloudtrail_flat", LOCATION, ())
ORGANIZATION = AthenaTable(REGION, "security_logs", "org_trail", f"s3://{BUCKET}/AWSLogs/o-a1b2c3d4e5/",
                           ("account", "region", "day"))
# fields a CloudTrail table of the playbook's DDL does not carry
NOT_IN_TABLE = ("managementEvent", "eventCategory")


def story() -> list[dict[str, Any]]:
    """The leaked key's calls (one denied, one minting a session), the session's call, a
    role session's call, and a defender's call that names the key."""
    mailer = iam_user("ses-mailer", ACCOUNT)
    session_start = ATTACK + timedelta(minutes=9)
    role_start = ATTACK + timedelta(minutes=19)
    admin = iam_user("admin-user", ACCOUNT)
    return [
        event("GetCallerIdentity", "sts", ATTACK, principal=mailer, key=LEAKED),
        event("ListBuckets", "s3", ATTACK + timedelta(minutes=3), principal=mailer,
              key=LEAKED, error=("AccessDenied", "User is not authorized")),
        event("GetSessionToken", "sts", session_start, principal=mailer, key=LEAKED,
              request={"durationSeconds": 43200},
              response={"credentials": session_credentials(SESSION, session_start,
                                                           timedelta(hours=12))}),
        event("DescribeRegions", "ec2", ATTACK + timedelta(minutes=10),
              principal=user_session(mailer, session_start), key=SESSION),
        event("StopLogging", "cloudtrail", ATTACK + timedelta(minutes=24),
              principal=assumed_role("ops", "maint", ACCOUNT, role_start), key=ROLE_SESSION,
              read_only=False, request={"name": "main-trail"}),
        event("UpdateAccessKey", "iam", ATTACK + timedelta(hours=2), principal=admin,
              key="AKIAQTESTADMINCONSOL", read_only=False,
              request={"userName": "ses-mailer", "accessKeyId": LEAKED,
                       "status": "Inactive"}),
    ]


def expected(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in NOT_IN_TABLE}


def started_queries(region: str = REGION) -> list[str]:
    from moto.athena.models import athena_backends

    return [e.query for e in athena_backends[ACCOUNT][region].executions.values()]


@pytest.fixture
def calls(aws: Any) -> list[str]:
    """Every API call (operation name) the AwsContext's clients make."""
    made: list[str] = []
    aws.events.register("before-call.*.*",
                        lambda model, **_: made.append(model.name))
    return made


@pytest.fixture
def ctx(aws: Any, calls: list[str]) -> AwsContext:
    return AwsContext(session=aws, max_attempts=1)


def source(ctx: AwsContext, table: AthenaTable = PARTITIONED, **options: Any) -> AthenaSource:
    settings: dict[str, Any] = {"max_scan_bytes": 50 * 1024**3, "sleep": lambda _: None,
                                "poll_seconds": 0.0, **options}
    return AthenaSource(ctx, table, ACCOUNT, START, END, **settings)


def bucket_with(aws: Any, sizes: list[int]) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for number, size in enumerate(sizes):
        s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/0"
                      f"{number % 9 + 1}/file{number}.json.gz", Body=b"x" * size)
    s3.put_object(Bucket=BUCKET, Key="elsewhere/big.bin", Body=b"y" * 5000)


def test_a_partitioned_table_is_queried_on_the_windows_days_and_rows_become_the_records(
        ctx: AwsContext, calls: list[str]) -> None:
    records = story()
    queue([athena_row(r) for r in records])
    athena = source(ctx)

    found = athena.find((LEAKED,), ACCOUNT, None, None)

    assert found == [expected(r) for r in records]
    assert found[2]["responseElements"]["credentials"]["accessKeyId"] == SESSION
    assert found[1]["errorCode"] == "AccessDenied"
    assert "sessionContext" not in found[0]["userIdentity"]
    assert found[4]["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == "ops"
    [sql] = started_queries()
    assert "\"day\" BETWEEN '2026/11/20' AND '2026/12/06'" in sql
    assert "eventtime >= '2026-11-20T00:00:00Z'" in sql
    assert "eventtime <= '2026-12-05T18:30:00Z'" in sql
    assert f"useridentity.accesskeyid IN ('{LEAKED}')" in sql
    assert f"strpos(requestparameters, '{LEAKED}') > 0" in sql
    assert f"strpos(responseelements, '{LEAKED}') > 0" in sql
    assert f"recipientaccountid = '{ACCOUNT}'" in sql
    assert '"region"' not in sql  # the region partition is every region: left unfiltered
    assert 'FROM "security_logs"."cloudtrail_logs"' in sql
    assert "ListObjectsV2" not in calls  # pruned by day: no estimate needed
    report = athena.report()
    assert (report.kind, report.location, report.files, report.records_scanned) == (
        "athena", "athena:security_logs.cloudtrail_logs (us-east-1)", 0, len(records))
    assert report.complete
    assert report.notes == ()
    assert len(report.queries) == 1
    assert calls.count("StartQueryExecution") == 1


def test_the_query_runs_in_the_workgroup_and_writes_where_it_is_told(
        ctx: AwsContext, aws: Any) -> None:
    from moto.athena.models import athena_backends

    aws.client("s3").create_bucket(Bucket="athena-results-123456789012")
    aws.client("athena").create_work_group(Name="irready", Configuration={})
    athena = source(ctx, output_location="s3://athena-results-123456789012/irready/",
                    workgroup="irready")

    athena.find((LEAKED,), ACCOUNT, None, None)

    [execution] = athena_backends[ACCOUNT][REGION].executions.values()
    assert execution.workgroup is not None
    assert execution.workgroup.name == "irready"
    assert execution.context == {"Database": "security_logs"}
    assert execution.config["OutputLocation"].startswith(
        "s3://athena-results-123456789012/irready/")
    assert athena.report().complete


def test_a_later_pass_searches_from_the_minting_and_the_search_follows_the_session(
        ctx: AwsContext) -> None:
    records = story()
    queue([athena_row(r) for r in records])  # the leaked key: its calls and the mention
    queue([athena_row(records[3])])  # the session's call
    athena = source(ctx)

    found = search([athena], LEAKED, ACCOUNT, START, END)

    assert [c.access_key_id for c in found.credentials] == [LEAKED, SESSION]
    assert {r["eventID"] for r in found.records} == {r["eventID"] for r in records}
    first, second = started_queries()
    assert f"useridentity.accesskeyid IN ('{SESSION}')" in second
    assert "eventtime >= '2026-12-04T12:20:05Z'" in second  # from the session's minting
    assert "\"day\" BETWEEN '2026/12/04' AND '2026/12/06'" in second
    assert SESSION not in first
    [report] = found.sources
    assert len(report.queries) == 2
    assert report.records_scanned == len(records) + 1
    assert report.complete


def test_the_day_format_the_tables_projection_declares_is_used(
        aws: Any, ctx: AwsContext) -> None:
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "security_logs"})
    glue.create_table(DatabaseName="security_logs", TableInput={
        "Name": "by_dt", "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "Parameters": {"projection.enabled": "true", "projection.dt.type": "date",
                       "projection.dt.format": "yyyy-MM-dd"}})
    table = AthenaTable(REGION, "security_logs", "by_dt", LOCATION, ("dt",))

    source(ctx, table).find((LEAKED,), ACCOUNT, None, None)

    [sql] = started_queries()
    assert "\"dt\" BETWEEN '2026-11-20' AND '2026-12-06'" in sql


def test_a_manually_partitioned_table_is_pruned_on_year_month_and_day(
        ctx: AwsContext, calls: list[str]) -> None:
    table = AthenaTable(REGION, "default", "cloudtrail_manual", LOCATION,
                        ("region", "year", "month", "day"))
    athena = source(ctx, table)

    assert athena.estimate_scan_bytes() is None
    athena.find((LEAKED,), ACCOUNT, None, None)

    [sql] = started_queries()
    assert ("concat(\"year\", '/', \"month\", '/', \"day\") BETWEEN '2026/11/20' AND "
            "'2026/12/06'") in sql
    assert "GetTable" not in calls  # the folders' own yyyy, MM and dd: nothing to look up


def test_an_organization_table_filters_the_account_partition_and_holds_every_account(
        ctx: AwsContext) -> None:
    athena = source(ctx, ORGANIZATION, organization=True)

    assert athena.find((LEAKED,), OTHER_ACCOUNT, None, None) == []

    [sql] = started_queries()
    assert f"\"account\" = '{OTHER_ACCOUNT}'" in sql
    assert f"recipientaccountid = '{OTHER_ACCOUNT}'" in sql
    assert athena.holds(OTHER_ACCOUNT)
    assert athena.holds(ACCOUNT)
    own = source(ctx)
    assert own.holds(ACCOUNT)
    assert not own.holds(OTHER_ACCOUNT)


def test_without_an_account_the_query_spans_every_account(ctx: AwsContext) -> None:
    source(ctx, ORGANIZATION, organization=True).find((LEAKED,), None, None, None)

    [sql] = started_queries()
    assert "recipientaccountid" not in sql.split("WHERE", 1)[1]
    assert '"account"' not in sql


def test_an_unpartitioned_table_whose_bucket_holds_little_runs_without_a_day_filter(
        aws: Any, ctx: AwsContext, calls: list[str]) -> None:
    bucket_with(aws, [1000, 2000, 3000])
    records = story()[:2]
    queue([athena_row(r) for r in records])
    athena = source(ctx, UNPARTITIONED, max_scan_bytes=10_000)

    estimate = athena.estimate_scan_bytes()
    assert estimate is not None
    assert (estimate.bytes, estimate.objects, estimate.at_least) == (6000, 3, False)
    assert athena.refusal == ""
    assert athena.find((LEAKED,), ACCOUNT, None, None) == [expected(r) for r in records]

    [sql] = started_queries()
    assert "BETWEEN" not in sql
    assert "eventtime >= '2026-11-20T00:00:00Z'" in sql
    assert calls.count("ListObjectsV2") == 1  # listed once, however many passes
    athena.find((SESSION,), ACCOUNT, None, None)
    assert calls.count("ListObjectsV2") == 1
    assert athena.report().complete


def test_an_unpartitioned_table_whose_bucket_holds_much_is_refused_before_any_query(
        aws: Any, ctx: AwsContext, calls: list[str]) -> None:
    bucket_with(aws, [4000, 4000])
    athena = source(ctx, UNPARTITIONED, max_scan_bytes=5000)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []
    assert athena.find((SESSION,), ACCOUNT, None, None) == []

    assert "StartQueryExecution" not in calls
    assert started_queries() == []
    refusal = athena.refusal
    assert "default.cloudtrail_flat has no day partition" in refusal
    assert LOCATION in refusal
    assert "0.0 GB" in refusal  # 8,000 bytes, as GB
    assert FIX in refusal
    report = athena.report()
    assert not report.complete
    assert report.notes == (refusal,)  # said once
    assert report.queries == ()
    assert report.cost_usd == 0


def test_a_bucket_listing_that_stops_early_says_at_least(
        aws: Any, ctx: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    import incident.investigate.athena_source as athena_source

    monkeypatch.setattr(athena_source, "MAX_LISTING_PAGES", 1)
    bucket_with(aws, [10] * 1001)  # ListObjectsV2 answers 1,000 a page
    athena = source(ctx, UNPARTITIONED, max_scan_bytes=5000)

    estimate = athena.estimate_scan_bytes()

    assert estimate is not None
    assert (estimate.bytes, estimate.objects, estimate.at_least) == (10_000, 1000, True)
    assert "at least 0.0 GB" in athena.refusal


def test_a_location_that_cannot_be_listed_is_not_queried_blind(
        aws: Any, ctx: AwsContext, calls: list[str]) -> None:
    ctx.client("s3", REGION).meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_: error_response("AccessDenied", "denied", 403))
    athena = source(ctx, UNPARTITIONED)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []

    assert "StartQueryExecution" not in calls
    [note] = athena.report().notes
    assert "s3:ListBucket was denied (AccessDenied)" in note
    assert FIX in note


def test_scanned_bytes_and_cost_are_reported(ctx: AwsContext) -> None:
    def scanned(parsed: dict[str, Any], **_: Any) -> None:
        parsed["QueryExecution"]["Statistics"]["DataScannedInBytes"] = 3 * 1024**3

    ctx.client("athena", REGION).meta.events.register(
        "after-call.athena.GetQueryExecution", scanned)
    athena = source(ctx)

    athena.find((LEAKED,), ACCOUNT, None, None)

    report = athena.report()
    assert report.bytes_scanned == 3 * 1024**3
    assert report.cost_usd == pytest.approx(3 / 1024 * 5.0)


def test_a_failed_query_is_a_note_with_its_id_and_reason(ctx: AwsContext) -> None:
    def failed(parsed: dict[str, Any], **_: Any) -> None:
        parsed["QueryExecution"]["Status"].update(
            State="FAILED", StateChangeReason="Permission denied on S3 path: "
            f"{LOCATION}us-east-1/2026/12/04/x.json.gz")

    ctx.client("athena", REGION).meta.events.register(
        "after-call.athena.GetQueryExecution", failed)
    queue([athena_row(story()[0])])
    athena = source(ctx)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []

    report = athena.report()
    [query_id] = report.queries
    [note] = report.notes
    assert note.startswith(f"query {query_id} FAILED: Permission denied on S3 path")
    assert "glue:GetTable" in note
    assert "s3:GetObject" in note
    assert not report.complete
    assert report.records_scanned == 0


def test_a_denied_start_is_a_note_naming_the_permission(
        ctx: AwsContext, calls: list[str]) -> None:
    ctx.client("athena", REGION).meta.events.register(
        "before-call.athena.StartQueryExecution",
        lambda **_: error_response("AccessDeniedException", "not authorized", 400))
    athena = source(ctx)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []

    report = athena.report()
    assert report.notes == ("athena:StartQueryExecution was denied (AccessDeniedException) "
                            "on athena:security_logs.cloudtrail_logs (us-east-1)",)
    assert report.queries == ()
    assert not report.complete
    assert "GetQueryExecution" not in calls


def test_a_denied_result_read_is_a_note(ctx: AwsContext) -> None:
    ctx.client("athena", REGION).meta.events.register(
        "before-call.athena.GetQueryResults",
        lambda **_: error_response("AccessDeniedException", "not authorized", 400))
    athena = source(ctx)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []

    [query_id] = athena.report().queries
    assert athena.report().notes == (
        f"query {query_id}: athena:GetQueryResults was denied (AccessDeniedException) on "
        "athena:security_logs.cloudtrail_logs (us-east-1)",)


@pytest.fixture
def slow_queries() -> Iterator[None]:
    """Queries that stay QUEUED for a while, as a large scan does."""
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="athena::execution",
                                 transition={"progression": "manual", "times": 50})
    yield
    state_manager.unset_transition(model_name="athena::execution")


def test_polling_waits_with_the_injected_sleep(ctx: AwsContext, slow_queries: None) -> None:
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="athena::execution",
                                 transition={"progression": "manual", "times": 3})
    states: list[str] = []
    ctx.client("athena", REGION).meta.events.register(
        "after-call.athena.GetQueryExecution",
        lambda parsed, **_: states.append(parsed["QueryExecution"]["Status"]["State"]))
    slept: list[float] = []
    athena = source(ctx, sleep=slept.append, poll_seconds=2.5)

    athena.find((LEAKED,), ACCOUNT, None, None)

    assert {"QUEUED", "RUNNING"} <= set(states[:-1])
    assert states[-1] == "SUCCEEDED"
    assert slept == [2.5] * (len(states) - 1)  # once after every poll but the last
    assert athena.report().complete


def test_ctrl_c_while_polling_stops_the_query(
        ctx: AwsContext, calls: list[str], slow_queries: None) -> None:
    from moto.athena.models import athena_backends

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    athena = source(ctx, sleep=interrupt)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []

    assert athena.interrupted
    [execution] = athena_backends[ACCOUNT][REGION].executions.values()
    assert execution.status == "CANCELLED"
    assert "StopQueryExecution" in calls
    report = athena.report()
    assert report.queries == (execution.id,)
    assert report.notes == (f"query {execution.id}: interrupted (Ctrl-C); the query was "
                            "stopped",)
    assert not report.complete
    assert athena.find((SESSION,), ACCOUNT, None, None) == []  # nothing more once stopped
    assert calls.count("StartQueryExecution") == 1


@pytest.mark.parametrize("bad", [
    pytest.param("AKIA' OR '1'='1' --", id="an injection"),
    pytest.param("akiaiosfodnn7example", id="lower case"),
    pytest.param("AKIAIOSFODNN7EXAMPL", id="19 characters"),
])
def test_anything_but_a_key_id_is_refused_before_a_query(
        ctx: AwsContext, calls: list[str], bad: str) -> None:
    athena = source(ctx)

    assert athena.find((LEAKED, bad), ACCOUNT, None, None) == []

    assert "StartQueryExecution" not in calls
    [note] = athena.report().notes
    assert note.startswith("query not run: not an access key id")
    assert bad not in note


def test_a_table_name_that_cannot_be_quoted_is_refused(ctx: AwsContext,
                                                       calls: list[str]) -> None:
    odd = AthenaTable(REGION, "security_logs", 'logs" UNION SELECT', LOCATION, ("day",))
    athena = source(ctx, odd)

    assert athena.find((LEAKED,), ACCOUNT, None, None) == []

    assert "StartQueryExecution" not in calls
    assert "not a Glue name" in athena.report().notes[0]


def test_an_engine_2_array_identity_is_named_by_the_ddls_order() -> None:
    identity = ["AssumedRole", "AROAEXAMPLE:maint", "arn:aws:sts::123456789012:assumed-role/"
                "ops/maint", ACCOUNT, None, ROLE_SESSION, None,
                [["false", "2026-12-04T12:30:05Z"],
                 ["Role", "AROAEXAMPLE", "arn:aws:iam::123456789012:role/ops", ACCOUNT, "ops"]]]
    row: dict[str, str | None] = dict.fromkeys(COLUMNS)
    row["useridentity"] = json.dumps(identity)

    record = record_of(row)

    assert record["userIdentity"] == {
        "type": "AssumedRole", "principalId": "AROAEXAMPLE:maint",
        "arn": "arn:aws:sts::123456789012:assumed-role/ops/maint", "accountId": ACCOUNT,
        "accessKeyId": ROLE_SESSION,
        "sessionContext": {
            "attributes": {"mfaAuthenticated": "false", "creationDate": "2026-12-04T12:30:05Z"},
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                              "arn": "arn:aws:iam::123456789012:role/ops",
                              "accountId": ACCOUNT, "userName": "ops"}}}
    assert record["requestParameters"] is None
    assert record["responseElements"] is None


# What the source calls, as IAM actions: the lead's `irready policy investigate` for Athena.
ATHENA_ACTIONS = ["glue:GetTable", "athena:StartQueryExecution", "athena:GetQueryExecution",
                  "athena:GetQueryResults", "athena:StopQueryExecution"]


def _allow(actions: list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}


def test_under_iam_the_athena_actions_are_enough(
        user_with_policy: Any, enforce_iam: Any) -> None:
    session = user_with_policy(_allow(ATHENA_ACTIONS))
    queue([athena_row(story()[0])])
    athena = AthenaSource(AwsContext(session=session, max_attempts=1), PARTITIONED, ACCOUNT,
                          START, END, max_scan_bytes=1, sleep=lambda _: None)
    with enforce_iam():
        found = athena.find((LEAKED,), ACCOUNT, None, None)
    assert [r["eventName"] for r in found] == ["GetCallerIdentity"]
    assert athena.report().complete


def test_under_iam_a_user_without_athena_gets_a_note_not_a_crash(
        user_with_policy: Any, enforce_iam: Any) -> None:
    session = user_with_policy(_allow(["s3:ListBucket"]))
    athena = AthenaSource(AwsContext(session=session, max_attempts=1), PARTITIONED, ACCOUNT,
                          START, END, max_scan_bytes=1, sleep=lambda _: None)
    with enforce_iam():
        found = athena.find((LEAKED,), ACCOUNT, None, None)
    assert found == []
    [note] = athena.report().notes
    assert note.startswith("athena:StartQueryExecution was denied (AccessDenied")
    assert athena.report().queries == ()


def test_results_are_read_page_by_page_and_only_the_first_page_has_a_header(
        ctx: AwsContext) -> None:
    from botocore.stub import Stubber

    records = story()
    client = ctx.client("athena", REGION)

    def rows(values: list[list[str | None]]) -> list[dict[str, Any]]:
        return [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                for row in values]

    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_execution", {"QueryExecution": {
            "QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"},
            "Statistics": {"DataScannedInBytes": 12_345}}})
        stub.add_response("get_query_results", {
            "ResultSet": {"Rows": rows([list(COLUMNS), athena_row(records[0])])},
            "NextToken": "page-2"}, {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_results", {
            "ResultSet": {"Rows": rows([athena_row(r) for r in records[1:3]])}},
            {"QueryExecutionId": "q-1", "NextToken": "page-2"})
        athena = source(ctx)
        found = athena.find((LEAKED,), ACCOUNT, None, None)
        stub.assert_no_pending_responses()

    assert found == [expected(r) for r in records[:3]]
    report = athena.report()
    assert (report.queries, report.bytes_scanned, report.records_scanned) == (
        ("q-1",), 12_345, 3)


def test_ctrl_c_when_the_query_cannot_be_stopped_says_it_still_runs(
        ctx: AwsContext, slow_queries: None) -> None:
    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    ctx.client("athena", REGION).meta.events.register(
        "before-call.athena.StopQueryExecution",
        lambda **_: error_response("AccessDeniedException", "not authorized", 400))
    athena = source(ctx, sleep=interrupt)

    athena.find((LEAKED,), ACCOUNT, None, None)

    [note] = athena.report().notes
    assert "stopping it failed (AccessDeniedException)" in note
    assert "still scanning (and billed)" in note
    assert athena.interrupted


def test_no_session_token_is_copied_into_the_results_bucket(ctx: AwsContext) -> None:
    sql = source(ctx).sql(("AKIAIOSFODNN7EXAMPLE",), "123456789012", None)
    assert "regexp_replace(responseelements, '\"sessionToken\"" in sql
    assert ", responseelements\n" not in sql
    assert "responseelements FROM" not in sql


def test_many_keys_are_searched_in_queries_athena_accepts(ctx: AwsContext) -> None:
    from incident.investigate.athena_source import KEYS_PER_QUERY

    keys = tuple(f"ASIAQDEMO{index:011d}" for index in range(KEYS_PER_QUERY * 2 + 1))
    found = source(ctx).find(keys, "123456789012", None, None)
    assert found == []
    queries = started_queries()
    assert len(queries) == 3
    assert all(len(query.encode()) < 262_144 for query in queries)
