"""A containment killed for real (SIGKILL, in another process, in the middle of the
rotation) against moto's server, then shown by `irready contain show` and finished by
`irready contain resume`: the application ends on a new working key, the exposed key
inactive and kept, and the secret in no output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import irready
from containkit import TARGET, seed_account

from auditor.store import HistoryStore


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


def test_a_containment_killed_mid_rotation_is_resumed(server: str, tmp_path: Path) -> None:
    import boto3
    from moto.core import enable_iam_authentication

    account = seed_account(boto3.Session(region_name="us-east-1"), tmp_path)
    config = tmp_path / "irready.toml"
    config.write_text(f'[history]\npath = "{tmp_path / "history.sqlite3"}"\n'
                      "[drill]\npropagation_timeout_seconds = 2\n")
    marker = tmp_path / "killed-once"
    # the restart kills irready (its parent) the first time only, as kill -9 would
    restart = f"sh -c 'test -e {marker} || {{ touch {marker}; kill -9 $PPID; }}'"
    credentials = account.operator.get_credentials()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": credentials.access_key,
           "AWS_SECRET_ACCESS_KEY": credentials.secret_key, "AWS_DEFAULT_REGION": "us-east-1"}
    leaked_id, leaked_secret = account.leaked
    with enable_iam_authentication():
        killed = subprocess.run(
            [sys.executable, "-m", "auditor", "contain", "run", leaked_id, "--config",
             str(config), "--no-investigate", "--target", TARGET, "--revoke-sessions",
             "--restart-command", restart],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert killed.returncode == -9, killed.stderr
        with HistoryStore(tmp_path / "history.sqlite3") as store:
            (cut,) = store.containments()
        assert cut.status == "running"
        held_id, held_secret = account.held()
        assert account.key_states()[held_id] == "Active"
        assert account.works(held_id, held_secret)  # the application kept a working key

        shown = irready("contain", "show", cut.containment_id, "--config", str(config),
                        env=env)
        assert shown.exit_code == 0, shown.output
        assert "rotate: started" in shown.stdout
        assert "cut off (running, but no process holds it)" in shown.stdout
        assert f"irready contain resume {cut.containment_id}" in shown.stdout
        resumed = irready("contain", "resume", cut.containment_id, "--config", str(config),
                          env=env)
        assert resumed.exit_code == 0, resumed.output
        assert "safe" in resumed.stdout
        new_id, new_secret = account.held()
        assert new_id != leaked_id
        assert account.works(new_id, new_secret)
        assert account.key_states()[leaked_id] == "Inactive"
        assert not account.works(leaked_id, leaked_secret)
    for text in (killed.stdout, killed.stderr, shown.output, resumed.output,
                 (tmp_path / "history.sqlite3").read_bytes().decode("latin-1")):
        assert leaked_secret not in text
        assert new_secret not in text
