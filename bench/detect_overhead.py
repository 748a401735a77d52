"""The detection drill's own overhead: its wall time minus the time it waits (sleeping
between polls and between "does the key work yet?" probes) and minus the time spent in
AWS calls (moto, in this process).

Each drill gives a canary a key under IAM enforcement (the operator holds the detect
policy's actions), replays the story, deletes the key and polls the trail's bucket, into
which a simulated delivery writes the calls at once, so the drill sees them on its first
or second poll. Printed per drill: the wall time, the sleep time, the AWS time (API
calls, retries included), the rest (the journal's SQLite writes, the lock, the sequence
check, the log-file scan, boto3 client set-up) and the number of API calls. The first
drill of a process also pays for loading boto3's service models.

Goal: the rest under 1 s per drill.

    uv run python bench/detect_overhead.py               # 5 drills
    uv run python bench/detect_overhead.py --drills 20"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REGION = "us-east-1"
CANARY = "canary-user"
BUCKET = "bench-trail-logs"
ACCOUNT = "123456789012"


class CallClock:
    """Sums the time between before-call and after-call of every API call of a session."""

    def __init__(self, session: Any) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._started: list[float] = []
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)

    def _before(self, **_: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.calls += 1

    def reset(self) -> None:
        self.calls, self.seconds = 0, 0.0


def isolate() -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull,
                       "AWS_SHARED_CREDENTIALS_FILE": os.devnull})


def user(iam: Any, name: str, document: dict[str, Any]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    key: dict[str, str] = iam.create_access_key(UserName=name)["AccessKey"]
    return key


def session_of(key: dict[str, str]) -> Any:
    import boto3

    return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", type=int, default=5)
    args = parser.parse_args()
    isolate()
    import boto3
    from moto import mock_aws
    from moto.core import enable_iam_authentication

    from auditor.config import Config, DrillSettings
    from auditor.session import AwsContext
    from auditor.store import HistoryStore
    from demo.detect_delivery import SimulatedDelivery
    from drills.detect.cli_run import detect_options
    from drills.detect.policy import detect_policy
    from drills.detect.run import run_detect

    with mock_aws(), tempfile.TemporaryDirectory() as folder:
        admin = boto3.Session(region_name=REGION)
        iam = admin.client("iam")
        iam.create_user(UserName=CANARY, Tags=[{"Key": "irready:canary", "Value": "true"}])
        admin.client("s3").create_bucket(Bucket=BUCKET)
        admin.client("cloudtrail").create_trail(Name="main", S3BucketName=BUCKET)
        policy = detect_policy([CANARY])
        for statement in policy["Statement"]:
            statement["Resource"] = "*"  # moto matches IAM resources only against "*"
        operator = session_of(user(iam, "operator", policy))
        writer = session_of(user(iam, "writer", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}))
        clock = CallClock(operator)
        config = replace(Config(), drill=DrillSettings(propagation_timeout_seconds=5),
                         history_path=str(Path(folder) / "history.sqlite3"))
        options, choices = detect_options(config, user=CANARY, sequence="story",
                                          sources=["s3"], timeout=30.0, poll=0.05)
        print(f"{'drill':>5} {'wall s':>8} {'sleep s':>8} {'aws s':>8} {'rest s':>8} "
              f"{'calls':>6} status")
        rests = []
        with enable_iam_authentication(), HistoryStore(config.history_file) as store:
            delivery = SimulatedDelivery(ACCOUNT, CANARY, 0.0, s3=writer.client("s3"),
                                         bucket=BUCKET)
            for number in range(1, args.drills + 1):
                clock.reset()
                started = time.perf_counter()
                result = run_detect(AwsContext(session=operator, max_attempts=2), config,
                                    store, options, choices, delivery=delivery)
                wall = time.perf_counter() - started
                slept = wall - result.overhead_seconds
                rest = result.overhead_seconds - clock.seconds
                rests.append(rest)
                print(f"{number:>5} {wall:>8.3f} {slept:>8.3f} {clock.seconds:>8.3f} "
                      f"{rest:>8.3f} {clock.calls:>6} {result.status}")
        later = rests[1:] or rests
        print(f"rest (own overhead): median {statistics.median(later):.3f} s, max "
              f"{max(later):.3f} s after the first drill; first {rests[0]:.3f} s "
              "(goal < 1 s)")


if __name__ == "__main__":
    main()
