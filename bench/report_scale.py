"""How the compliance PDF scales with the size of the account.

For each N (IAM users) this seeds a history store with a quarter of weekly audits
(13 runs, 2026Q4) whose findings look like a real audit of N users: a third of them
console users without MFA, keys too old, keys unused, keys missing from the inventory,
plus the account-level controls, and three drills. Then it runs
`irready report compliance --quarter 2026Q4` in a child process, as a user would, and
prints the child's wall time (process start to exit, Python start-up and the
weasyprint import included), its peak memory (max RSS), the page count and the rows of
the CSV written beside the PDF. The pages of each PDF go to bench/out/ as PNG
(pdftoppm) for a look.

The goal: 5,000 users in under 10 s and 300 MB.

    uv run python bench/report_scale.py                  # sizes 10, 1000, 5000
    uv run python bench/report_scale.py --sizes 10,100"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditor.models import AuditRun, Finding, Severity, Status  # noqa: E402
from auditor.store import DrillRecord, DrillStep, HistoryStore  # noqa: E402

ACCOUNT = "123456789012"
FIRST_AUDIT = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)
GENERATED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
OUT = ROOT / "bench" / "out"
REFS = {
    "iam.console_mfa": ("CIS 1.9", "IAM.5"), "iam.access_key_age": ("CIS 1.13", "IAM.3"),
    "iam.unused_access_keys": ("CIS 1.11", "IAM.22"), "cloudtrail.enabled": ("CIS 3.1",
                                                                             "CloudTrail.1"),
    "cloudtrail.multi_region": ("CIS 3.1", "CloudTrail.1"),
    "cloudtrail.log_validation": ("CIS 3.2", "CloudTrail.4"),
    "account.alternate_contacts": ("CIS 1.2", "Account.1"),
    "iam.root_mfa": ("CIS 1.4", "IAM.9"), "iam.root_access_keys": ("CIS 1.3", "IAM.4"),
}
SEVERITY = {
    "iam.console_mfa": Severity.HIGH, "iam.access_key_age": Severity.MEDIUM,
    "iam.unused_access_keys": Severity.MEDIUM, "iam.key_inventory": Severity.MEDIUM,
    "cloudtrail.enabled": Severity.CRITICAL, "cloudtrail.multi_region": Severity.HIGH,
    "cloudtrail.log_validation": Severity.MEDIUM, "cloudtrail.bucket_retention": Severity.HIGH,
    "athena.cloudtrail_table": Severity.HIGH, "account.alternate_contacts": Severity.HIGH,
    "iam.root_mfa": Severity.CRITICAL, "iam.root_access_keys": Severity.CRITICAL,
    "guardduty.enabled": Severity.MEDIUM, "drill.recent": Severity.HIGH,
    "iam.quarantine_policy": Severity.CRITICAL,
}


def _finding(check: str, status: Status, resource: str, message: str,
             evidence: dict[str, str] | None = None) -> Finding:
    return Finding(check_id=check, title=f"Control {check}", status=status,
                   severity=SEVERITY[check], account_id=ACCOUNT, region="global",
                   resource=resource, message=message,
                   remediation=f"remediation for {check}", references=REFS.get(check, ()),
                   evidence=evidence or {})


def audit(users: int, week: int) -> AuditRun:
    """Week by week the team fixes things, so the trend and "failing since" move."""
    arn = f"arn:aws:iam::{ACCOUNT}:user/"
    keys = {"account_active_keys": str(users), "users_with_keys": str(users)}
    findings: list[Finding] = []
    for i in range(users):
        name = f"user-{i:05d}"
        if i % 3 == 0:
            findings.append(_finding("iam.console_mfa", Status.FAIL, arn + name,
                                     f"{name} can sign in to the console without MFA."))
        if i % 5 == 0:
            findings.append(_finding("iam.access_key_age", Status.FAIL, arn + name,
                                     f"{name}: key 1 is {120 + i % 300} days old (limit 90)."))
        if i % 7 == 0 and week < 10:
            findings.append(_finding("iam.unused_access_keys", Status.FAIL, arn + name,
                                     f"{name}: key 1 last used {60 + i % 200} days ago."))
        if i % 2 == 0:
            findings.append(_finding("iam.key_inventory", Status.FAIL, arn + name,
                                     f"{name} has 1 active key(s) and no inventory entry.",
                                     keys))
    passing = {
        "cloudtrail.enabled": True, "cloudtrail.multi_region": week >= 3,
        "cloudtrail.log_validation": week >= 6, "cloudtrail.bucket_retention": week >= 4,
        "athena.cloudtrail_table": week >= 5, "iam.root_mfa": True,
        "iam.root_access_keys": True, "guardduty.enabled": week >= 8,
        "drill.recent": week >= 2, "iam.quarantine_policy": True,
        "account.alternate_contacts": week >= 7,
    }
    for check, ok in passing.items():
        findings.append(_finding(check, Status.PASS if ok else Status.FAIL, "account",
                                 f"{check} {'passes' if ok else 'fails'}."))
    if week >= 10:
        findings.append(_finding("iam.unused_access_keys", Status.PASS, "account",
                                 "Every active key was used within the last 45 days."))
    started = FIRST_AUDIT + timedelta(days=7 * week)
    return AuditRun(account_id=ACCOUNT, started_at=started,
                    finished_at=started + timedelta(seconds=30 + users // 100),
                    findings=tuple(findings), regions=("us-east-1",), version="0.1.0")


def drill(number: int, seconds: float) -> DrillRecord:
    started = FIRST_AUDIT + timedelta(days=1 + 30 * number)
    steps, clock = [], started
    for seq, (name, took) in enumerate((("preflight", 4), ("create_key", 2), ("publish", 9),
                                        ("verify_new_key", seconds * 0.6),
                                        ("deactivate_old_key", seconds * 0.25),
                                        ("verify_old_key_rejected", 30),
                                        ("delete_old_key", 2)), start=1):
        steps.append(DrillStep(seq, name, "done", clock, clock + timedelta(seconds=took)))
        clock += timedelta(seconds=took)
    return DrillRecord(drill_id=f"bench-{number}", account_id=ACCOUNT, user="drill-user",
                       target="secretsmanager:app/creds", status="SUCCEEDED",
                       started_at=started, finished_at=clock,
                       rotation_seconds=15 + seconds * 0.85, target_seconds=900.0,
                       steps=tuple(steps))


def seed(path: Path, users: int) -> int:
    with HistoryStore(path) as store:
        total = 0
        for week in range(13):
            run = audit(users, week)
            total += len(run.findings)
            store.save_run(run)
        for number, seconds in enumerate((600.0, 420.0, 260.0)):
            store.save_drill(drill(number, seconds))
    return total


def measure(history: Path, output: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of the report command in a child."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(GENERATED.timestamp()))}
    command = [sys.executable, "-m", "auditor", "report", "compliance", "--quarter",
               "2026Q4", "--history", str(history), "--output", str(output)]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, child.returncode


def pages_of(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,5000")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"{'users':>6} {'findings/run':>12} {'wall s':>7} {'peak MB':>8} {'pages':>5} "
          f"{'CSV rows':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for users in (int(size) for size in args.sizes.split(",")):
            history = Path(tmp) / f"history-{users}.sqlite3"
            findings = seed(history, users) // 13
            pdf = Path(tmp) / f"report-{users}.pdf"
            wall, peak, code = measure(history, pdf)
            if code != 0:
                raise SystemExit(f"the report for {users} users exited with {code}")
            csv = pdf.with_name(f"{pdf.stem}-findings.csv")
            rows = len(csv.read_text().splitlines()) - 1 if csv.exists() else 0
            print(f"{users:>6} {findings:>12} {wall:>7.2f} {peak:>8.0f} {pages_of(pdf):>5} "
                  f"{rows:>8}", flush=True)
            shutil.copy(pdf, OUT / pdf.name)
            if shutil.which("pdftoppm"):
                subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf),
                                str(OUT / f"report-{users}-page")], check=True)
    print(f"PDFs and page images: {OUT}")


if __name__ == "__main__":
    main()
