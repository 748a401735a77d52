"""`irready report compliance --org`: the organization edition of the compliance report,
from a real organization run under moto (the management account, two members audited
through their role, one suspended, two whose role cannot be assumed). The PDF is read
back with pdftotext and its figures are held against the organization run's JSON
(`report audit --org --format json`) and the accounts' stored runs: an account that
could not be audited shows why and no score, and the organization score says how many
accounts it covers."""

from __future__ import annotations

import html
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clikit import irready
from orgkit import MANAGEMENT, Organization

from auditor.errors import ExitCode
from auditor.models import AuditRun, Severity, Status, check_statuses
from auditor.store import HistoryStore

APP_USER = "app-user"


@dataclass(frozen=True)
class OrgRun:
    document: dict[str, Any]  # `irready report audit --org --format json`
    runs: dict[str, AuditRun]  # each audited account's stored run
    secret: str  # the secret access key of the key the management account holds
    history: Path


@pytest.fixture
def org_run(organization: Organization, aws: Any, tmp_path: Path) -> OrgRun:
    created = aws.client("iam")
    created.create_user(UserName=APP_USER)
    secret = created.create_access_key(UserName=APP_USER)["AccessKey"]["SecretAccessKey"]
    audited = irready("audit", "--org", "--regions", "us-east-1", "--format", "json")
    assert audited.exit_code == ExitCode.FAILED, audited.stderr
    shown = irready("report", "audit", "--org", "--format", "json")
    assert shown.exit_code == ExitCode.OK, shown.stderr
    document = json.loads(shown.stdout)
    history = tmp_path / "xdg-data" / "irready" / "history.sqlite3"
    with HistoryStore(history) as store:
        runs = {item["account_id"]: store.load_run(item["run_id"])
                for item in document["accounts"] if item["state"] == "AUDITED"}
    return OrgRun(document, runs, secret, history)


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext lays it out: one table row to a line."""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def words(text: str) -> str:
    return " ".join(text.split())


def expected_row(item: dict[str, Any], run: AuditRun) -> list[str]:
    """The accounts table's cells for an audited account, from the JSON and its run."""
    failed = run.failed()
    per_severity = [str(sum(1 for f in failed if f.severity is severity))
                    for severity in sorted(Severity, reverse=True)]
    assert sum(map(int, per_severity)) == item["failed"]
    return [item["account_id"], item["name"], f"{item['score']:.1f}", *per_severity,
            str(item["summary"]["ERROR"]), "run", str(item["run_id"])]


def org_score(document: dict[str, Any]) -> str:
    scores = [item["score"] for item in document["accounts"] if item["state"] == "AUDITED"]
    return f"{round(sum(scores) / len(scores), 1):.0f}/100"


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def control_counts(runs: dict[str, AuditRun], check_id: str) -> list[str]:
    """fail, pass, error and other accounts, and the affected resources, of one check."""
    statuses = [check_statuses(run.findings).get(check_id, (None, None))[0]
                for run in runs.values()]
    findings = [f for run in runs.values() for f in run.findings if f.check_id == check_id]
    affected = sum(1 for f in findings if f.status in (Status.FAIL, Status.ERROR))
    counted = [statuses.count(Status.FAIL), statuses.count(Status.PASS),
               statuses.count(Status.ERROR)]
    return [*map(str, counted), str(len(statuses) - sum(counted)), str(affected), "of",
            str(len(findings))]


@pytest.mark.pdf
def test_the_organization_edition_shows_every_account_or_why_not(
        org_run: OrgRun, organization: Organization, tmp_path: Path) -> None:
    output = tmp_path / "org-compliance.pdf"

    result = irready("report", "compliance", "--org", "--output", output)

    assert result.exit_code == ExitCode.OK, result.stderr
    assert result.stderr == f"wrote {output}\n"
    text = pdf_text(output)
    flat = words(text)
    document = org_run.document
    assert document["summary"] == {"accounts": 6, "audited": 3, "errors": 2, "skipped": 1,
                                   "blocking_four_hours": 1}
    # the cover
    assert "Leaked-key readiness report: organization edition" in flat
    assert f"Management account {MANAGEMENT}" in flat
    assert f"Organization run {document['org_run_id']}, {document['started_at'][:10]}" in flat
    assert "Accounts audited 3 of 6" in flat
    # the accounts page: each audited account's figures as the JSON and its run have them
    lines = text.splitlines()
    accounts = {item["account_id"]: item for item in document["accounts"]}
    for account_id, run in org_run.runs.items():
        row = next(line for line in lines if line.startswith(account_id))
        assert row.split() == expected_row(accounts[account_id], run)
    # an account that could not be audited says why, and shows no score
    for account_id in (organization.no_role, organization.denied):
        row = next(line for line in lines if line.startswith(account_id))
        assert "not audited: could not assume" in row
        assert not re.search(r"\d+\.\d", row)
    assert f"{organization.suspended} suspended skipped: suspended: not audited" in flat
    # the organization score covers the audited accounts only, and says so
    assert org_score(document) in flat
    assert ("The score covers 3 of 6 accounts (2 could not be audited, 1 skipped). An account "
            "that could not be audited has no score: it is left out, not counted as passing."
            ) in flat
    # the four-hour answer: never yes while an account could not be audited
    four_hours = words(between(text, "Could we rotate every key within 4 hours",
                               "The biggest risks"))
    assert "We cannot say yet." in four_hours
    management = accounts[MANAGEMENT]["four_hours"]
    assert management["within"] is None
    assert f"{MANAGEMENT} master cannot say: {management['reason']}" in four_hours
    for account_id in (organization.no_role, organization.denied):
        assert f"{account_id} {accounts[account_id]['name']} not audited" in four_hours
    # the worst findings across the organization, as the JSON lists them
    worst = words(between(text, "The worst findings across the organization",
                          "Controls across the organization"))
    first = document["worst_findings"][0]
    assert f"{first['severity']} {first['account_id']} {first['check_id']}" in worst
    # the controls across the organization: accounts failing, passing, in error, other
    for check_id in ("iam.key_inventory", "iam.root_mfa", "cloudtrail.bucket_access_logging"):
        row = next(line for line in lines if f" {check_id} " in f"{line} "
                   and line.lstrip().startswith(("FAIL", "PASS", "ERROR")))
        assert row.split()[-7:] == control_counts(org_run.runs, check_id)
    assert "What to fix" in flat
    # the key's secret is in no artifact
    for artifact in (output.read_bytes(), text.encode(), result.stdout.encode(),
                     org_run.history.read_bytes()):
        assert org_run.secret.encode() not in artifact


def test_the_organization_edition_as_html_for_a_named_run(
        org_run: OrgRun, organization: Organization, tmp_path: Path) -> None:
    output = tmp_path / "org-report"  # no suffix: --format says what it is
    document = org_run.document

    result = irready("report", "compliance", "--org", "--run", str(document["org_run_id"]),
                     "--format", "html", "--output", output)

    assert result.exit_code == ExitCode.OK, result.stderr
    page = output.read_text()
    assert page.startswith("<!DOCTYPE html>")
    rows = {}
    for row in page.split("<tr>")[1:]:
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                 for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) > 2 and re.fullmatch(r"\d{12}", cells[0]):
            rows.setdefault(cells[0], cells)  # the accounts table comes first
    accounts = {item["account_id"]: item for item in document["accounts"]}
    for account_id, run in org_run.runs.items():
        expected = expected_row(accounts[account_id], run)
        assert rows[account_id] == [*expected[:-2], f"run {expected[-1]}"]
    for account_id in (organization.no_role, organization.denied):
        assert rows[account_id][2].startswith("not audited: could not assume")
        assert len(rows[account_id]) == 3  # the reason in place of a score and the counts
    assert "The score covers 3 of 6 accounts (2 could not be audited, 1 skipped)." in page
    assert f"{org_score(document)}</p>" in page
    assert org_run.secret not in page



def test_no_account_audited_is_no_score_and_no_answer() -> None:
    from datetime import UTC, datetime

    from auditor.org import AccountAudit, AccountState, OrgAccount, OrgAudit, OrgScope
    from reports.compliance_org import build_org_compliance
    from reports.compliance_pdf import render_org_compliance_html

    moment = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    org = OrgAudit(
        management_account=MANAGEMENT, caller_arn=f"arn:aws:iam::{MANAGEMENT}:user/auditor",
        started_at=moment, finished_at=moment, scope=OrgScope(), org_run_id=4,
        accounts=tuple(AccountAudit(OrgAccount(account_id, name), AccountState.ERROR,
                                    reason="could not assume the role")
                       for account_id, name in (("111122223333", "dev"),
                                                ("444455556666", "prod"))))

    report = build_org_compliance(org, generated_at=moment)
    page = words(html.unescape(re.sub(r"<[^>]+>", " ", render_org_compliance_html(report))))

    assert report.score.score is None
    assert ("No score No account could be audited: the score covers 0 of 2 accounts (2 could "
            "not be audited).") in page
    assert "We cannot say. No account could be audited." in page
    assert "111122223333 dev not audited : could not assume the role" in page
    assert (report.rotation.verdict, len(report.rotation.not_audited)) == ("unknown", 2)
