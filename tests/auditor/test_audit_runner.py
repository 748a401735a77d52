"""The runner never lets one check stop the audit: a failed read is an ERROR naming the
permission, a crash is an ERROR naming the exception, a check that yields nothing is an
ERROR, and `debug=True` re-raises instead. Waivers turn a FAIL into WAIVED until they
expire, and an expired waiver says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from auditor.config import AuditSettings, Config, Waiver
from auditor.facts import Fact, FactError, Facts
from auditor.models import Finding, Outcome, Severity, Status, WaiverState
from auditor.registry import Check, check
from auditor.runner import apply_waivers, run_audit, run_check

NEEDED: Fact[int] = Fact("test.needed", lambda _facts: 1, ("test:ReadNeeded",))
TODAY = date(2026, 3, 1)


def clock() -> datetime:
    return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@check(id="test.passing", title="Passes", severity=Severity.LOW, remediation="none")
def passing(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Always fine."""
    yield Outcome(Status.PASS, "account", "fine")


@check(id="test.failing", title="Fails", severity=Severity.HIGH, remediation="fix it",
       references=("CIS 9.9",))
def failing(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Two resources fail."""
    yield Outcome(Status.FAIL, "arn:aws:iam::123456789012:user/alice", "alice is bad")
    yield Outcome(Status.FAIL, "arn:aws:iam::123456789012:user/bob", "bob is bad")


@check(id="test.crashing", title="Crashes", severity=Severity.MEDIUM, remediation="none")
def crashing(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Has a bug."""
    yield {}["missing"]


@check(id="test.silent", title="Yields nothing", severity=Severity.MEDIUM, remediation="none")
def silent(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Forgot to yield."""
    yield from ()


@check(id="test.needs_fact", title="Needs a fact", severity=Severity.MEDIUM,
       remediation="none", requires=(NEEDED,))
def needs_fact(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Reads NEEDED."""
    yield Outcome(Status.PASS, "account", f"value {facts.get(NEEDED)}")


def denied_facts() -> Facts:
    return Facts.from_values({NEEDED: FactError("test.needed", "AccessDenied", "denied",
                                                ("test:ReadNeeded",))})


def test_a_crashed_check_is_an_error_and_the_others_still_run() -> None:
    run = run_audit(Facts.from_values({}), [crashing, passing, failing], Config(), clock=clock)

    by_check = {f.check_id: f for f in run.findings}
    assert by_check["test.crashing"].status is Status.ERROR
    assert by_check["test.crashing"].message == "check crashed: KeyError: 'missing'"
    assert by_check["test.passing"].status is Status.PASS
    assert [f.status for f in run.findings if f.check_id == "test.failing"] == [Status.FAIL] * 2


def test_a_check_that_yields_nothing_is_an_error() -> None:
    [finding] = run_check(silent, Facts.from_values({}), Config())
    assert (finding.status, finding.message) == (Status.ERROR,
                                                 "check crashed: it returned no result")


def test_a_denied_fact_is_an_error_naming_the_permission() -> None:
    [finding] = run_check(needs_fact, denied_facts(), Config())
    assert finding.status is Status.ERROR
    assert finding.message == "access denied: needs test:ReadNeeded"
    assert finding.severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("chk", "facts", "error"),
    [
        pytest.param(crashing, Facts.from_values({}), KeyError, id="crash"),
        pytest.param(needs_fact, denied_facts(), FactError, id="denied fact"),
    ],
)
def test_debug_reraises(chk: Check, facts: Facts, error: type[Exception]) -> None:
    with pytest.raises(error):
        run_check(chk, facts, Config(), debug=True)


def test_findings_carry_what_the_check_declares() -> None:
    [alice, _bob] = run_check(failing, Facts.from_values({}, account_id="123456789012"),
                              Config())
    assert (alice.check_id, alice.title, alice.severity, alice.remediation, alice.references,
            alice.account_id, alice.region) == (
        "test.failing", "Fails", Severity.HIGH, "fix it", ("CIS 9.9",), "123456789012", "global")


def waived(*waivers: Waiver) -> dict[str, Finding]:
    findings = run_check(failing, Facts.from_values({}), Config())
    return {f.resource.rsplit("/", 1)[1]: f for f in apply_waivers(findings, waivers, TODAY)}


def test_a_live_waiver_turns_a_fail_into_waived() -> None:
    result = waived(Waiver(check="test.failing", reason="break-glass user",
                           expires=date(2026, 6, 30), resource="*/alice"))
    assert result["alice"].status is Status.WAIVED
    assert result["alice"].waiver == WaiverState("break-glass user", date(2026, 6, 30))
    assert result["bob"].status is Status.FAIL


def test_a_waiver_expiring_today_still_applies() -> None:
    result = waived(Waiver(check="test.failing", reason="r", expires=TODAY))
    assert {name: f.status for name, f in result.items()} == {"alice": Status.WAIVED,
                                                              "bob": Status.WAIVED}


def test_an_expired_waiver_stops_applying_and_says_so() -> None:
    result = waived(Waiver(check="test.failing", reason="old exception",
                           expires=date(2026, 2, 28), resource="*/alice"))
    assert result["alice"].status is Status.FAIL
    assert result["alice"].message == "alice is bad (waiver expired on 2026-02-28)"
    assert result["alice"].waiver == WaiverState("old exception", date(2026, 2, 28),
                                                 applies=False)
    assert result["alice"].waived_by is None
    assert result["bob"].message == "bob is bad"


def test_a_waiver_for_another_check_does_not_apply() -> None:
    result = waived(Waiver(check="test.other", reason="r", expires=date(2027, 1, 1)))
    assert {f.status for f in result.values()} == {Status.FAIL}


def test_passing_findings_are_never_waived() -> None:
    findings = run_check(passing, Facts.from_values({}), Config())
    [finding] = apply_waivers(findings, [Waiver(check="test.passing", reason="r",
                                                expires=date(2027, 1, 1))], TODAY)
    assert finding.status is Status.PASS


def test_a_waiver_never_turns_an_error_into_waived() -> None:
    errors = run_check(crashing, Facts.from_values({}), Config())
    assert {f.status for f in errors} == {Status.ERROR}
    [finding] = apply_waivers(errors, [Waiver(check=crashing.id, reason="r",
                                              expires=date(2027, 1, 1), resource="*")], TODAY)
    assert (finding.status, finding.waiver) == (Status.ERROR, None)


def test_the_run_is_stamped_by_its_clock_and_config_waivers_apply() -> None:
    config = replace(Config(), waivers=(Waiver(check="test.failing", reason="r",
                                               expires=date(2026, 3, 2)),))
    run = run_audit(Facts.from_values({}), [failing], config, clock=clock)
    assert run.started_at == clock() == run.finished_at
    assert {f.status for f in run.findings} == {Status.WAIVED}


def test_checks_run_side_by_side_and_findings_keep_their_order() -> None:
    together = threading.Barrier(2, timeout=10)  # breaks unless both checks run at once

    def waiting(name: str) -> Check:
        @check(id=f"test.{name}", title=name, severity=Severity.LOW, remediation="none")
        def run(facts: Facts, config: Config) -> Iterator[Outcome]:
            """Waits for the other check."""
            together.wait()
            yield Outcome(Status.PASS, name, "met the other check")

        return run

    checks = [waiting("zeta"), waiting("alpha")]
    run = run_audit(Facts.from_values({}), checks, replace(Config(), audit=AuditSettings(
        max_workers=2)), clock=clock)

    assert [f.check_id for f in run.findings] == ["test.zeta", "test.alpha"]
    assert {f.status for f in run.findings} == {Status.PASS}
