"""One way for every test to run irready as a user does, in-process or in its own
process, and to hand it a config file. Whichever way it runs, a traceback is a bug: both
runners fail the test on one, so no test of an exit code can pass on a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner


def irready(*args: str | Path, env: Mapping[str, str] | None = None,
            input: str | None = None) -> Result:
    """`irready ARGS` in this process; `result.stdout`, `result.stderr` and
    `result.exit_code` are what a user would see."""
    from auditor.cli import app

    result = CliRunner().invoke(app, [str(arg) for arg in args], env=env, input=input)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"irready raised {result.exception!r}\n{result.output}")
    return result


def irready_process(*args: str | Path, env: Mapping[str, str], cwd: Path,
                    timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m auditor ARGS` in a process of its own, as cron or a shell starts it."""
    result = subprocess.run([sys.executable, "-m", "auditor", *map(str, args)], env=dict(env),
                            cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def user_env(home: Path) -> dict[str, str]:
    """A user's environment for a process of its own: fake keys, private XDG folders
    under `home`, no AWS config files, no endpoint, no instance metadata."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "COLUMNS": "200",
    })
    return env


def write_config(folder: Path, text: str, name: str = "irready.toml") -> Path:
    """An irready.toml (or another config file) with `text`, in `folder`."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
