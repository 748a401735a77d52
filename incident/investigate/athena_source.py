"""The trail's Athena table as a source of records: the search the log files answer by
reading, asked as SQL, so that Athena does the distributed scan over logs that outgrow
one machine and irready only reads the answer. A day partition (or its projection) keeps
the scan to the window; a table without one scans every object under its location, so
that scan is estimated from the bucket before it runs and refused above a budget. Every
query's id and scanned bytes (its cost) are kept for the report; a failed or denied
query is a note, never an exception, and Ctrl-C stops the running query, which would
otherwise keep scanning, and billing, after irready has gone."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.session import AwsContext, error_code, is_access_denied
from auditor.snapshot import AthenaTable
from incident.investigate.athena_rows import record_of
from incident.investigate.model import SourceReport
from incident.investigate.record_source import Progress
from incident.playbook.athena import DAY_COLUMNS

# a partition column naming the account, as organization tables built for projection do
ACCOUNT_COLUMNS = ("account", "account_id", "accountid")
MAX_LISTING_PAGES = 200  # ListObjectsV2 pages (1,000 objects each) before "at least"
_KEY_ID = re.compile(r"[A-Z0-9]{20}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_NAME = re.compile(r"[A-Za-z0-9_-]+")  # a Glue database, table or column name
_SPLIT_DAY = ("year", "month", "day")  # AWS's manual partitions: region/year/month/day
_DAY_FORMAT = "%Y/%m/%d"  # CloudTrail's folder days, as the playbook's projection names them
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # eventtime's form: compares as text in time order
_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
_QUERY_NEEDS = ("glue:GetTable, s3:ListBucket and s3:GetObject on the trail's bucket (and "
                "kms:Decrypt for an encrypted trail), s3:PutObject and s3:GetObject on the "
                "results location")
FIX = ("create the partitioned table `irready playbook` prints (Athena section), or raise "
       "--max-scan-gb")

# The selected columns, in the order the rows answer them; the table's lower-case names.
COLUMNS = ("eventversion", "eventid", "eventtime", "eventname", "eventsource", "awsregion",
           "sourceipaddress", "useragent", "errorcode", "errormessage", "recipientaccountid",
           "readonly", "eventtype", "requestid", "useridentity", "requestparameters",
           "responseelements")
# How a column is selected when not as is: the identity as JSON, and the answers
# without their session tokens (the results land in the results bucket: no credential
# of the attacker's should be copied there)
_SELECTED = {
    "useridentity": "json_format(CAST(useridentity AS JSON)) AS useridentity",
    "responseelements": ("regexp_replace(responseelements, '\"sessionToken\"\\s*:\\s*\"[^\"]*\"', "
                         "'\"sessionToken\":\"\"') AS responseelements"),
}
KEYS_PER_QUERY = 200  # Athena refuses a query over 262,144 bytes; each key costs ~110


@dataclass(frozen=True, slots=True)
class ScanEstimate:
    """What a query without partition pruning would read: every object under the
    table's location (gzip bytes, which is what Athena scans and bills)."""

    bytes: int
    objects: int
    at_least: bool  # the listing stopped after MAX_LISTING_PAGES: more is there
    error: str = ""  # why the location could not be listed ("" when it was)

    def describe(self) -> str:
        size = f"{self.bytes / 1024**3:.1f} GB"
        return f"at least {size}" if self.at_least else size


class AthenaSource:
    """A RecordSource over one Athena table of the trail's logs."""

    def __init__(self, ctx: AwsContext, table: AthenaTable, account_id: str,
                 start: datetime, end: datetime, *, organization: bool = False,
                 max_scan_bytes: int, output_location: str | None = None,
                 workgroup: str = "primary", sleep: Callable[[float], None] = time.sleep,
                 poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.table = table
        self.account_id = account_id
        self.start = start
        self.end = end
        self.organization = organization
        self.max_scan_bytes = max_scan_bytes
        self.output_location = output_location
        self.workgroup = workgroup
        self.sleep = sleep
        self.poll_seconds = poll_seconds
        self.queries: list[str] = []
        self.bytes_scanned = 0
        self.rows = 0
        self.notes: list[str] = []
        self._interrupted = False
        self._answered = False  # a query ran to the end and its results were read
        self._estimate: ScanEstimate | None = None
        self._estimated = False
        self._format: str | None = None

    @property
    def kind(self) -> str:
        return "athena"

    @property
    def location(self) -> str:
        return f"athena:{self.table.database}.{self.table.table} ({self.table.region})"

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    @property
    def day_column(self) -> str:
        """The partition column holding the log folder's day; "" when there is none."""
        return next((c for c in self.table.partition_columns if c.lower() in DAY_COLUMNS), "")

    @property
    def account_column(self) -> str:
        return next((c for c in self.table.partition_columns
                     if c.lower() in ACCOUNT_COLUMNS), "")

    def holds(self, account: str) -> bool:
        return self.organization or account == self.account_id

    def estimate_scan_bytes(self) -> ScanEstimate | None:
        """What an unpruned query would scan, from the location's objects (listed once);
        None when a day partition keeps the scan to the window."""
        if self.day_column:
            return None
        if not self._estimated:
            self._estimate = self._list_location()
            self._estimated = True
        return self._estimate

    @property
    def refusal(self) -> str:
        """Why this source must not run (one line), "" when it may."""
        estimate = self.estimate_scan_bytes()
        if estimate is None:
            return ""
        name = f"{self.table.database}.{self.table.table}"
        if estimate.error:
            return (f"{name} has no day partition, so a query would scan every log under "
                    f"{self.table.location}, whose size could not be estimated "
                    f"({estimate.error}): not run; {FIX}")
        if estimate.bytes <= self.max_scan_bytes:
            return ""
        return (f"{name} has no day partition, so a query would scan every log under "
                f"{self.table.location}: {estimate.describe()}, over the "
                f"{self.max_scan_bytes / 1024**3:.1f} GB limit: not run; {FIX}")

    def sql(self, keys: tuple[str, ...], account: str | None, since: datetime | None) -> str:
        """The query for `keys`; a ValueError for anything that is not safe to quote."""
        for key in keys:
            if not _KEY_ID.fullmatch(key):
                raise ValueError(f"not an access key id: {key[:4]}...")
        if not keys:
            raise ValueError("no key ids to search for")
        if account is not None and not _ACCOUNT_ID.fullmatch(account):
            raise ValueError(f"not an account id: {account[:12]!r}")
        for name in (self.table.database, self.table.table, *self.table.partition_columns):
            if not _NAME.fullmatch(name):
                raise ValueError(f"not a Glue name: {name[:40]!r}")
        first = (max(since, self.start) if since is not None else self.start).astimezone(UTC)
        end = self.end.astimezone(UTC)
        listed = ", ".join(f"'{key}'" for key in keys)
        mentions = "".join(f"\n    OR strpos({column}, '{key}') > 0"
                           for key in keys for column in ("requestparameters",
                                                          "responseelements"))
        where = [f"(useridentity.accesskeyid IN ({listed}){mentions})",
                 f"eventtime >= '{first.strftime(_TIME_FORMAT)}'",
                 f"eventtime <= '{end.strftime(_TIME_FORMAT)}'"]
        days = self._days()
        if days:
            last_day = end + timedelta(days=1)  # a file may hold the day before's
            layout = _DAY_FORMAT if days != f'"{self.day_column}"' else self._day_format()
            where.append(f"{days} BETWEEN '{first.strftime(layout)}' "
                         f"AND '{last_day.strftime(layout)}'")
        if account is not None:
            where.append(f"recipientaccountid = '{account}'")
            if self.account_column:
                where.append(f'"{self.account_column}" = \'{account}\'')
        selected = ", ".join(_SELECTED.get(column, column) for column in COLUMNS)
        conditions = "\n  AND ".join(where)
        return (f"SELECT {selected}\n"
                f'FROM "{self.table.database}"."{self.table.table}"\n'
                f"WHERE {conditions}\n"
                "ORDER BY eventtime")

    def _days(self) -> str:
        """The SQL expression of a partition's day: the day column, or the year, month
        and day columns of AWS's manually partitioned table joined as yyyy/MM/dd."""
        columns = {c.lower(): c for c in self.table.partition_columns}
        if all(part in columns for part in _SPLIT_DAY):
            year, month, day = (f'"{columns[part]}"' for part in _SPLIT_DAY)
            return f"concat({year}, '/', {month}, '/', {day})"
        return f'"{self.day_column}"' if self.day_column else ""

    def _day_format(self) -> str:
        """The day column's format as the table's projection declares it (glue:GetTable,
        read once); CloudTrail's yyyy/MM/dd when it declares none or cannot be read."""
        if self._format is None:
            self._format = _DAY_FORMAT
            try:
                table = self.ctx.client("glue", self.table.region).get_table(
                    DatabaseName=self.table.database, Name=self.table.table)["Table"]
            except Exception:  # noqa: BLE001 - the playbook's format is the likely one
                return self._format
            declared = (table.get("Parameters") or {}).get(f"projection.{self.day_column}.format")
            if isinstance(declared, str):
                layout = declared.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
                if not re.search(r"[A-Za-z]", layout.replace("%Y", "").replace(
                        "%m", "").replace("%d", "")):
                    self._format = layout
        return self._format

    def find(self, keys: tuple[str, ...], account: str | None, since: datetime | None,
             progress: Progress | None) -> list[dict[str, Any]]:
        if self._interrupted:
            return []
        refusal = self.refusal
        if refusal:
            if refusal not in self.notes:
                self.notes.append(refusal)
            return []
        groups = [keys[i:i + KEYS_PER_QUERY] for i in range(0, len(keys), KEYS_PER_QUERY)]
        what = f"{self.location}: {', '.join(keys)}"
        found: list[dict[str, Any]] = []
        for done, group in enumerate(groups):
            try:
                query = self.sql(group, account, since)
            except ValueError as exc:
                self.notes.append(f"query not run: {exc}")
                continue
            if progress is not None:
                progress(what, done, len(groups))
            failures = len(self.notes)
            rows = self._run(query)
            self._answered = self._answered or len(self.notes) == failures
            self.rows += len(rows)
            found += [record_of(row) for row in rows]
            if self._interrupted:
                break
        if progress is not None:
            progress(what, len(groups), len(groups))
        return found

    @property
    def answered(self) -> bool:
        return self._answered

    def report(self) -> SourceReport:
        return SourceReport(self.kind, self.location, 0, self.rows, not self.notes,
                            tuple(self.notes), tuple(self.queries), self.bytes_scanned)

    def _run(self, query: str) -> list[dict[str, str | None]]:
        athena = self.ctx.client("athena", self.table.region)
        params: dict[str, Any] = {
            "QueryString": query,
            "QueryExecutionContext": {"Database": self.table.database},
            "WorkGroup": self.workgroup,
        }
        if self.output_location:
            params["ResultConfiguration"] = {"OutputLocation": self.output_location}
        try:
            query_id = str(athena.start_query_execution(**params)["QueryExecutionId"])
        except Exception as exc:  # noqa: BLE001 - a failed source is a note, never a crash
            self.notes.append(self._failure("athena:StartQueryExecution", exc))
            return []
        self.queries.append(query_id)
        try:
            state, reason = self._wait(athena, query_id)
        except KeyboardInterrupt:
            self._interrupted = True
            self._stop(athena, query_id)
            return []
        except Exception as exc:  # noqa: BLE001
            self.notes.append(f"query {query_id}: " +
                              self._failure("athena:GetQueryExecution", exc))
            return []
        if state != "SUCCEEDED":
            hint = ""
            if any(word in reason.lower() for word in ("denied", "permission", "not authorized")):
                hint = f" (the query needs {_QUERY_NEEDS})"
            elif "output location" in reason.lower():
                hint = " (give the workgroup a query result location, or an output location)"
            self.notes.append(f"query {query_id} {state}: {reason or 'no reason given'}{hint}")
            return []
        try:
            return self._results(athena, query_id)
        except KeyboardInterrupt:
            self._interrupted = True
            self.notes.append(f"query {query_id}: interrupted (Ctrl-C) while reading its "
                              "results: the rows read so far are not used")
            return []
        except Exception as exc:  # noqa: BLE001
            self.notes.append(f"query {query_id}: " +
                              self._failure("athena:GetQueryResults", exc))
            return []

    def _wait(self, athena: Any, query_id: str) -> tuple[str, str]:
        """Poll until the query ends; keep what it scanned (and so billed)."""
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = str(status.get("State", ""))
            if state in _DONE:
                scanned = execution.get("Statistics", {}).get("DataScannedInBytes") or 0
                self.bytes_scanned += int(scanned)
                return state, str(status.get("StateChangeReason") or "")
            self.sleep(self.poll_seconds)

    def _stop(self, athena: Any, query_id: str) -> None:
        try:
            athena.stop_query_execution(QueryExecutionId=query_id)
            self.notes.append(f"query {query_id}: interrupted (Ctrl-C); the query was "
                              "stopped")
        except Exception as exc:  # noqa: BLE001
            self.notes.append(f"query {query_id}: interrupted (Ctrl-C), and stopping it "
                              f"failed ({error_code(exc)}): stop it in the Athena console, "
                              "it is still scanning (and billed)")

    def _results(self, athena: Any, query_id: str) -> list[dict[str, str | None]]:
        rows: list[dict[str, str | None]] = []
        first = True
        for page in athena.get_paginator("get_query_results").paginate(
                QueryExecutionId=query_id):
            for row in page["ResultSet"]["Rows"]:
                values = tuple(datum.get("VarCharValue") for datum in row.get("Data", ()))
                if first and values == COLUMNS:
                    first = False
                    continue  # the header row Athena puts first
                first = False
                rows.append(dict(zip(COLUMNS, values, strict=False)))
        return rows

    def _failure(self, action: str, exc: Exception) -> str:
        code = error_code(exc)
        if is_access_denied(exc):
            return f"{action} was denied ({code}) on {self.location}"
        message = ""
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            message = str(response.get("Error", {}).get("Message") or "")
        return f"{action} failed on {self.location} ({code}){': ' + message if message else ''}"

    def _list_location(self) -> ScanEstimate:
        location = self.table.location
        if not location.startswith(("s3://", "s3a://")):
            return ScanEstimate(0, 0, False, f"not an S3 location: {location[:80]}")
        bucket, _, prefix = location.split("://", 1)[1].partition("/")
        s3 = self.ctx.client("s3", self.table.region)
        total = objects = 0
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for number, page in enumerate(pages, start=1):
                for item in page.get("Contents", ()):
                    total += int(item.get("Size", 0))
                    objects += 1
                if number >= MAX_LISTING_PAGES and page.get("IsTruncated"):
                    return ScanEstimate(total, objects, True)
        except Exception as exc:  # noqa: BLE001
            code = error_code(exc)
            action = "s3:ListBucket was denied" if is_access_denied(exc) else "listing failed"
            return ScanEstimate(total, objects, False, f"{action} ({code}) on s3://{bucket}")
        return ScanEstimate(total, objects, False)
