"""A read that fails becomes one ERROR finding that names what is missing (the IAM
permission, or the error code), for every check of the catalogue; the rest of the audit
still runs. And the credential report is polled within a bounded wait."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from auditor.awsfacts.iam import ACCOUNT_SUMMARY, CREDENTIAL_REPORT
from auditor.config import AuditSettings, Config
from auditor.facts import FactError, Facts
from auditor.models import AuditRun, Status
from auditor.registry import Check, discover
from auditor.runner import run_check
from checks import mfa, root

CHECKS = list(discover(plugins=False))
ACCOUNT = "123456789012"


def denied(fact: Any) -> FactError:
    return FactError(fact.name, "AccessDenied", "User is not authorized", fact.permissions)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_a_denied_read_names_the_permission(check: Check) -> None:
    facts = Facts.from_values({fact: denied(fact) for fact in check.requires},
                              account_id=ACCOUNT)
    (finding,) = run_check(check, facts, facts.config)
    first = check.requires[0]
    assert finding.status is Status.ERROR
    assert finding.check_id == check.id
    if first.permissions:
        assert finding.message == f"access denied: needs {', '.join(first.permissions)}"
    else:  # the history store, not AWS
        assert finding.message.startswith(f"could not read {first.name}")


@pytest.mark.parametrize(
    "check", [c for c in CHECKS if CREDENTIAL_REPORT in c.requires], ids=lambda c: c.id)
def test_credential_report_denied_names_generate_credential_report(check: Check) -> None:
    values = {fact: denied(fact) if fact is CREDENTIAL_REPORT else {} for fact in check.requires}
    facts = Facts.from_values(values, account_id=ACCOUNT)
    (finding,) = run_check(check, facts, facts.config)
    assert finding.status is Status.ERROR
    assert "iam:GenerateCredentialReport" in finding.message


def test_an_error_other_than_a_denial_names_its_code() -> None:
    error = FactError("iam.account_summary", "ServiceUnavailable", "try again later",
                      ("iam:GetAccountSummary",))
    facts = Facts.from_values({ACCOUNT_SUMMARY: error, CREDENTIAL_REPORT: error})
    (finding,) = run_check(root.root_mfa, facts, facts.config)
    assert finding.message == (
        "could not read iam.account_summary (ServiceUnavailable: try again later)")


def test_denied_credential_report_in_moto_spares_the_other_checks(
        aws: Any, deny: Any, run_audit: Callable[..., AuditRun]) -> None:
    deny("iam", "GenerateCredentialReport")
    run = run_audit(only=("iam",))
    by_status: dict[str, list[str]] = {}
    for finding in run.findings:
        by_status.setdefault(finding.status.value, []).append(finding.check_id)
        if finding.status is Status.ERROR:
            assert finding.message == ("access denied: needs iam:GenerateCredentialReport, "
                                       "iam:GetCredentialReport")
    assert sorted(by_status["ERROR"]) == sorted(
        c.id for c in CHECKS if CREDENTIAL_REPORT in c.requires)
    assert by_status["PASS"] == ["iam.quarantine_policy"], "the other read still ran"


# -- the credential report's bounded wait ---------------------------------------------

def test_credential_report_never_ready_times_out(ctx: Any) -> None:
    from botocore.stub import Stubber

    config = replace(Config(), audit=AuditSettings(credential_report_timeout_seconds=1))
    iam = ctx.client("iam")
    polls: list[str] = []
    iam.meta.events.register("before-parameter-build.iam.GenerateCredentialReport",
                             lambda **_: polls.append("generate"))
    with Stubber(iam) as stub:
        for _ in range(20):
            stub.add_response("generate_credential_report",
                              {"State": "STARTED", "Description": "No report exists."})
        facts = Facts(ctx, config, account_id=ACCOUNT)
        (finding,) = run_check(mfa.console_mfa, facts, config)

    assert finding.status is Status.ERROR
    assert finding.message == (
        "could not read iam.credential_report (Timeout: the credential report was not ready "
        "within 1 s; run the audit again, or raise audit.credential_report_timeout_seconds)")
    assert 2 <= len(polls) < 20, "polled more than once, then gave up"


def test_credential_report_ready_after_polling(ctx: Any, aws: Any,
                                               live_facts: Callable[..., Facts]) -> None:
    aws.client("iam").create_user(UserName="someone")
    facts = live_facts()
    report = facts.get(CREDENTIAL_REPORT)  # moto answers STARTED, then COMPLETE
    assert [row.user for row in report.users] == ["someone"]
