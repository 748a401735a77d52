"""`irready audit --org` against a moto organization: every active account audited (its
own run stored), the suspended one skipped with a note, the two whose role cannot be
assumed ERROR with the reason, the organization trail counted in each member, the exit
code the worst over the accounts, and the roll-up's figures read back from the JSON and
from the history store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clikit import irready
from orgkit import MANAGEMENT, Organization

from auditor.errors import ExitCode
from auditor.store import HistoryStore
ORG_AUDIT = ("audit", "--org", "--regions", "us-east-1", "--format", "json")


def history(tmp_path: Path) -> HistoryStore:
    return HistoryStore(tmp_path / "xdg-data" / "irready" / "history.sqlite3")


def by_account(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["account_id"]: item for item in document["accounts"]}


def test_every_account_is_audited_or_says_why(organization: Organization, tmp_path: Path
                                               ) -> None:
    result = irready(*ORG_AUDIT, "--check", "cloudtrail", "--fail-on", "medium")
    print(result.stdout, result.stderr)

    # two accounts could not be audited: the run is incomplete (4), not failed (3)
    document = json.loads(result.stdout)
    accounts = by_account(document)
    assert document["schema"] == "irready.org-audit/1"
    assert document["complete"] is False
    assert result.exit_code == ExitCode.INCOMPLETE, result.stderr
    assert document["summary"] == {"accounts": 6, "audited": 3, "errors": 2, "skipped": 1,
                                   "blocking_four_hours": 3}
    assert {k for k, v in accounts.items() if v["state"] == "AUDITED"} == {
        MANAGEMENT, organization.workload, organization.nested}
    assert accounts[organization.suspended]["state"] == "SKIPPED"
    assert accounts[organization.suspended]["reason"] == "suspended: not audited"
    no_role = accounts[organization.no_role]
    assert no_role["state"] == "ERROR"
    assert no_role["reason"].startswith(
        f"could not assume arn:aws:iam::{organization.no_role}:role/irready-audit "
        "(AccessDenied): the role is missing, does not trust this account")
    assert accounts[organization.denied]["state"] == "ERROR"
    assert accounts[MANAGEMENT]["via"] == "own credentials"
    assert accounts[organization.workload]["via"] == (
        f"arn:aws:iam::{organization.workload}:role/irready-audit")
