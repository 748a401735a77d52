"""An Athena row of the CloudTrail table turned back into the record CloudTrail wrote:
the columns under CloudTrail's own names, the identity struct (which Athena answers as
JSON, an array on engine 2) with its camelCase field names, and the request and
response as parsed JSON, so the search reads Athena's answers as it reads log files."""

from __future__ import annotations

import json
from typing import Any

# CloudTrail's names for the table's columns (those kept as text in the record)
_RECORD_FIELDS = {
    "eventversion": "eventVersion", "eventid": "eventID", "eventtime": "eventTime",
    "eventname": "eventName", "eventsource": "eventSource", "awsregion": "awsRegion",
    "sourceipaddress": "sourceIPAddress", "useragent": "userAgent",
    "errorcode": "errorCode", "errormessage": "errorMessage",
    "recipientaccountid": "recipientAccountId", "eventtype": "eventType",
    "requestid": "requestID",
}
# CloudTrail's camelCase for the lower-case field names of the useridentity struct
_IDENTITY_FIELDS = {
    name.lower(): name for name in (
        "type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName",
        "sessionContext", "attributes", "mfaAuthenticated", "creationDate", "sessionIssuer",
        "webIdFederationData", "federatedProvider", "sourceIdentity", "ec2RoleDelivery",
        "identityProvider", "credentialId", "onBehalfOf", "userId", "identityStoreArn",
        "inScopeOf", "issuerType", "credentialsIssuedTo", "assumedRoot")
}
# The struct's fields in the DDL's order: Athena engine 2 cast a row to a JSON array
_IDENTITY_ORDER = ("type", "principalid", "arn", "accountid", "invokedby", "accesskeyid",
                   "username", "sessioncontext")
_CONTEXT_ORDER = ("attributes", "sessionissuer")
_ATTRIBUTES_ORDER = ("mfaauthenticated", "creationdate")
_ISSUER_ORDER = ("type", "principalid", "arn", "accountid", "username")


def record_of(row: dict[str, str | None]) -> dict[str, Any]:
    """A CloudTrail record as the trail's log file holds it, from one row of the query
    (fields the table does not carry, such as managementEvent, are absent)."""
    record: dict[str, Any] = {}
    for column, name in _RECORD_FIELDS.items():
        value = row.get(column)
        if value is not None:
            record[name] = value
    identity = _json(row.get("useridentity"))
    if isinstance(identity, list):
        identity = _named(identity, _IDENTITY_ORDER)
    if isinstance(identity, dict):
        record["userIdentity"] = _camel(identity)
    read_only = row.get("readonly")
    if read_only is not None:
        record["readOnly"] = read_only.lower() == "true" if read_only.lower() in (
            "true", "false") else read_only
    record["requestParameters"] = _json(row.get("requestparameters"))
    record["responseElements"] = _json(row.get("responseelements"))
    return record


def _json(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value  # the readers of a record take an odd value as "nothing here"


def _named(values: list[Any], order: tuple[str, ...]) -> dict[str, Any]:
    """A struct Athena engine 2 cast to a JSON array, named by the DDL's field order."""
    named = dict(zip(order, values, strict=False))
    context = named.get("sessioncontext")
    if isinstance(context, list):
        context = named["sessioncontext"] = _named(context, _CONTEXT_ORDER)
    if isinstance(context, dict):
        for field, fields in (("attributes", _ATTRIBUTES_ORDER),
                              ("sessionissuer", _ISSUER_ORDER)):
            if isinstance(context.get(field), list):
                context[field] = _named(context[field], fields)
    return named


def _camel(value: Any) -> Any:
    """CloudTrail's camelCase keys for a struct's lower-case ones; null fields dropped,
    as CloudTrail omits them."""
    if isinstance(value, dict):
        return {_IDENTITY_FIELDS.get(key, key): _camel(item)
                for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value
