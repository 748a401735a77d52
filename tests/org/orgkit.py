"""Names shared by the organization audit's tests: the management account, its trail's
bucket, and the accounts of the moto organization built by `conftest.organization`."""

from __future__ import annotations

from dataclasses import dataclass

MANAGEMENT = "123456789012"
TRAIL_BUCKET = "org-trail-123456789012"


@dataclass(frozen=True)
class Organization:
    ou: str
    nested_ou: str
    workload: str
    nested: str
    suspended: str
    no_role: str
    denied: str
