"""A phished console password is the other way keys leak: whoever logs in as a user can
create keys for it. MFA on every console user closes that door."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.iam import CREDENTIAL_REPORT
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check


@check(
    id="iam.console_mfa",
    title="Every IAM user with a console password has MFA",
    severity=Severity.HIGH,
    plain=(
        "{n} console login(s) are protected by a password alone: one phished password is "
        "enough to take over and create new keys."
    ),
    requires=(CREDENTIAL_REPORT,),
    remediation=(
        "IAM console > Users > USER > Security credentials > Assign MFA device "
        "(or: aws iam delete-login-profile --user-name USER if the user needs no console)"
    ),
    references=("CIS 1.9", "IAM.5"),
)
def console_mfa(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Users whose password was removed are not console users and are not flagged."""
    console_users = [row for row in facts.get(CREDENTIAL_REPORT).users if row.password_enabled]
    missing = [row for row in console_users if not row.mfa_active]
    for row in missing:
        yield Outcome(Status.FAIL, row.arn or row.user,
                      f"{row.user} can sign in to the console without MFA.")
    if not missing:
        yield Outcome(Status.PASS, "account",
                      f"All {len(console_users)} console user(s) have MFA.")
