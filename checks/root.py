"""Root can do anything and cannot be restricted by policy. Its MFA and the absence of
root access keys are the two root facts an incident depends on.

Two sources, read the way real AWS fills them:
- The account summary (`GetAccountSummary`) is the authority: `AccountMFAEnabled`,
  `AccountPasswordPresent` (0 once centralized root access removed the root password)
  and `AccountAccessKeysPresent` (counts inactive keys too).
- The credential report's `<root_account>` row has `mfa_active` and both key slots, but
  its `password_enabled` is always `not_supported` for root: it never says whether root
  has a password. It is used only when it says something explicit ("true"/"false").
Root MFA passes when either source shows MFA, or when root has no password. When
neither source can say that root has no password (an older endpoint without
`AccountPasswordPresent`, no root row), root is assumed to have one: a guess that
fails loudly is safer than one that passes quietly. A root key reported by either
source fails, active or not (CIS 1.3: no root access key should exist)."""

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
    plain=(
        "The account's all-powerful root login is protected by a password alone."
    ),
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
    plain=(
        "The all-powerful root login has access keys, which can leak like any other key."
    ),
    requires=(ACCOUNT_SUMMARY, CREDENTIAL_REPORT),
    remediation="Sign in as root > Security credentials > Access keys > Delete",
    references=("CIS 1.3", "IAM.4"),
)
def root_access_keys(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A leaked root key cannot be limited by any policy; it must not exist."""
    summary = facts.get(ACCOUNT_SUMMARY)
    root = facts.get(CREDENTIAL_REPORT).root
    # a slot holds a key when it is active or has a creation date (an inactive key)
    slots = [key for key in root.keys if key.active or key.last_rotated] if root else []
    counted = summary.get("AccountAccessKeysPresent", 0)
    evidence = {"AccountAccessKeysPresent": str(summary.get("AccountAccessKeysPresent",
                                                            "absent")),
                "credential_report_root_keys": ", ".join(
                    f"slot {k.slot} {'active' if k.active else 'inactive'}" for k in slots
                ) or ("none" if root else "no root row")}
    resource = _root_arn(facts)
    if counted >= 1 or slots:
        detail = ", ".join(f"key {k.slot} {'active' if k.active else 'inactive'}"
                           for k in slots)
        yield Outcome(Status.FAIL, resource,
                      f"Root has access keys{f' ({detail})' if detail else ''}.",
                      evidence=evidence)
    else:
        yield Outcome(Status.PASS, resource, "Root has no access keys.", evidence=evidence)
