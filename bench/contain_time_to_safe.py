"""A containment's time to safe and what it is made of, against in-process moto with IAM
enforcement on (the responder holds only `irready policy contain`'s actions) and inactive
keys refused as AWS refuses them, so every action does its real work: rotate before block
through the drill engine, verify the exposed key refused, revoke the sessions.

For each of a few leaked keys (one user each) it prints the time to safe that the
containment stored, its wall time, the time spent in AWS calls and their number. Against
moto, AWS answers in milliseconds: what remains is irready's own cost (journal writes,
the drill's lock, boto3 clients). On AWS, IAM's propagation (seconds) dominates.

    uv run python bench/contain_time_to_safe.py              # 5 containments
    uv run python bench/contain_time_to_safe.py --keys 20"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drill_overhead import CallClock, isolate

REGION = "us-east-1"


def seed_leak(session: Any, number: int) -> tuple[str, str]:
    """A user whose key leaked, its key in a secret; returns (key id, target)."""
    iam = session.client("iam")
    user, secret = f"leaky-{number}", f"bench/leaky-{number}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    session.client("secretsmanager").create_secret(Name=secret, SecretString=json.dumps(
        {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}))
    return key["AccessKeyId"], f"secretsmanager:{secret}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=5)
    args = parser.parse_args()
    isolate()
    import boto3
    from moto import mock_aws
    from moto.core import enable_iam_authentication

    from auditor.config import Config, DrillSettings
    from auditor.session import AwsContext
    from auditor.store import HistoryStore
    from demo.drill import moto_refuses_inactive_keys
    from incident.contain.model import ContainOptions
    from incident.contain.policy import contain_policy
    from incident.contain.run import run_containment

    with mock_aws(), tempfile.TemporaryDirectory() as folder:
        admin = boto3.Session(region_name=REGION)
        leaks = [seed_leak(admin, n) for n in range(args.keys)]
        policy = contain_policy(["*"], [target for _, target in leaks])
        for statement in policy["Statement"]:
            statement["Resource"] = "*"
        iam = admin.client("iam")
        iam.create_user(UserName="responder")
        iam.put_user_policy(UserName="responder", PolicyName="contain",
                            PolicyDocument=json.dumps(policy))
        made = iam.create_access_key(UserName="responder")["AccessKey"]
        responder = boto3.Session(aws_access_key_id=made["AccessKeyId"],
                                  aws_secret_access_key=made["SecretAccessKey"],
                                  region_name=REGION)
        clock = CallClock(responder)
        config = replace(Config(), drill=DrillSettings(propagation_timeout_seconds=5),
                         history_path=str(Path(folder) / "history.sqlite3"))
        safe: list[float] = []
        print(f"{'key':<22}{'safe s':>9}{'wall s':>9}{'AWS s':>9}{'calls':>7}")
        with HistoryStore(config.history_file) as store, enable_iam_authentication(), \
                moto_refuses_inactive_keys():
            for key_id, target in leaks:
                clock.reset()
                started = time.perf_counter()
                record = run_containment(
                    AwsContext(session=responder, max_attempts=3), config, store,
                    ContainOptions(key_id, target=target, investigate=False,
                                   propagation_timeout=5.0, revoke_sessions=True))
                wall = time.perf_counter() - started
                assert record.status == "safe", record.journal
                assert record.safe_seconds is not None
                safe.append(record.safe_seconds)
                print(f"{key_id:<22}{record.safe_seconds:>9.3f}{wall:>9.3f}"
                      f"{clock.seconds:>9.3f}{clock.calls:>7}")
        print(f"median time to safe: {statistics.median(safe):.3f} s over {len(safe)} keys "
              "(the first pays for loading boto3's service models)")


if __name__ == "__main__":
    main()
