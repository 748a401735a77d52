"""CloudTrail records as the service writes them into a trail's log files, for the
demo's simulated trail, the tests of `irready investigate` and its benchmark: one
builder, so that every one of them reads the same shape the real logs have.

The shape follows CloudTrail's record contents (eventVersion 1.09): userIdentity
per principal type, requestParameters and responseElements as the API echoes them
(a session's credentials carry `accessKeyId`, `sessionToken` and `expiration`;
CloudTrail never logs a secret access key), errorCode and errorMessage on denials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

CLI_AGENT = "aws-cli/2.15.30 md/Botocore#1.34.30 ua/2.0 os/linux#6.1.0 md/arch#x86_64"
SDK_AGENT = "Boto3/1.34.30 md/Botocore#1.34.30 ua/2.0 os/linux#5.15.0 md/arch#x86_64"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who signed a call: the userIdentity block without the key (given per call)."""

    type: str  # IAMUser, AssumedRole, Root, AWSService
    arn: str
    account_id: str
    principal_id: str
    user_name: str = ""
    session_issuer_arn: str = ""  # the role of an AssumedRole session
    session_created: datetime | None = None  # set for session (ASIA...) credentials


def iam_user(name: str, account_id: str, principal_id: str = "") -> Principal:
    return Principal("IAMUser", f"arn:aws:iam::{account_id}:user/{name}", account_id,
                     principal_id or f"AIDA{_id_tail(name)}", user_name=name)


def root(account_id: str) -> Principal:
    return Principal("Root", f"arn:aws:iam::{account_id}:root", account_id, account_id)


def assumed_role(role: str, session: str, account_id: str, created: datetime) -> Principal:
    role_id = f"AROA{_id_tail(role)}"
    return Principal("AssumedRole", f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}",
                     account_id, f"{role_id}:{session}",
                     session_issuer_arn=f"arn:aws:iam::{account_id}:role/{role}",
                     session_created=created)


def user_session(user: Principal, created: datetime) -> Principal:
    """The same user signing with a GetSessionToken session's key."""
    return Principal(user.type, user.arn, user.account_id, user.principal_id,
                     user.user_name, session_created=created)


def _id_tail(text: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, text).hex[:17].upper()


def _identity(principal: Principal, key: str) -> dict[str, Any]:
    identity: dict[str, Any] = {
        "type": principal.type, "principalId": principal.principal_id,
        "arn": principal.arn, "accountId": principal.account_id,
    }
    if key:
        identity["accessKeyId"] = key
    if principal.user_name:
        identity["userName"] = principal.user_name
    if principal.session_created is not None:
        context: dict[str, Any] = {"attributes": {
            "creationDate": cloudtrail_time(principal.session_created),
            "mfaAuthenticated": "false"}}
        if principal.session_issuer_arn:
            role = principal.session_issuer_arn.rsplit("/", 1)[-1]
            context["sessionIssuer"] = {
                "type": "Role", "principalId": principal.principal_id.split(":")[0],
                "arn": principal.session_issuer_arn, "accountId": principal.account_id,
                "userName": role}
        identity["sessionContext"] = context
    return identity


def cloudtrail_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def response_time(moment: datetime) -> str:
    """How CloudTrail writes dates inside responseElements: "Dec 1, 2026, 2:11:05 PM"."""
    return f"{moment:%b} {moment.day}, {moment:%Y}, {moment:%I:%M:%S %p}".replace(" 0", " ")


def event(name: str, source: str, when: datetime, *, principal: Principal, key: str,
          region: str = "us-east-1", ip: str = "198.51.100.23", agent: str = SDK_AGENT,
          request: dict[str, Any] | None = None, response: dict[str, Any] | None = None,
          error: tuple[str, str] | None = None, read_only: bool | None = None,
          recipient: str = "", event_id: str = "") -> dict[str, Any]:
    """One record. `source` is the service's short name ("iam") or its full event
    source; `error` is (errorCode, errorMessage) for a denied or failed call."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": _identity(principal, key),
        "eventTime": cloudtrail_time(when),
        "eventSource": source if "." in source else f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": name.startswith(("Get", "List", "Describe", "Lookup"))
        if read_only is None else read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": recipient or principal.account_id,
        "eventCategory": "Management",
    }
    if error is not None:
        record["errorCode"], record["errorMessage"] = error
    return record


def session_credentials(key: str, issued: datetime, lifetime: timedelta) -> dict[str, Any]:
    """The `credentials` block of a GetSessionToken/AssumeRole response as logged: the
    session token is elided here (real logs carry it); there is never a secret."""
    return {"accessKeyId": key, "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
            "expiration": response_time(issued + lifetime)}
