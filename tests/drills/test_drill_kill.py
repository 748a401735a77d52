"""A drill killed for real (SIGKILL, in another process) against moto's server, then
explained by `irready drill show` and finished by `irready drill resume`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import irready
from drillkit import SECRET, USER, World, assert_safe, read_secret, seed, session

from auditor.store import HistoryStore
from drills.model import DrillStatus


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, inactive_keys_rejected: None) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        moto.stop()


def test_a_drill_killed_mid_step_is_explained_and_resumed(server: str, tmp_path: Path) -> None:
    import boto3
    from moto.core import enable_iam_authentication

    keys = seed(boto3.Session(region_name="us-east-1"))
    world = World(admin=session(keys["admin_id"], keys["admin_secret"]),
                  operator=session(keys["operator_id"], keys["operator_secret"]), tmp=tmp_path,
                  original=(keys[f"{USER}_id"], keys[f"{USER}_secret"]),
                  operator_key=(keys["operator_id"], keys["operator_secret"]))
    config = tmp_path / "irready.toml"
    config.write_text(f'[history]\npath = "{tmp_path / "history.sqlite3"}"\n'
                      "[drill]\npropagation_timeout_seconds = 2\n")
    marker = tmp_path / "killed-once"
    # the restart kills the drill (its parent) the first time only, as kill -9 would
    restart = f"sh -c 'test -e {marker} || {{ touch {marker}; kill -9 $PPID; }}'"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": keys["operator_id"],
           "AWS_SECRET_ACCESS_KEY": keys["operator_secret"], "AWS_DEFAULT_REGION": "us-east-1"}
    with enable_iam_authentication():
        killed = subprocess.run(
            [sys.executable, "-m", "auditor", "drill", "rotate", "--config", str(config),
             "--user", USER, "--target", f"secretsmanager:{SECRET}",
             "--restart-command", restart],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert killed.returncode == -9, killed.stderr
        with HistoryStore(tmp_path / "history.sqlite3") as store:
            (record,) = store.drills()
        assert record.status is DrillStatus.RUNNING
        assert_safe(world, record, read_secret(world), settled=False)
        assert world.secret()["AccessKeyId"] == record.detail["new_key_id"]

        shown = irready("drill", "show", record.drill_id, "--config", str(config),
                              env=env)
        assert shown.exit_code == 0, shown.output
        assert "Status: CUT OFF (RUNNING, but no process holds it)" in shown.stdout
        assert ("It stopped during step 4 (restart the application): the step began and "
                "never reported back.") in shown.stdout
        assert f"irready drill resume {record.drill_id}" in shown.stdout
        resumed = irready("drill", "resume", record.drill_id, "--config",
                                      str(config), "--no-report", env=env)
        assert resumed.exit_code == 0, resumed.output
        with HistoryStore(tmp_path / "history.sqlite3") as store:
            done = store.load_drill(record.drill_id)
        assert done.status is DrillStatus.SUCCEEDED
        assert_safe(world, done, read_secret(world))
        assert world.authenticates_as(*world.original) is None
