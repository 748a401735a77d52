"""How the machine formats scale with the number of findings: one audit of N users
(findings shaped as in report_scale.py: a third without MFA, old, unused and
uninventoried keys, the account-level controls) rendered in-process as JSON, OCSF, ASFF
and SARIF. Prints each format's best-of-three render time and output size.

    uv run python bench/finding_formats.py                 # sizes 100, 1000, 5000
    uv run python bench/finding_formats.py --sizes 20000"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_scale import audit  # noqa: E402

from reports.formats import AuditFormat, render_audit  # noqa: E402

FORMATS = (AuditFormat.JSON, AuditFormat.OCSF, AuditFormat.ASFF, AuditFormat.SARIF)


def best_of_three(run: object, fmt: AuditFormat) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(3):
        started = time.perf_counter()
        size = len(render_audit(run, None, fmt, "us-east-1"))  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
    return min(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    args = parser.parse_args()
    print(f"{'users':>6} {'findings':>8} " + " ".join(f"{f.value + ' ms':>9} {'MB':>5}"
                                                     for f in FORMATS))
    for users in (int(size) for size in args.sizes.split(",")):
        run = audit(users, week=0)
        cells = []
        for fmt in FORMATS:
            seconds, size = best_of_three(run, fmt)
            cells.append(f"{seconds * 1000:>9.0f} {size / 1e6:>5.1f}")
        print(f"{users:>6} {len(run.findings):>8} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
