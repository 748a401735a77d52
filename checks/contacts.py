"""AWS sends its "irregular activity detected" mail to the account's contacts. If the
security contact is unset, the warning goes to whoever opened the account years ago."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.account import ALTERNATE_CONTACTS, CONTACT_TYPES
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check


@check(
    id="account.alternate_contacts",
    title="Security, operations and billing contacts are set",
    severity=Severity.HIGH,
    plain=(
        "{n} of AWS's contact slots (security, operations, billing) are empty: AWS's "
        "warning about a leaked key may not reach the right people."
    ),
    requires=(ALTERNATE_CONTACTS,),
    remediation=(
        "aws account put-alternate-contact --alternate-contact-type TYPE (SECURITY, "
        "OPERATIONS or BILLING: the one the finding names) --name NAME --email-address "
        "team@example.com --phone-number +1-555-0100 --title TITLE"
    ),
    references=("CIS 1.2", "Account.1"),
)
def alternate_contacts(facts: Facts, config: Config) -> Iterator[Outcome]:
    """One finding per type: a missing security contact is high, the others medium. A
    contact without an email address is as good as none: AWS's warnings go by email."""
    contacts = facts.get(ALTERNATE_CONTACTS)
    for kind in CONTACT_TYPES:
        severity = Severity.HIGH if kind == "SECURITY" else Severity.MEDIUM
        contact = contacts.get(kind)
        resource = f"alternate-contact/{kind}"
        if contact is None:
            yield Outcome(Status.FAIL, resource, f"No {kind.lower()} contact is set.",
                          severity=severity)
        elif not contact.email.strip():
            yield Outcome(Status.FAIL, resource,
                          f"The {kind.lower()} contact {contact.name} has no email address.",
                          severity=severity)
        else:
            yield Outcome(Status.PASS, resource,
                          f"{kind.capitalize()} contact: {contact.name} <{contact.email}>.",
                          severity=severity)
