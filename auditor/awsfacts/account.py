"""Account-wide facts: the regions to audit, the Organization, alternate contacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.errors import UsageError
from auditor.facts import FactError, Facts, fact
from auditor.session import error_code, partition_regions

if TYPE_CHECKING:
    from auditor.session import AwsContext

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


def not_a_region(name: str, known: frozenset[str]) -> str:
    """The one line for a name that is no AWS region at all, with the closest real ones
    (fewest typed characters away: us-eest-1 is one from us-east-1 and from us-west-1,
    and naming only one would be a guess)."""
    distances = {region: _edits(name, region) for region in known}
    best = min(distances.values(), default=3)
    close = sorted(region for region, far in distances.items() if far == best)[:3]
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if best <= 2 else ""
    return f"{name!r} is not an AWS region{hint}"


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def refuse_unknown_regions(ctx: AwsContext, regions: Sequence[str], where: str) -> None:
    """A name that is not a region at all (a typo such as us-eest-1) is a usage error
    before anything is read or stored: left to the audit, it would make every regional
    check ERROR. A name is a region if botocore's partition data knows it, or else if
    EC2 DescribeRegions with AllRegions lists it (a region newer than botocore). When
    that cannot be asked, an unusable setup shows as such (exit 3), and otherwise
    botocore's data decides. A real region that is not enabled passes here: the REGIONS
    fact turns it into one ERROR naming it."""
    if not regions:  # every enabled region: nothing to look up
        return
    known = partition_regions()
    unknown = [name for name in dict.fromkeys(regions) if name not in known]
    if not unknown:
        return
    try:
        response = ctx.client("ec2").describe_regions(AllRegions=True)
    except Exception:  # noqa: BLE001 - cannot ask: botocore's data decides
        ctx.identity()  # no credentials, endpoint unreachable: exit 3, as usual
    else:
        listed = frozenset(region["RegionName"] for region in response["Regions"])
        known |= listed
        unknown = [name for name in unknown if name not in listed]
    if unknown:
        raise UsageError(f"{where}: {not_a_region(unknown[0], known)}")


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
