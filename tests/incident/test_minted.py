"""The credentials a call minted, read from records as CloudTrail writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from demo.cloudtrail_records import (
    assumed_role,
    event,
    iam_user,
    response_time,
    root,
    session_credentials,
)
from incident.investigate.minted import Minted, minted_by
from incident.investigate.model import CredentialKind
from incident.investigate.record_fields import parse_time

ACCOUNT = "123456789012"
OTHER = "111122223333"
WHEN = datetime(2026, 12, 1, 12, 11, 5, tzinfo=UTC)
LEAKED = "AKIAIOSFODNN7EXAMPLE"
SESSION = "ASIAEXAMPLESESSION01"
ALICE = iam_user("alice", ACCOUNT)


def test_get_session_token_mints_a_session_of_the_caller() -> None:
    record = event("GetSessionToken", "sts", WHEN, principal=ALICE, key=LEAKED,
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=12))},
                   event_id="e-gst")
    assert minted_by(record) == Minted(SESSION, CredentialKind.SESSION, "e-gst", WHEN,
                                       WHEN + timedelta(hours=12), ACCOUNT, ALICE.arn)


def test_get_federation_token_names_the_federated_user() -> None:
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/mallory"
    record = event("GetFederationToken", "sts", WHEN, principal=ALICE, key=LEAKED,
                   request={"name": "mallory"},
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=36)),
                             "federatedUser": {"arn": arn,
                                               "federatedUserId": f"{ACCOUNT}:mallory"}})
    minted = minted_by(record)
    assert minted is not None
    assert (minted.principal_arn, minted.account_id) == (arn, ACCOUNT)
    assert minted.expires == WHEN + timedelta(hours=36)


@pytest.mark.parametrize("name", ["AssumeRole", "AssumeRoleWithSAML",
                                  "AssumeRoleWithWebIdentity"])
def test_assume_role_acts_in_the_role_s_account(name: str) -> None:
    arn = f"arn:aws:sts::{OTHER}:assumed-role/deploy/attacker"
    record = event(name, "sts", WHEN, principal=ALICE, key=LEAKED,
                   request={"roleArn": f"arn:aws:iam::{OTHER}:role/deploy",
                            "roleSessionName": "attacker"},
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=1)),
                             "assumedRoleUser": {"arn": arn,
                                                 "assumedRoleId": "AROAEXAMPLE:attacker"}})
    minted = minted_by(record)
    assert minted is not None
    assert minted.kind is CredentialKind.SESSION
    assert (minted.account_id, minted.principal_arn) == (OTHER, arn)
    assert minted.expires == WHEN + timedelta(hours=1)


def test_create_access_key_mints_a_created_key_of_its_user() -> None:
    record = event("CreateAccessKey", "iam", WHEN, principal=ALICE, key=LEAKED,
                   request={"userName": "backdoor"},
                   response={"accessKey": {"accessKeyId": "AKIAEXAMPLEBACKDOOR1",
                                           "userName": "backdoor", "status": "Active",
                                           "createDate": "Dec 1, 2026, 12:11:05 PM"}},
                   event_id="e-cak")
    assert minted_by(record) == Minted(
        "AKIAEXAMPLEBACKDOOR1", CredentialKind.CREATED, "e-cak", WHEN, None, ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:user/backdoor")


def _session_record(**changes: Any) -> dict[str, Any]:
    record = event("AssumeRole", "sts", WHEN, principal=ALICE, key=LEAKED,
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=1)),
                             "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:"
                                                        "assumed-role/r/s"}})
    record.update(changes)
    return record


@pytest.mark.parametrize("record", [
    pytest.param(_session_record(responseElements=None), id="null responseElements"),
    pytest.param(_session_record(responseElements="elided"), id="a string response"),
    pytest.param(_session_record(responseElements={"credentials": None}),
                 id="null credentials"),
    pytest.param(_session_record(responseElements={"credentials": {"expiration": "x"}}),
                 id="credentials without a key"),
    pytest.param(_session_record(errorCode="AccessDenied", responseElements=None),
                 id="a denied call"),
    pytest.param(_session_record(errorCode="AccessDenied"), id="an error with a response"),
    pytest.param(_session_record(eventName="ListRoles"), id="another event"),
    pytest.param(_session_record(eventTime="yesterday"), id="an unreadable eventTime"),
    pytest.param(event("CreateAccessKey", "iam", WHEN, principal=ALICE, key=LEAKED,
                       response={"accessKey": "AKIA"}), id="an odd accessKey"),
])
def test_odd_or_failed_records_mint_nothing(record: dict[str, Any]) -> None:
    assert minted_by(record) is None


def test_an_unreadable_expiration_is_none_not_a_crash() -> None:
    record = _session_record()
    record["responseElements"]["credentials"]["expiration"] = "soon"
    minted = minted_by(record)
    assert minted is not None
    assert minted.expires is None


def test_a_root_session_is_minted_too() -> None:
    record = event("GetSessionToken", "sts", WHEN, principal=root(ACCOUNT), key=LEAKED,
                   response={"credentials": session_credentials(SESSION, WHEN,
                                                                timedelta(hours=1))})
    minted = minted_by(record)
    assert minted is not None
    assert minted.principal_arn == f"arn:aws:iam::{ACCOUNT}:root"


def test_a_session_signing_calls_mints_through_its_own_identity() -> None:
    session = assumed_role("deploy", "attacker", ACCOUNT, WHEN)
    record = event("CreateAccessKey", "iam", WHEN, principal=session, key=SESSION,
                   request={"userName": "backdoor"},
                   response={"accessKey": {"accessKeyId": "AKIAEXAMPLEBACKDOOR2",
                                           "userName": "backdoor"}})
    minted = minted_by(record)
    assert minted is not None
    assert minted.principal_arn == f"arn:aws:iam::{ACCOUNT}:user/backdoor"


@pytest.mark.parametrize(("raw", "expected"), [
    ("Dec 2, 2026, 2:11:05 AM", datetime(2026, 12, 2, 2, 11, 5, tzinfo=UTC)),
    ("Dec 2, 2026, 2:11:05 PM", datetime(2026, 12, 2, 14, 11, 5, tzinfo=UTC)),
    ("Dec 12, 2026, 12:00:00 AM", datetime(2026, 12, 12, 0, 0, 0, tzinfo=UTC)),
    ("2026-12-02T02:11:05Z", datetime(2026, 12, 2, 2, 11, 5, tzinfo=UTC)),
    ("2026-12-02T02:11:05.123Z", datetime(2026, 12, 2, 2, 11, 5, 123000, tzinfo=UTC)),
    ("2026-12-02T04:11:05+02:00", datetime(2026, 12, 2, 2, 11, 5, tzinfo=UTC)),
    ("2026-12-02T02:11:05", datetime(2026, 12, 2, 2, 11, 5, tzinfo=UTC)),
    (1796177465, datetime(2026, 12, 2, 2, 11, 5, tzinfo=UTC)),
    (1796177465000, datetime(2026, 12, 2, 2, 11, 5, tzinfo=UTC)),
    ("Feb 30, 2026, 2:11:05 AM", None),
    ("", None),
    (None, None),
    (True, None),
    ({"date": "x"}, None),
])
def test_expiration_formats(raw: Any, expected: datetime | None) -> None:
    parsed = parse_time(raw)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


def test_the_builder_s_response_time_round_trips() -> None:
    moment = datetime(2026, 1, 5, 9, 3, 7, tzinfo=UTC)
    assert parse_time(response_time(moment)) == moment
