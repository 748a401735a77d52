"""Account-wide facts: the regions to audit, the Organization, alternate contacts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditor.facts import FactError, Facts, fact
from auditor.session import error_code

CONTACT_TYPES = ("SECURITY", "OPERATIONS", "BILLING")


@fact("ec2.regions", "ec2:DescribeRegions")
def REGIONS(facts: Facts) -> tuple[str, ...]:
    """Regions enabled for the account (opted in, or needing no opt-in), unless config or
    --regions narrows them. Narrowed regions are checked against the enabled ones: a
    region not opted in answers every call with an invalid-token error and a typo has no
    endpoint, so each regional check would fail on its own with a puzzling code."""
    configured = tuple(dict.fromkeys(facts.config.audit.regions))  # a region listed twice
    try:
        response = facts.aws.client("ec2").describe_regions(AllRegions=False)
    except Exception:
        if configured:
            return tuple(configured)  # cannot verify them; the configured list stands
        raise
    enabled = sorted(region["RegionName"] for region in response["Regions"])
    if not configured:
        return tuple(enabled)
    missing = [region for region in configured if region not in enabled]
    if missing:
        raise FactError("ec2.regions", "RegionNotEnabled",
                        f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                        "enabled for this account: opt in to it, or remove it from "
                        "--regions / audit.regions")
    return tuple(configured)


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
