"""How `irready audit` scales with the number of IAM users.

Starts moto's server on 127.0.0.1 (a random free port) in this process, seeds an
account with N users (half with a console password, each with an access key) and one
logging multi-region trail, then runs `python -m auditor audit` against it in a child
process, as a user would. For each N it prints the API requests the server received
during the audit (counted server-side, by a WSGI wrapper around moto's app), the
audit's wall time (process start to exit, so it includes Python's start-up) and the
peak memory (max RSS) of the audit process.

The goal: the same request count for every N (no per-user call), and the 5,000-user
audit within 3x the wall time of the 10-user one.

    uv run python bench/audit_scale.py                 # sizes 10, 1000, 5000
    uv run python bench/audit_scale.py --sizes 10,1000 --regions us-east-1,eu-west-1

Users are seeded straight into moto's IAM backend (the server shares it), because
15,000 seeding calls over HTTP would take longer than the audits being measured."""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "bench-cloudtrail-logs"
SERVICE_OF = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-not-real",
    "AWS_DEFAULT_REGION": REGION,
}


# Linux charges a child's pre-exec copy of its parent to the child's max RSS, and this
# process holds moto and thousands of users: a small launcher starts the audit instead,
# and reports the audit's exit code and max RSS (KiB) from wait4.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


class RequestCounter:
    """WSGI middleware: counts the API requests moto answers, per service."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.by_service: collections.Counter[str] = collections.Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            match = SERVICE_OF.search(environ.get("HTTP_AUTHORIZATION", ""))
            with self.lock:
                self.by_service[match.group(1) if match else "unsigned"] += 1
        return self.app(environ, start_response)

    def reset(self) -> None:
        with self.lock:
            self.by_service.clear()

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.by_service.values())


def start_server() -> tuple[Any, RequestCounter, str]:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    counter = RequestCounter(DomainDispatcherApplication(create_backend_app))

    class CountingServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            self._server = make_server(self._ip_address, self._port, counter, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = CountingServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, counter, f"http://{host}:{port}"


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=30).close()


def seed(endpoint: str, users: int) -> None:
    import boto3
    from moto.iam.models import iam_backends

    backend = iam_backends[ACCOUNT]["global"]
    for n in range(users):
        name = f"user-{n:05d}"
        backend.create_user(REGION, name)
        backend.create_access_key(name)
        if n % 2 == 0:
            backend.create_login_profile(name, "Bench-Passw0rd!")

    session = boto3.Session(region_name=REGION, **{
        "aws_access_key_id": FAKE_AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
    })
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    cloudtrail = session.client("cloudtrail", endpoint_url=endpoint)
    cloudtrail.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                            EnableLogFileValidation=True)
    cloudtrail.put_event_selectors(TrailName="org-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    cloudtrail.start_logging(Name="org-trail")


def run_audit(endpoint: str, workdir: Path, regions: str | None
              ) -> tuple[float, int, int, dict[str, Any]]:
    """(wall seconds, peak RSS in MiB, exit code, the JSON report) of one audit process."""
    report = workdir / "audit.json"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") and key != "PYTHONDONTWRITEBYTECODE"}
    env.update(FAKE_AWS)
    env.update({
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "XDG_DATA_HOME": str(workdir / "data"),
        "XDG_CONFIG_HOME": str(workdir / "config"),
    })
    command = [sys.executable, "-m", "auditor", "audit", "--endpoint-url", endpoint,
               "--format", "json", "--output", str(report), "--no-history"]
    if regions:
        command += ["--regions", regions]
    started = time.perf_counter()
    launched = subprocess.run([sys.executable, "-c", LAUNCHER, *command], cwd=workdir, env=env,
                              capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if launched.returncode != 0:
        raise SystemExit(f"launcher failed:\n{launched.stderr}")
    code, max_rss_kib = map(int, launched.stdout.split())
    if code not in (0, 1, 4):
        raise SystemExit(f"audit failed with exit code {code}:\n{launched.stderr}")
    return wall, max_rss_kib // 1024, code, json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,5000",
                        help="comma-separated user counts (default 10,1000,5000)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="audits per size; the median wall time is shown (repeats reuse "
                             "the credential report: one request fewer)")
    parser.add_argument("--regions", default=None,
                        help="pass --regions to the audit (default: every enabled region)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    os.environ.update(FAKE_AWS)
    server, counter, endpoint = start_server()
    print(f"moto server at {endpoint}; requests counted server-side (WSGI wrapper)")
    print(f"{'users':>6} {'requests':>9} {'wall s':>7} {'in-audit s':>10} {'server cpu s':>12}"
          f" {'peak MiB':>9} {'exit':>4} {'findings':>8}  requests by service")
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="irready-bench-") as tmp:
            # moto builds each region's backends on first use: warm them up unmeasured
            seed(endpoint, 1)
            (Path(tmp) / "warm-up").mkdir()
            run_audit(endpoint, Path(tmp) / "warm-up", args.regions)
            for index, users in enumerate(sizes):
                reset(endpoint)
                seed(endpoint, users)
                walls, requests, peaks = [], [], []
                for attempt in range(args.repeat):
                    workdir = Path(tmp) / f"{index}-{users}-{attempt}"
                    workdir.mkdir()
                    counter.reset()
                    cpu_before = time.process_time()
                    wall, peak, code, report = run_audit(endpoint, workdir, args.regions)
                    server_cpu = time.process_time() - cpu_before
                    walls.append(wall)
                    requests.append(counter.total)
                    peaks.append(peak)
                    services = dict(sorted(counter.by_service.items()))
                in_audit = (_seconds(report["finished_at"]) - _seconds(report["started_at"]))
                wall = statistics.median(walls)
                rows.append((users, requests, wall))
                print(f"{users:>6} {'/'.join(map(str, sorted(set(requests)))):>9} {wall:>7.2f}"
                      f" {in_audit:>10.2f} {server_cpu:>12.2f} {max(peaks):>9} {code:>4}"
                      f" {len(report['findings']):>8}  {services}", flush=True)
    finally:
        server.stop()
    # a repeated audit of the same account reuses IAM's credential report (as AWS does
    # for four hours): one GenerateCredentialReport fewer, so compare first audits
    counts = {requests[0] for _users, requests, _wall in rows}
    print(f"same request count at every size (first audit of each account): "
          f"{'yes' if len(counts) == 1 else 'NO'}")
    if len(rows) > 1:
        ratio = rows[-1][2] / rows[0][2]
        print(f"wall time {rows[-1][0]} users / {rows[0][0]} users: {ratio:.2f}x (goal <= 3x)")


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    main()
