"""The rotation drill's own overhead: its wall time minus the time spent waiting on AWS
(every API call, retries included) and sleeping between propagation retries.

Runs in this process against in-process moto, with IAM enforcement on (the drill runs
as an operator holding the drill policy's actions) and inactive keys refused as AWS
refuses them, so all nine steps do their real work. Each drill uses --delete-old, so the
next one finds room for a new key. For each target kind it runs a few drills and prints,
per drill, the wall time, the AWS time, the sleep time, the overhead (the rest: the
journal's SQLite writes, the lock, target I/O, boto3 client set-up) and the number of
API calls. The first drill of a process also pays for loading boto3's service models.

Goal: overhead under 1 s for a whole drill.

    uv run python bench/drill_overhead.py                  # 5 drills per target kind
    uv run python bench/drill_overhead.py --drills 20"""

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
USER = "drill-user"
SECRET = "bench/drill/aws-credentials"


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


def seed(session: Any) -> dict[str, str]:
    """The drill user with its key in a secret, and an operator; returns the operator's key."""
    from drills.policy import drill_policy

    iam = session.client("iam")
    iam.create_user(UserName=USER, Tags=[{"Key": "irready:drill", "Value": "true"}])
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    session.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(
        {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}))
    policy = drill_policy([USER], [f"secretsmanager:{SECRET}"])
    for statement in policy["Statement"]:
        statement["Resource"] = "*"  # moto matches IAM resources only against "*"
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="drill",
                        PolicyDocument=json.dumps(policy))
    operator: dict[str, str] = iam.create_access_key(UserName="operator")["AccessKey"]
    return operator


def write_credentials(path: Path, key_id: str, secret: str) -> None:
    path.write_text(f"[app]\naws_access_key_id = {key_id}\n"
                    f"aws_secret_access_key = {secret}\n")
    path.chmod(0o600)


def run(drills: int) -> list[dict[str, Any]]:
    isolate()
    import boto3
    from moto import mock_aws
    from moto.core import enable_iam_authentication

    from auditor.config import Config, DrillSettings
    from auditor.session import AwsContext
    from auditor.store import HistoryStore
    from demo.drill import moto_refuses_inactive_keys
    from drills.model import DrillOptions, DrillStatus
    from drills.rotation import run_drill

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder, mock_aws():
        base = Path(folder)
        admin = boto3.Session(region_name=REGION)
        operator_key = seed(admin)
        operator = boto3.Session(aws_access_key_id=operator_key["AccessKeyId"],
                                 aws_secret_access_key=operator_key["SecretAccessKey"],
                                 region_name=REGION)
        clock = CallClock(operator)
        config = replace(Config(), drill=DrillSettings(propagation_timeout_seconds=5),
                         history_path=str(base / "history.sqlite3"))
        credentials = base / "credentials"
        with enable_iam_authentication(), moto_refuses_inactive_keys(), \
                HistoryStore(config.history_file) as store:
            for kind, target in (("secretsmanager", f"secretsmanager:{SECRET}"),
                                 ("credentials-file", f"credentials-file:{credentials}#app")):
                for number in range(1, drills + 1):
                    if kind == "credentials-file":
                        current = json.loads(operator.client("secretsmanager").get_secret_value(
                            SecretId=SECRET)["SecretString"]) if number == 1 else None
                        if current:
                            write_credentials(credentials, current["AccessKeyId"],
                                              current["SecretAccessKey"])
                    options = DrillOptions(user=USER, target=target, delete_old=True,
                                           propagation_timeout=5.0)
                    ctx = AwsContext(session=operator, max_attempts=3)
                    clock.reset()
                    started = time.perf_counter()
                    record = run_drill(ctx, config, store, options)
                    wall = time.perf_counter() - started
                    if record.status is not DrillStatus.SUCCEEDED:
                        raise SystemExit(f"drill {record.drill_id} {record.status}: "
                                         f"{record.detail.get('failure')}")
                    slept = sum(float(s.detail.get("waited_seconds") or 0)
                                for s in record.steps)
                    rows.append({"kind": kind, "n": number, "wall": wall,
                                 "aws": clock.seconds, "sleep": slept,
                                 "overhead": wall - clock.seconds - slept,
                                 "calls": clock.calls,
                                 "rotation": record.rotation_seconds or 0.0})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", type=int, default=5, help="drills per target kind")
    args = parser.parse_args()
    rows = run(max(1, args.drills))
    print(f"{'target':<17} {'#':>2} {'wall s':>7} {'AWS s':>7} {'sleep s':>7} "
          f"{'overhead s':>10} {'calls':>5} {'rotation s':>10}")
    for row in rows:
        print(f"{row['kind']:<17} {row['n']:>2} {row['wall']:>7.3f} {row['aws']:>7.3f} "
              f"{row['sleep']:>7.3f} {row['overhead']:>10.3f} {row['calls']:>5} "
              f"{row['rotation']:>10.3f}")
    overheads = [row["overhead"] for row in rows]
    warm = [row["overhead"] for row in rows if row["n"] > 1] or overheads
    print(f"\noverhead: max {max(overheads):.3f} s (first drill of the process, cold), "
          f"median of warm drills {statistics.median(warm):.3f} s; goal < 1 s: "
          f"{'met' if max(overheads) < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
