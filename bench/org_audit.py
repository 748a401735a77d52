"""How `irready audit --org` scales with the number of accounts.

Starts moto's server on 127.0.0.1 in this process (the request counter and server of
bench/audit_scale.py), creates an organization whose management account has one logging
organization trail, adds N member accounts, then runs `python -m auditor audit --org`
against it in a child process, one region per account, as a user would (moto routes
AssumeRole to the role's account, so each member is audited in its own moto account).
For each N it prints the API requests the server received per account (counted
server-side), the wall time, the audit process's peak memory (max RSS) and irready's own
CPU (the child's user + system time, apart from the server's, which runs here).

The goals: requests per account flat in N; 1,000 accounts in under 5 minutes; irready's
own CPU under 50 ms per account; peak memory not growing with N beyond the findings.

    uv run python bench/org_audit.py                  # 100 and 1,000 accounts
    uv run python bench/org_audit.py --sizes 100 --parallel 16"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from audit_scale import FAKE_AWS, REGION, reset, start_server

BUCKET = "bench-org-trail"

# the child's exit code, max RSS (KiB) and CPU seconds (user + system), from wait4
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


def seed(endpoint: str, members: int) -> None:
    import boto3

    session = boto3.Session(region_name=REGION,
                            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"])
    organizations = session.client("organizations", endpoint_url=endpoint)
    organizations.create_organization(FeatureSet="ALL")
    for n in range(members):
        organizations.create_account(AccountName=f"member-{n:04d}",
                                     Email=f"member-{n:04d}@example.com")
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    cloudtrail = session.client("cloudtrail", endpoint_url=endpoint)
    cloudtrail.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                            IsOrganizationTrail=True, EnableLogFileValidation=True)
    cloudtrail.put_event_selectors(TrailName="org-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    cloudtrail.start_logging(Name="org-trail")


def run_org_audit(endpoint: str, workdir: Path, parallel: int
                  ) -> tuple[float, int, float, int, dict[str, Any]]:
    """(wall s, peak RSS MiB, CPU s, exit code, the JSON document) of one audit process."""
    report = workdir / "org.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(FAKE_AWS)
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "XDG_DATA_HOME": str(workdir / "data"),
                "XDG_CONFIG_HOME": str(workdir / "config")})
    command = [sys.executable, "-m", "auditor", "audit", "--org", "--endpoint-url", endpoint,
               "--regions", REGION, "--format", "json", "--output", str(report),
               "--no-history", "--parallel", str(parallel)]
    started = time.perf_counter()
    launched = subprocess.run([sys.executable, "-c", LAUNCHER, *command], cwd=workdir, env=env,
                              capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if launched.returncode != 0:
        raise SystemExit(f"launcher failed:\n{launched.stderr}")
    code, max_rss_kib, cpu = launched.stdout.split()
    if int(code) not in (0, 1, 4):
        raise SystemExit(f"audit --org failed with exit code {code}:\n{launched.stderr}")
    return wall, int(max_rss_kib) // 1024, float(cpu), int(code), json.loads(
        report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000",
                        help="comma-separated member counts (default 100,1000)")
    parser.add_argument("--parallel", type=int, default=8, help="audit --org --parallel")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    os.environ.update(FAKE_AWS)
    server, counter, endpoint = start_server()
    print(f"moto server at {endpoint}; requests counted server-side; --parallel "
          f"{args.parallel}; one region per account")
    print(f"{'accounts':>8} {'req/acct':>8} {'wall s':>7} {'acct/s':>6} {'peak MiB':>8} "
          f"{'cpu ms/acct':>11} {'server cpu s':>12} {'audited':>7} {'exit':>4}")
    try:
        with tempfile.TemporaryDirectory(prefix="irready-org-bench-") as tmp:
            for index, members in enumerate(sizes):
                reset(endpoint)
                seed(endpoint, members)
                workdir = Path(tmp) / f"{index}-{members}"
                workdir.mkdir()
                counter.reset()
                server_before = time.process_time()
                wall, peak, cpu, code, document = run_org_audit(endpoint, workdir,
                                                                args.parallel)
                server_cpu = time.process_time() - server_before
                accounts = document["summary"]["accounts"]
                print(f"{accounts:>8} {counter.total / accounts:>8.1f} {wall:>7.1f} "
                      f"{accounts / wall:>6.1f} {peak:>8} {1000 * cpu / accounts:>11.1f} "
                      f"{server_cpu:>12.1f} {document['summary']['audited']:>7} {code:>4}",
                      flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
