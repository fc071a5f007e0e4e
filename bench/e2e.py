"""E2E plugin: 8 features, serial versus `-n 2`, and the layer step when nothing changed.

Each feature deploys a stack with one Lambda function on a local moto server and runs one
test that waits 3 s (the eventual-consistency wait a real E2E test spends polling logs or
traces). The playbook-style prototype measured ~40 s serial and ~30 s with -n 2.
Each mode runs twice, interleaved, and the faster run counts (the machine is shared). The
same 8 waits without the plugin (no stacks) give the ceiling of the ratio: what worker
start-up and shut-down leave to pytest-xdist alone on this machine.

The sample project disables hypothesis's pytest plugin (installed here for steward's own
tests): it imports hypothesis at the terminal summary, ~0.7 s in every process, which a
`-n 2` run pays in the workers and then again in the controller.
The layer step: build_layer over steward's own sources, then again with nothing changed
(target: under 0.5 s, no rebuild).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FEATURES = 8
WAIT = 3.0
ROUNDS = 2
INI = "[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\n"
ROOT = Path(__file__).resolve().parent.parent

INFRA = """
from steward.e2e import BaseInfrastructure

class Stack(BaseInfrastructure):
    def create_resources(self):
        self.create_lambda_functions()
"""

PLAIN = f"""
import time

def test_feature():
    time.sleep({WAIT})
"""

TEST = f"""
import time

def test_feature(infrastructure):
    assert infrastructure["BasicHandlerArn"].endswith(infrastructure["BasicHandler"])
    time.sleep({WAIT})  # eventual consistency: logs, metrics, traces
"""


def _plain(root: Path) -> Path:
    """The same waits without the plugin: xdist's own overhead, the ceiling of the ratio."""
    (root / "tests").mkdir(parents=True)
    (root / "pytest.ini").write_text(INI)
    for i in range(FEATURES):
        (root / "tests" / f"test_feature{i}.py").write_text(PLAIN)
    return root


def _e2e_project(root: Path, tests: dict[str, str]) -> Path:
    """A project opted in to the plugin: one feature (a stack with one function) per entry."""
    root.mkdir(parents=True)
    (root / "pytest.ini").write_text(INI.replace("[pytest]\n", "[pytest]\nsteward_e2e = true\n"))
    for name, body in tests.items():
        feat = root / "tests" / "e2e" / name
        (feat / "handlers").mkdir(parents=True)
        (feat / "infrastructure.py").write_text(INFRA)
        (feat / f"test_{name}.py").write_text(body)
        (feat / "handlers" / "basic_handler.py").write_text(
            "def lambda_handler(e, c):\n    return e\n"
        )
    return root


def _project(root: Path) -> Path:
    return _e2e_project(root, {f"feature{i}": TEST for i in range(FEATURES)})


# issue #18's unbalanced suite: one long feature (Powertools' idempotency spends ~50 s, most
# of it in a handful of tests that sleep) and one short one
LONG_TESTS = 6
LONG_WAIT = 4.0


def _unbalanced(root: Path) -> Path:
    long = "import time\n" + "".join(
        f"\ndef test_long_{i}(infrastructure):\n    time.sleep({LONG_WAIT})\n"
        for i in range(LONG_TESTS)
    )
    short = "def test_short(infrastructure):\n    assert infrastructure\n"
    return _e2e_project(root, {"long": long, "short": short})


def _run(project: Path, env: dict[str, str], *args: str, e2e: bool = True) -> tuple[float, float]:
    """(wall time, pytest's own session time): the gap is interpreter and worker start-up."""
    if e2e:
        args = (*args, "--e2e-run-id", secrets.token_hex(4))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or (e2e and "no stacks left" not in result.stdout):
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{result.stdout[-2000:]}")
    found = re.search(r" in ([0-9.]+)s", result.stdout.splitlines()[-1])
    return elapsed, float(found.group(1)) if found else elapsed


def _layer(tmp: Path) -> tuple[float, float, bool]:
    from steward.e2e.layer import build_layer

    src = tmp / "layer_src" / "steward"
    shutil.copytree(ROOT / "src" / "steward", src, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp / "cdk.out"
    start = time.perf_counter()
    build_layer([src], out)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = build_layer([src], out)
    second = time.perf_counter() - start
    return first, second, again.rebuilt


def main() -> None:
    from steward.e2e.emulator import start_moto

    emulator = start_moto()
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
        env.update(emulator.env)
        project = _project(tmp / "proj")
        _run(project, env, "-k", "feature0")  # warm moto
        runs: dict[str, list[tuple[float, float]]] = {"serial": [], "-n 2": []}
        for _ in range(ROUNDS):
            runs["serial"].append(_run(project, env))
            runs["-n 2"].append(_run(project, env, "-n", "2"))
        serial, parallel = (min(r, key=lambda t: t[1]) for r in runs.values())
        plain = _plain(tmp / "plain")
        plain_s = _run(plain, env, e2e=False)
        plain_p = _run(plain, env, "-n", "2", e2e=False)
        first, second, rebuilt = _layer(tmp)
        unbalanced = _unbalanced(tmp / "unbalanced")
        modes = {
            "serial": (),
            "-n 2": ("-n", "2"),
            "-n 2 --e2e-spread": ("-n", "2", "--e2e-spread"),
        }
        uneven: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
        for _ in range(ROUNDS):
            for mode, args in modes.items():
                uneven[mode].append(_run(unbalanced, env, *args))
    finally:
        emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    floor = FEATURES * WAIT
    print(
        f"{FEATURES} features, 1 test each, {WAIT:.0f} s wait per test (sum of waits {floor:.0f} s)"
    )
    (wall_s, session_s), (wall_p, session_p) = serial, parallel
    print(f"  serial   {wall_s:6.1f} s wall, {session_s:5.1f} s in session  (prototype ~40 s)")
    print(f"  -n 2     {wall_p:6.1f} s wall, {session_p:5.1f} s in session  (prototype ~30 s)")
    ratio = session_s / session_p
    ceiling = plain_s[1] / plain_p[1]
    print(f"  speed-up {wall_s / wall_p:6.2f} x wall, {ratio:.2f} x session (ideal 2.00)")
    print(f"  over the waits: serial {wall_s - floor:+.1f} s, -n 2 {wall_p - floor / 2:+.1f} s")
    every = ", ".join(f"{m} " + " / ".join(f"{s:.1f}" for _, s in r) for m, r in runs.items())
    print(f"  session times of every round (s): {every}")
    print(
        f"  the waits alone (no plugin, no stacks): {plain_s[1]:.1f} s serial, "
        f"{plain_p[1]:.1f} s -n 2, {ceiling:.2f} x: xdist's own ceiling here"
    )
    print(f"  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    waits = LONG_TESTS * LONG_WAIT
    print(
        f"unbalanced: a feature of {LONG_TESTS} tests x {LONG_WAIT:.0f} s and a one-test "
        f"feature (sum of waits {waits:.0f} s; issue #18 measured -n 2 slower than serial)"
    )
    best = {mode: min(r, key=lambda t: t[1]) for mode, r in uneven.items()}
    for mode, (wall, session) in best.items():
        print(
            f"  {mode:18} {wall:6.1f} s wall, {session:5.1f} s in session, "
            f"{best['serial'][0] / wall:4.2f} x serial"
        )
    print("layer (steward's sources)")
    print(f"  first build         {first:6.3f} s")
    print(f"  unchanged rebuild   {second:6.3f} s   rebuilt={rebuilt} (target < 0.5 s, no rebuild)")
    print(f"  ratio               {first / second:6.1f} x faster when skipped")


if __name__ == "__main__":
    main()
