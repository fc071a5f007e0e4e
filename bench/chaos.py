"""The chaos run at full size: 10,000 signed deliveries, two `steward serve` intake processes
and three `steward serve worker` processes on PostgreSQL, a worker SIGKILLed every 2-4 s,
GitHub failing 5 % of requests (500/502/503/504, 429 with ``retry-after``) and losing 1 % of
the answers to its writes, 2 % of the deliveries sent twice; then the same deliveries once
each, in order, without faults, and the two repositories compared.

`tests/server/test_chaos.py` is the same run (``STEWARD_CHAOS_DELIVERIES`` sets its size);
`tests/server/chaos.py` holds the parts and says why the serial run is a fair reference.
Prints the figures (deliveries, duplicates, kills, faults, retries, dead jobs, seconds per
phase) and every way the run fell short of the serial one; fails when there is any.

Run: `python -m bench chaos` (needs `make setup`: GitHub's material from npm, PostgreSQL's
binaries).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from tests.server import chaos
from tests.server.postgres import Cluster

COUNT = 10_000


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="steward-bench-chaos-"))
    try:
        with Cluster(fsync=False) as cluster:
            out = chaos.run(chaos.Scenario(count=COUNT), cluster.create(), tmp / "processes.log")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for key, value in out.report().items():
        print(f"{key:<36} {json.dumps(value, default=str)}")
    found = chaos.problems(out)
    for problem in found:
        print(f"PROBLEM: {problem[:2000]}")
    if found:
        raise AssertionError(f"{len(found)} way(s) the chaos run differs from the serial run")


if __name__ == "__main__":
    main()
