"""IAM serves a credential report up to 4 hours old. Every check that reads it carries
its generation time in the evidence, and when the report is more than an hour older
than the audit, its verdicts say that changes made since may not show yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factbuilders import user

from auditor.awsfacts.iam import CREDENTIAL_REPORT, CredentialReport
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Provenance, Status
from auditor.runner import run_check
from auditor.session import AwsContext
from checks import mfa

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
STALE = (" (IAM's credential report is from 2026-12-07 02:30 UTC, 3.5 h before this audit: "
         "changes made since may not show yet)")


@pytest.mark.parametrize(
    ("generated", "expected"),
    [
        pytest.param(NOW - timedelta(minutes=5), Provenance(
            {"credential_report_generated": "2026-12-07T05:55:00.000Z"}),
            id="a fresh report: its time in the evidence, no note"),
        pytest.param(NOW - timedelta(hours=1), Provenance(
            {"credential_report_generated": "2026-12-07T05:00:00.000Z"}),
            id="exactly an hour old: still fresh"),
        pytest.param(NOW - timedelta(hours=3, minutes=30), Provenance(
            {"credential_report_generated": "2026-12-07T02:30:00.000Z"}, STALE),
            id="three and a half hours old: changes since may not show"),
        pytest.param(None, Provenance(), id="no generation time: nothing to say"),
    ],
)
def test_the_report_says_when_it_was_generated(generated: datetime | None,
                                               expected: Provenance) -> None:
    assert CredentialReport(generated, ()).provenance(NOW) == expected


def verdicts(generated: datetime, *, alice_mfa: bool = False) -> list[Any]:
    report = CredentialReport(generated, (user("alice", password=True, mfa=alice_mfa),
                                          user("bob", password=True, mfa=True)))
    facts = Facts.from_values({CREDENTIAL_REPORT: report}, now=NOW)
    return run_check(mfa.console_mfa, facts, Config())


@pytest.mark.parametrize("status", [Status.FAIL, Status.PASS])
def test_a_stale_report_is_named_in_every_verdict_of_a_check_that_read_it(
        status: Status) -> None:
    findings = verdicts(NOW - timedelta(hours=3, minutes=30),
                        alice_mfa=status is Status.PASS)
    assert {f.status for f in findings} == {status}
    for finding in findings:
        assert finding.message.endswith(STALE)
        assert finding.evidence["credential_report_generated"] == "2026-12-07T02:30:00.000Z"


def test_a_fresh_report_adds_its_time_and_no_note() -> None:
    findings = verdicts(NOW - timedelta(minutes=10))
    for finding in findings:
        assert "may not show yet" not in finding.message
        assert finding.evidence["credential_report_generated"] == "2026-12-07T05:50:00.000Z"


def test_the_fact_reads_the_generation_time_from_iam(aws: Any) -> None:
    aws.client("iam").create_user(UserName="alice")
    facts = Facts(AwsContext(session=aws), Config(), account_id="123456789012")
    report = facts.get(CREDENTIAL_REPORT)
    assert report.generated is not None
    # the test account's moto dates its report when it is read, as IAM would
    assert abs(report.generated - facts.now) < timedelta(minutes=1)
    assert report.provenance(facts.now).note == ""


def test_moto_left_alone_dates_its_report_2015_and_the_audit_says_so(aws: Any) -> None:
    from demo.account import moto_report_dated

    # undo the fixture's dating: moto's own GeneratedTime is 2015-02-02T20:02:02Z
    with moto_report_dated(lambda: datetime(2015, 2, 2, 20, 2, 2, tzinfo=UTC)):
        aws.client("iam").create_user(UserName="alice")
        facts = Facts(AwsContext(session=aws), Config(), account_id="123456789012", now=NOW)
        report = facts.get(CREDENTIAL_REPORT)
    assert report.generated == datetime(2015, 2, 2, 20, 2, 2, tzinfo=UTC)
    assert report.provenance(NOW).note.endswith("before this audit: changes made since may "
                                                "not show yet)")
