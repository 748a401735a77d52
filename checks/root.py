"""Root can do anything and cannot be restricted by policy. Its MFA and the absence of
root access keys are the two root facts an incident depends on.

Two sources, because each lacks something: the account summary says whether root has
MFA, a password and keys; the credential report's `<root_account>` row says the same
per credential. Either source reporting a root key is enough to fail."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.iam import ACCOUNT_SUMMARY, CREDENTIAL_REPORT
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check


def _root_arn(facts: Facts) -> str:
    return f"arn:aws:iam::{facts.account_id}:root"


@check(
    id="iam.root_mfa",
    title="Root has MFA, or has no password at all",
    severity=Severity.CRITICAL,
    requires=(ACCOUNT_SUMMARY, CREDENTIAL_REPORT),
    remediation=(
        "Sign in as root > Security credentials > Assign MFA device; or, in an Organization, "
        "enable centralized root access and delete the member account's root password"
    ),
    references=("CIS 1.4", "IAM.9"),
)
def root_mfa(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A root password without MFA turns one phishing mail into total loss."""
    summary = facts.get(ACCOUNT_SUMMARY)
    root = facts.get(CREDENTIAL_REPORT).root
    evidence = {
        "AccountMFAEnabled": str(summary.get("AccountMFAEnabled", "absent")),
        "AccountPasswordPresent": str(summary.get("AccountPasswordPresent", "absent")),
        "credential_report_root_mfa": str(root.mfa_active) if root else "no root row",
    }
    resource = _root_arn(facts)
    if summary.get("AccountMFAEnabled") == 1 or (root is not None and root.mfa_active):
        yield Outcome(Status.PASS, resource, "Root has MFA.", evidence=evidence)
    elif summary.get("AccountPasswordPresent") == 0 or (
        root is not None and root.password_enabled is False
    ):
        yield Outcome(Status.PASS, resource,
                      "Root has no password (centralized root access), so it cannot sign in.",
                      evidence=evidence)
    else:
        yield Outcome(Status.FAIL, resource, "Root can sign in with a password and no MFA.",
                      evidence=evidence)


@check(
    id="iam.root_access_keys",
    title="Root has no access keys",
    severity=Severity.CRITICAL,
    requires=(ACCOUNT_SUMMARY, CREDENTIAL_REPORT),
    remediation="Sign in as root > Security credentials > Access keys > Delete",
    references=("CIS 1.3", "IAM.4"),
)
def root_access_keys(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A leaked root key cannot be limited by any policy; it must not exist."""
    summary = facts.get(ACCOUNT_SUMMARY)
    root = facts.get(CREDENTIAL_REPORT).root
    active = [key.slot for key in root.active_keys] if root else []
    resource = _root_arn(facts)
    if summary.get("AccountAccessKeysPresent", 0) >= 1 or active:
        detail = f" (active key slot(s) {', '.join(map(str, active))})" if active else ""
        yield Outcome(Status.FAIL, resource, f"Root has access keys{detail}.",
                      evidence={"AccountAccessKeysPresent":
                                str(summary.get("AccountAccessKeysPresent", "absent"))})
    else:
        yield Outcome(Status.PASS, resource, "Root has no access keys.")
