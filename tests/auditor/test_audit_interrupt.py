"""Ctrl-C during an audit: exit 130 and one line saying what was and was not stored. The
real test interrupts `python -m auditor audit` in its own process while it waits on a
moto server that holds its first call after the caller's identity, so the signal always
lands mid-audit, without any delay in irready itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clikit import irready, user_env
from gatedkit import WAIT_SECONDS, GatedMotoServer, gated

from auditor.errors import ExitCode
from auditor.store import HistoryStore


@pytest.fixture
def gated_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedMotoServer]:
    yield from gated(monkeypatch)


def test_ctrl_c_during_an_audit_exits_130_saying_nothing_was_stored(
        tmp_path: Path, gated_server: GatedMotoServer) -> None:
    host, port = gated_server.get_host_and_port()
    env = {**user_env(tmp_path), "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    audit = subprocess.Popen([sys.executable, "-m", "auditor", "audit"], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert gated_server.arrived.wait(WAIT_SECONDS), "the audit never called AWS"
        audit.send_signal(signal.SIGINT)
    finally:
        gated_server.release.set()
        _, stderr = audit.communicate(timeout=WAIT_SECONDS)

    assert audit.returncode == ExitCode.INTERRUPTED == 130, stderr
    assert stderr == ("irready: error: interrupted: the audit stopped before it ended; "
                      "nothing was stored (a run is stored only once it ends)\n")
    with HistoryStore(tmp_path / "data" / "irready" / "history.sqlite3") as store:
        assert store.runs() == []


def test_ctrl_c_after_the_run_was_stored_names_it(
        aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("reports.terminal.print_audit", interrupted)
    history = tmp_path / "history.sqlite3"

    result = irready("audit", "--regions", "us-east-1", "--history", history)

    assert result.exit_code == 130
    assert result.stderr == ("irready: error: interrupted: the audit ended and run 1 was "
                             "stored (`irready report audit --run 1` shows it), but its report "
                             "was not completely written\n")
    with HistoryStore(history) as store:
        assert [run.run_id for run in store.runs()] == [1]


def test_ctrl_c_elsewhere_is_one_line_too(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("auditor.registry.discover", interrupted)

    result = irready("checks", env={"XDG_DATA_HOME": os.fspath(tmp_path)})

    assert (result.exit_code, result.stderr) == (130, "irready: error: interrupted (Ctrl-C)\n")
