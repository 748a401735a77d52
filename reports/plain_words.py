"""What each failing check means for the business, in words a manager reads without a
glossary. The executive summary of the compliance report names the three biggest
risks with these sentences; a check this table does not know (a third-party check)
falls back to its title."""

from __future__ import annotations

from collections.abc import Mapping

# {n} is the number of affected resources (users, regions, contact types, ...)
RISKS: Mapping[str, str] = {
    "cloudtrail.enabled":
        "Nothing records what is done in the account: after a leaked key we could not "
        "tell what the attacker did.",
    "cloudtrail.multi_region":
        "Activity in most regions is not recorded: an attacker working in a region we do "
        "not log would leave no trace.",
    "cloudtrail.org_trail":
        "No central trail covers every account of the organization: a new account would "
        "start without logs.",
    "cloudtrail.log_validation":
        "We could not prove that the logs were not altered after the fact.",
    "cloudtrail.bucket_retention":
        "Logs are deleted too early: leaks are often found months later, when the "
        "evidence would already be gone.",
    "cloudtrail.bucket_access_logging":
        "Nobody would see who read or deleted the log files themselves.",
    "athena.cloudtrail_table":
        "The logs cannot be searched yet: during an incident the first hours would go "
        "into setting up the search.",
    "iam.console_mfa":
        "{n} console login(s) are protected by a password alone: one phished password "
        "is enough to take over and create new keys.",
    "iam.root_mfa":
        "The account's all-powerful root login is protected by a password alone.",
    "iam.root_access_keys":
        "The all-powerful root login has access keys, which can leak like any other key.",
    "iam.access_key_age":
        "{n} user(s) hold keys older than our rotation policy allows: old keys have been "
        "copied to more places and are more likely to leak.",
    "iam.unused_access_keys":
        "{n} user(s) hold keys that nobody uses: risk with no benefit, and a misuse would "
        "go unnoticed.",
    "iam.quarantine_policy":
        "AWS has already found one of our keys exposed in public: an incident is open "
        "now.",
    "account.alternate_contacts":
        "{n} of AWS's contact slots (security, operations, billing) are empty: AWS's "
        "warning about a leaked key may not reach the right people.",
    "guardduty.enabled":
        "AWS's threat detection is off in {n} region(s): suspicious use of a key there "
        "would go unnoticed.",
    "iam.key_inventory":
        "{n} user(s) hold keys with no known owner or place to rotate them: replacing "
        "those keys after a leak would be guesswork.",
    "drill.recent":
        "Key rotation has not been rehearsed recently and successfully: nobody knows "
        "how long it would really take.",
}


def risk_sentence(check_id: str, title: str, affected: int) -> str:
    template = RISKS.get(check_id)
    if template is None:
        return f"Not yet true: {title.rstrip('.')} ({affected} affected)."
    return template.replace("{n}", str(affected))
