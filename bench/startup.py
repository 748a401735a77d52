"""How fast `irready --help` starts, next to `python -c "import boto3"`.

A cron job or a shell completion pays the start-up on every call, and `--help` is the
first thing a newcomer runs. boto3, moto and weasyprint are imported lazily inside the
commands that need them, and the help is plain click (typer's rich help imports
markdown and pygments), so `--help` should beat importing boto3 alone.

    uv run python bench/startup.py [--runs 15]

Each command runs in a fresh interpreter (`sys.executable`); the median and the best
of N runs are printed, after one unmeasured warm-up run of each (the page cache)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "irready --help": [sys.executable, "-m", "auditor", "--help"],
    "irready audit --help": [sys.executable, "-m", "auditor", "audit", "--help"],
    'python -c "import boto3"': [sys.executable, "-c", "import boto3"],
    'python -c "pass"': [sys.executable, "-c", "pass"],
}


def measure(command: list[str], runs: int) -> list[float]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = parser.parse_args()
    print(f"{'command':<28} {'median s':>9} {'best s':>8}")
    medians = {}
    for label, command in COMMANDS.items():
        times = measure(command, args.runs)
        medians[label] = statistics.median(times)
        print(f"{label:<28} {medians[label]:>9.3f} {min(times):>8.3f}", flush=True)
    help_time = medians["irready --help"]
    boto3_time = medians['python -c "import boto3"']
    verdict = "faster" if help_time < boto3_time else "SLOWER"
    print(f"irready --help is {verdict} than importing boto3 "
          f"({help_time:.3f} s vs {boto3_time:.3f} s)")


if __name__ == "__main__":
    main()
