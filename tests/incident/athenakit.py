"""Athena's answers as moto queues them: the row Athena would give for a CloudTrail
record (the identity struct cast to JSON, JSON text columns as the log file holds
them), and the queue of a query's results. Shared by the Athena source's tests and the
detection drill's."""

from __future__ import annotations

import json
from typing import Any

from incident.investigate.athena_source import COLUMNS

ACCOUNT = "123456789012"
REGION = "us-east-1"
# what the table's DDL (the playbook's) declares inside useridentity, in order
IDENTITY_FIELDS = ("type", "principalid", "arn", "accountid", "invokedby", "accesskeyid",
                   "username", "sessioncontext")
ISSUER_FIELDS = ("type", "principalid", "arn", "accountid", "username")


def as_struct(value: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    lower = {key.lower(): item for key, item in value.items()}
    return {field: lower.get(field) for field in fields}


def athena_row(record: dict[str, Any]) -> list[str | None]:
    """The row Athena answers for `record` under the query's columns: the identity struct
    cast to JSON with the table's lower-case names and nulls, JSON text columns as the log
    file holds them, booleans as text."""
    identity = as_struct(record["userIdentity"], IDENTITY_FIELDS)
    context = identity["sessioncontext"]
    if context is not None:
        context = {"attributes": as_struct(context["attributes"],
                                           ("mfaauthenticated", "creationdate")),
                   "sessionissuer": None if "sessionIssuer" not in context
                   else as_struct(context["sessionIssuer"], ISSUER_FIELDS)}
        identity["sessioncontext"] = context
    fields = {name.lower(): value for name, value in record.items()}
    values: dict[str, str | None] = {}
    for column in COLUMNS:
        value = fields.get(column)
        if column == "useridentity":
            values[column] = json.dumps(identity, separators=(",", ":"))
        elif column in ("requestparameters", "responseelements"):
            values[column] = None if value is None else json.dumps(value)
        elif isinstance(value, bool):
            values[column] = str(value).lower()
        else:
            values[column] = value
    return [values[column] for column in COLUMNS]


def queue(rows: list[list[str | None]], region: str = REGION) -> None:
    """The next query's answer, as Athena gives it: a header row, then the data rows."""
    from moto.moto_api import _internal

    def data(values: list[str | None] | tuple[str, ...]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    _internal.moto_api_backend.set_athena_result(
        rows=[data(COLUMNS), *(data(row) for row in rows)],
        column_info=[{"Name": c, "Type": "varchar"} for c in COLUMNS],
        account_id=ACCOUNT, region=region)
