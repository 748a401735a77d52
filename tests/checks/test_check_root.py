"""iam.root_mfa and iam.root_access_keys on the two sources real AWS gives: credential
reports shaped like AWS's (the `<root_account>` row says `not_supported` for its
password), parsed by `parse_credential_report`, and account summaries. moto has no root
row and always reports root MFA off, so the branches are tested on fixture data; one
moto test proves the summary is read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from auditor.awsfacts.iam import (
    ACCOUNT_SUMMARY,
    CREDENTIAL_REPORT,
    CredentialReport,
    parse_credential_report,
)
from auditor.facts import Facts
from auditor.models import Finding, Severity, Status
from auditor.runner import run_check
from checks import root

ACCOUNT = "123456789012"
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
NO_KEYS = "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A"
KEY_1_ACTIVE = ("true,2021-06-01T08:00:00+00:00,2024-05-01T10:00:00+00:00,us-east-1,s3,"
                "false,N/A,N/A,N/A,N/A")
KEY_2_INACTIVE = ("false,N/A,N/A,N/A,N/A,"
                  "false,2020-01-01T08:00:00+00:00,2020-02-01T10:00:00+00:00,us-east-1,iam")
USER_ROW = (f"admin-user,arn:aws:iam::{ACCOUNT}:user/admin-user,2023-01-01T00:00:00+00:00,"
            "true,2024-05-01T00:00:00+00:00,2023-01-01T00:00:00+00:00,N/A,false,"
            f"{NO_KEYS},false,N/A,false,N/A")


def aws_report(*, mfa: str = "true", keys: str = NO_KEYS, password: str = "not_supported",
               with_root: bool = True) -> CredentialReport:
    """A credential report as AWS writes it; root's password_enabled is `not_supported`."""
    lines = [HEADER]
    if with_root:
        lines.append(f"<root_account>,{ROOT_ARN},2019-03-11T09:58:28+00:00,{password},"
                     f"2024-05-02T10:21:47+00:00,not_supported,not_supported,{mfa},{keys},"
                     "false,N/A,false,N/A")
    lines.append(USER_ROW)
    return parse_credential_report("\n".join(lines) + "\n")


def summary(mfa: int = 0, keys: int = 0, password: int | None = 1) -> dict[str, int]:
    values = {"AccountMFAEnabled": mfa, "AccountAccessKeysPresent": keys,
              "AccountSigningCertificatesPresent": 0, "Users": 1}
    if password is not None:  # absent before centralized root access existed, and in moto
        values["AccountPasswordPresent"] = password
    return values


def run(check: Any, account_summary: Mapping[str, int], report: CredentialReport) -> Finding:
    facts = Facts.from_values({ACCOUNT_SUMMARY: account_summary, CREDENTIAL_REPORT: report},
                              account_id=ACCOUNT)
    (finding,) = run_check(check, facts, facts.config)
    return finding


def test_the_real_root_row_is_parsed_as_aws_writes_it() -> None:
    report = aws_report(mfa="true", keys=KEY_1_ACTIVE)
    assert report.root is not None
    assert report.root.password_enabled is None, "not_supported: the row cannot tell"
    assert report.root.mfa_active
    assert [k.slot for k in report.root.active_keys] == [1]
    assert [row.user for row in report.users] == ["admin-user"], "root is not a user"


@pytest.mark.parametrize(
    ("account_summary", "report", "expected", "words"),
    [
        pytest.param(summary(mfa=1), aws_report(mfa="true"), Status.PASS, "Root has MFA.",
                     id="root MFA on in both sources"),
        pytest.param(summary(mfa=1), aws_report(with_root=False), Status.PASS, "Root has MFA.",
                     id="root MFA on, report without a root row"),
        pytest.param(summary(mfa=0), aws_report(mfa="false"), Status.FAIL,
                     "Root can sign in with a password and no MFA.",
                     id="root password and no MFA"),
        pytest.param(summary(mfa=0, password=0), aws_report(mfa="false"), Status.PASS,
                     "Root has no password (centralized root access)",
                     id="no root password: AccountPasswordPresent=0"),
        pytest.param(summary(mfa=0, password=None), aws_report(mfa="false", password="false"),
                     Status.PASS, "Root has no password",
                     id="no root password: the report's root row says so"),
        pytest.param(summary(mfa=0, password=None), aws_report(mfa="false"), Status.FAIL,
                     "Root can sign in",
                     id="no source says root has no password: assumed to have one"),
        pytest.param(summary(mfa=0, password=None), aws_report(with_root=False), Status.FAIL,
                     "Root can sign in", id="what moto gives: no root row, MFA off"),
        pytest.param(summary(mfa=0, password=1), aws_report(mfa="true"), Status.PASS,
                     "Root has MFA.", id="the report's root row shows MFA"),
    ],
)
def test_root_mfa(account_summary: dict[str, int], report: CredentialReport, expected: Status,
                  words: str) -> None:
    finding = run(root.root_mfa, account_summary, report)
    assert finding.status is expected
    assert words in finding.message
    assert finding.resource == ROOT_ARN
    assert finding.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("account_summary", "report", "expected", "message"),
    [
        pytest.param(summary(), aws_report(), Status.PASS, "Root has no access keys.",
                     id="no root key in either source"),
        pytest.param(summary(keys=1), aws_report(with_root=False), Status.FAIL,
                     "Root has access keys.", id="root key reported by the account summary"),
        pytest.param(summary(keys=0), aws_report(keys=KEY_1_ACTIVE), Status.FAIL,
                     "Root has access keys (key 1 active).",
                     id="root key reported by the credential report"),
        pytest.param(summary(keys=1), aws_report(keys=KEY_2_INACTIVE), Status.FAIL,
                     "Root has access keys (key 2 inactive).",
                     id="an inactive root key still exists"),
        pytest.param({"AccountMFAEnabled": 1}, aws_report(), Status.PASS,
                     "Root has no access keys.", id="a summary without the key count"),
    ],
)
def test_root_access_keys(account_summary: dict[str, int], report: CredentialReport,
                          expected: Status, message: str) -> None:
    finding = run(root.root_access_keys, account_summary, report)
    assert (finding.status, finding.message) == (expected, message)
    assert finding.resource == ROOT_ARN


def test_root_checks_read_the_moto_account_summary(aws: Any,
                                                   live_facts: Callable[..., Facts]) -> None:
    from moto.iam.models import iam_backends

    facts = live_facts()
    assert run_check(root.root_mfa, facts, facts.config)[0].status is Status.FAIL
    assert run_check(root.root_access_keys, facts, facts.config)[0].status is Status.PASS

    # moto's summary says root MFA off until its backend is told otherwise
    iam_backends[ACCOUNT]["global"].account_summary._account_mfa_enabled = 1
    facts = live_facts()
    finding = run_check(root.root_mfa, facts, facts.config)[0]
    assert finding.status is Status.PASS
    assert finding.evidence["AccountMFAEnabled"] == "1"
    assert finding.evidence["credential_report_root_mfa"] == "no root row"
