"""What the organization audit changes in the checks: an account with no active access
key has no key to rotate or to look for (drill.recent and drill.detect_recent
NOT_APPLICABLE, but only when the credential report proves it), and each account is
judged by the inventory entries and waivers whose `account` glob matches it."""

from __future__ import annotations

from datetime import date

import pytest
from factbuilders import evaluate, key, only, report, user

from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.awsfacts.local import DETECT_DRILLS, DRILLS
from auditor.config import Config, InventoryEntry, Waiver
from auditor.facts import FactError
from auditor.models import Status
from checks import drills


@pytest.mark.parametrize(
    ("credential_report", "expected", "message"),
    [
        pytest.param(report(user("deployer", keys=(key(active=False),))),
                     Status.NOT_APPLICABLE,
                     "No IAM user of this account has an active access key: there is no key "
                     "to rotate.",
                     id="only inactive keys: nothing to rotate"),
        pytest.param(report(), Status.NOT_APPLICABLE,
                     "No IAM user of this account has an active access key: there is no key "
                     "to rotate.",
                     id="no IAM user at all: a member account run by roles"),
        pytest.param(report(user("deployer", keys=(key(),))), Status.FAIL,
                     "No successful rotation drill is recorded for this account.",
                     id="one active key and no drill: FAIL as before"),
        pytest.param(FactError("iam.credential_report", "AccessDenied", "denied"), Status.FAIL,
                     "No successful rotation drill is recorded for this account.",
                     id="an unreadable report proves no absence of keys"),
    ],
)
def test_drill_recent_without_access_keys(credential_report: object, expected: Status,
                                          message: str) -> None:
    finding = only(evaluate(drills.recent, {DRILLS: (), CREDENTIAL_REPORT: credential_report}))
    assert (finding.status, finding.message) == (expected, message)


@pytest.mark.parametrize(
    ("credential_report", "expected", "message"),
    [
        pytest.param(report(), Status.NOT_APPLICABLE,
                     "No IAM user of this account has an active access key: there is no key "
                     "whose calls to look for.",
                     id="no IAM user at all: no key whose calls to look for"),
        pytest.param(report(user("deployer", keys=(key(),))), Status.FAIL,
                     "No detection drill is recorded for this account: nothing shows that "
                     "a key's calls reach the logs.",
                     id="one active key and no detection drill: FAIL"),
        pytest.param(FactError("iam.credential_report", "AccessDenied", "denied"), Status.FAIL,
                     "No detection drill is recorded for this account: nothing shows that "
                     "a key's calls reach the logs.",
                     id="an unreadable report: the detection drill is judged as ever"),
    ],
)
def test_detect_recent_without_access_keys(credential_report: object, expected: Status,
                                           message: str) -> None:
    finding = only(evaluate(drills.detect_recent,
                            {DETECT_DRILLS: (), CREDENTIAL_REPORT: credential_report}))
    assert (finding.status, finding.message) == (expected, message)


def test_each_account_sees_its_own_inventory_and_waivers() -> None:
    everywhere = InventoryEntry(user="ci", owner="o", rotation_target="env:CI")
    payments = InventoryEntry(user="app", owner="o", rotation_target="env:APP",
                              account="1111*")
    other = InventoryEntry(user="app", owner="o", rotation_target="env:OTHER",
                           account="2222*")
    waiver = Waiver(check="iam.console_mfa", reason="r", expires=date(2099, 1, 1),
                    account="111122223333")
    config = Config(inventory=(everywhere, payments, other), waivers=(waiver,))

    assert config.for_account("111122223333").inventory == (everywhere, payments)
    assert config.for_account("111122223333").waivers == (waiver,)
    assert config.for_account("222233334444").inventory == (everywhere, other)
    assert config.for_account("222233334444").waivers == ()
    plain = Config(inventory=(everywhere,))
    assert plain.for_account("123456789012") is plain
