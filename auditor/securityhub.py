"""`irready audit --security-hub`: the audit's one write. Its findings (auditor/asff.py)
go to Security Hub with BatchImportFindings, from the audited account's own session
(Security Hub takes a custom integration's findings only from the account they are
about), into each finding's region, 100 per call (the API's limit).

A region that refuses them (AccessDenied, Security Hub not enabled there, findings
rejected one by one in FailedFindings) is reported as one line naming the region and
the permission; the other regions are still imported. An organization run calls
`import_findings` once per account, with that account's context."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.asff import region_of
from auditor.session import error_code, is_access_denied

if TYPE_CHECKING:
    from auditor.session import AwsContext

PERMISSION = "securityhub:BatchImportFindings"
BATCH_SIZE = 100  # BatchImportFindings takes 1 to 100 findings


@dataclass(frozen=True, slots=True)
class RegionImport:
    """How one region's findings went: how many were sent and imported, and why the
    rest were not ("" when every one was)."""

    region: str
    sent: int
    imported: int
    problem: str = ""

    @property
    def line(self) -> str:
        """The one line a user reads about this region."""
        if not self.problem:
            return f"{self.region}: {self.imported} imported"
        missing = self.sent - self.imported
        return (f"--security-hub: {self.region}: {missing} of {self.sent} finding"
                f"{'' if self.sent == 1 else 's'} not imported: {self.problem}")


@dataclass(frozen=True, slots=True)
class ImportReport:
    account_id: str
    regions: tuple[RegionImport, ...]

    @property
    def complete(self) -> bool:
        return all(not region.problem for region in self.regions)

    @property
    def imported(self) -> int:
        return sum(region.imported for region in self.regions)

    def problems(self) -> list[str]:
        return [region.line for region in self.regions if region.problem]

    def summary(self) -> str:
        """What went where, for stderr: "imported 12 findings into Security Hub of
        123456789012 (eu-west-1: 4 imported, us-east-1: 8 imported)"."""
        where = ", ".join(region.line for region in self.regions if not region.problem)
        noun = "finding" if self.imported == 1 else "findings"
        return (f"imported {self.imported} {noun} into Security Hub of {self.account_id}"
                + (f" ({where})" if where else ""))


def by_region(findings: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        grouped.setdefault(region_of(finding), []).append(finding)
    return dict(sorted(grouped.items()))


def batches(findings: Sequence[Mapping[str, Any]], size: int = BATCH_SIZE
            ) -> Iterator[Sequence[Mapping[str, Any]]]:
    for start in range(0, len(findings), size):
        yield findings[start:start + size]


def import_findings(ctx: AwsContext, account_id: str, findings: Sequence[Mapping[str, Any]]
                    ) -> ImportReport:
    """Import `findings` (ASFF, all of `account_id`, the account `ctx` signs for) into
    Security Hub, region by region. Never raises for AWS's answers: each region's
    outcome is in the report."""
    foreign = {str(f["AwsAccountId"]) for f in findings} - {account_id}
    if foreign:
        raise ValueError(f"findings of {sorted(foreign)} cannot be imported from "
                         f"{account_id}: each account imports its own")
    return ImportReport(account_id, tuple(
        _import_region(ctx, region, batch) for region, batch in by_region(findings).items()))


def _import_region(ctx: AwsContext, region: str, findings: Sequence[Mapping[str, Any]]
                   ) -> RegionImport:
    client = ctx.client("securityhub", region)
    imported = 0
    rejected: list[Mapping[str, Any]] = []
    for batch in batches(findings):
        try:
            response = client.batch_import_findings(Findings=list(batch))
        except Exception as exc:  # noqa: BLE001 - reported as this region's problem
            # the remaining batches would meet the same refusal: stop here
            return RegionImport(region, len(findings), imported, refusal(exc, region))
        imported += int(response.get("SuccessCount", 0))
        rejected += response.get("FailedFindings", [])
    if rejected:
        first = rejected[0]
        code = str(first.get("ErrorCode", "error"))
        if code in NOT_ENABLED:
            return RegionImport(region, len(findings), imported, not_enabled(code, region))
        return RegionImport(region, len(findings), imported,
                            f"{code}: {first.get('ErrorMessage', '')} "
                            f"(finding {first.get('Id', '?')}; {len(rejected)} rejected by "
                            f"{PERMISSION} in {region})")
    return RegionImport(region, len(findings), imported)


# Security Hub not enabled in a region: AWS documents FailedFindings with InvalidAccess;
# the call itself may also fail with InvalidAccessException ("not subscribed").
NOT_ENABLED = frozenset({"InvalidAccess", "InvalidAccessException"})


def not_enabled(code: str, region: str) -> str:
    return (f"Security Hub is not enabled in {region} ({code}): enable it there; "
            f"importing also needs {PERMISSION}")


def refusal(exc: Exception, region: str) -> str:
    """Why a region refused the import, and what to do about it, in one line."""
    code = error_code(exc)
    if code in NOT_ENABLED:
        return not_enabled(code, region)
    if is_access_denied(exc):
        return f"{code}: grant {PERMISSION} in {region} (`irready policy securityhub`)"
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{code}: {message}; importing needs {PERMISSION} in {region}"
