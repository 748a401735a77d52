"""Account-wide facts: the regions to audit, the Organization, alternate contacts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditor.facts import Facts, fact
from auditor.session import error_code

CONTACT_TYPES = ("SECURITY", "OPERATIONS", "BILLING")


@fact("ec2.regions", "ec2:DescribeRegions")
def REGIONS(facts: Facts) -> tuple[str, ...]:
    """Regions enabled for the account, unless config or --regions narrows them."""
    configured = facts.config.audit.regions
    if configured:
        return tuple(configured)
    response = facts.aws.client("ec2").describe_regions(AllRegions=False)
    return tuple(sorted(region["RegionName"] for region in response["Regions"]))


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    management_account_id: str


@fact("organizations.organization", "organizations:DescribeOrganization")
def ORGANIZATION(facts: Facts) -> Organization | None:
    """None outside an Organization."""
    client = facts.aws.client("organizations")
    try:
        org = client.describe_organization()["Organization"]
    except Exception as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            return None
        raise
    return Organization(id=org["Id"], management_account_id=org["MasterAccountId"])


@dataclass(frozen=True, slots=True)
class Contact:
    type: str
    name: str
    email: str
    phone: str


@fact("account.alternate_contacts", "account:GetAlternateContact")
def ALTERNATE_CONTACTS(facts: Facts) -> Mapping[str, Contact | None]:
    client = facts.aws.client("account")
    contacts: dict[str, Contact | None] = {}
    for kind in CONTACT_TYPES:
        try:
            found = client.get_alternate_contact(AlternateContactType=kind)["AlternateContact"]
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                contacts[kind] = None
                continue
            raise
        contacts[kind] = Contact(
            type=kind,
            name=found.get("Name", ""),
            email=found.get("EmailAddress", ""),
            phone=found.get("PhoneNumber", ""),
        )
    return contacts
