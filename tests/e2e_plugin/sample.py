"""A generated project using the plugin the way a user would (the playbook's tests/e2e tree).

Each sample test appends one JSON line (nodeid, worker, outputs) to $SAMPLE_LOG/events.jsonl,
so the outer test can check which worker ran what; the controller appends every test report
it receives to $SAMPLE_LOG/reports.jsonl, so the outer test can count what was reported.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

CONFTEST = """
import json, os
import boto3, pytest
from steward.e2e.naming import stack_name

def _log(line):
    with open(os.path.join(os.environ["SAMPLE_LOG"], "events.jsonl"), "a") as fh:
        fh.write(json.dumps(line) + "\\n")

@pytest.fixture
def record(request, infrastructure):
    _log({"nodeid": request.node.nodeid, "outputs": infrastructure,
          "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")})
    return infrastructure

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "setup" and report.failed:
        # the feature's stack as it is when its deploy error is reported: before any teardown
        name = stack_name(os.environ["STEWARD_E2E_PREFIX"], item.path.parent.name,
                          os.environ["STEWARD_E2E_RUN_ID"])
        pages = boto3.client("cloudformation").get_paginator("list_stacks").paginate()
        statuses = [s["StackStatus"] for page in pages for s in page["StackSummaries"]
                    if s["StackName"] == name]
        _log({"nodeid": item.nodeid, "failed_setup": name, "statuses": statuses,
              "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")})
    return report
"""

# the project's root conftest: loaded by the controller, which receives every report
REPORTS = """
import json, os

def pytest_runtest_logreport(report):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    line = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
            "worker": gateway.id if gateway is not None else "main",
            "longrepr": "" if report.passed else str(report.longrepr)[-500:]}
    with open(os.path.join(os.environ["SAMPLE_LOG"], "reports.jsonl"), "a") as fh:
        fh.write(json.dumps(line) + "\\n")
"""

HANDLER = "def lambda_handler(event, context):\n    return event\n"

FUNCTIONS_STACK = """
from steward.e2e import BaseInfrastructure

class {cls}(BaseInfrastructure):
    def create_resources(self):
        self.create_lambda_functions()
        self.add_cfn_output("Feature", "{name}")
"""

BROKEN_STACK = """
from steward.e2e import BaseInfrastructure

class {cls}(BaseInfrastructure):
    def create_resources(self):
        # a role Lambda cannot assume: CloudFormation fails the create
        self.template.add_resource("Fn", "AWS::Lambda::Function", {{
            "Runtime": "python3.11", "Handler": "x.handler",
            "Role": "arn:aws:iam::123456789012:role/does-not-exist",
            "Code": {{"ZipFile": "def handler(e, c): return e"}},
        }})
"""


def feature(
    name: str,
    tests: str,
    *,
    handlers: tuple[str, ...] = ("basic_handler",),
    broken: bool = False,
    stack: str | None = None,
) -> dict[str, str]:
    """A feature folder; `stack` replaces the generated infrastructure.py."""
    cls = name.capitalize() + "Stack"
    if stack is None:
        stack = (BROKEN_STACK if broken else FUNCTIONS_STACK).format(cls=cls, name=name)
    files = {
        f"{name}/__init__.py": "",
        f"{name}/infrastructure.py": stack,
        f"{name}/test_{name}.py": textwrap.dedent(tests),
    }
    for handler in handlers:
        files[f"{name}/handlers/{handler}.py"] = HANDLER
    return files


def write_project(root: Path, *features: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\nsteward_e2e = true\n")
    (root / "conftest.py").write_text(REPORTS)
    e2e = root / "tests" / "e2e"
    files = {"__init__.py": "", "conftest.py": CONFTEST}
    for f in features:
        files.update(f)
    for rel, content in files.items():
        path = e2e / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def run_env(aws_env: dict[str, str], log_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    env.update(aws_env)
    env["SAMPLE_LOG"] = str(log_dir)
    return env


def pytest_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args]


def run(
    project: Path, env: dict[str, str], *args: str, timeout: float = 150
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pytest_cmd(*args),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def interrupt_when(
    project: Path, env: dict[str, str], marker: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Start pytest, send SIGINT (Ctrl-C) once `marker` exists, wait for it to finish."""
    import time

    proc = subprocess.Popen(
        pytest_cmd(*args),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, _ = proc.communicate()
            raise AssertionError(f"marker {marker} never appeared:\n{out}")
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def events(log_dir: Path, name: str = "events") -> list[dict[str, Any]]:
    path = log_dir / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def reports(log_dir: Path) -> list[dict[str, Any]]:
    """Every test report the controller received (nodeid, when, outcome, worker, longrepr)."""
    return events(log_dir, "reports")


def results(log_dir: Path) -> dict[str, list[str]]:
    """nodeid -> each result pytest counted for it, as the summary line does: a failed or
    skipped setup, the call, a failed teardown, and xdist's report of a crash (`when` ???).
    A test reported exactly once has one entry."""
    out: dict[str, list[str]] = {}
    for r in reports(log_dir):
        when, outcome = r["when"], r["outcome"]
        if when == "setup" and outcome != "passed":
            result = "error" if outcome == "failed" else outcome
        elif when == "teardown" and outcome == "failed":
            result = "error"
        elif when in ("call", "???"):
            result = outcome
        else:
            continue
        out.setdefault(r["nodeid"], []).append(result)
    return out


def summary_counts(output: str) -> dict[str, int]:
    """The closing line's counts: `1 failed, 5 passed in 3.2s` -> {"failed": 1, "passed": 5}."""
    found = re.findall(r"^=+ (.+) in [0-9.]+s", output, re.MULTILINE)
    assert found, output[-2000:]
    counts = {}
    for part in found[-1].split(", "):
        number, word = part.split(" ", 1)
        counts[{"errors": "error", "warnings": "warning"}.get(word, word)] = int(number)
    return counts


def run_stacks(cfn: Any, run_id: str) -> dict[str, list[str]]:
    """Stack name -> statuses of every stack (deleted too) whose name carries the run id."""
    out: dict[str, list[str]] = {}
    for page in cfn.get_paginator("list_stacks").paginate():
        for s in page["StackSummaries"]:
            if s["StackName"].endswith(f"-{run_id}"):
                out.setdefault(s["StackName"], []).append(s["StackStatus"])
    return out


def live_run_stacks(cfn: Any, run_id: str) -> list[str]:
    return [
        s["StackName"]
        for page in cfn.get_paginator("describe_stacks").paginate()
        for s in page["Stacks"]
        if {"Key": "steward:e2e:run-id", "Value": run_id} in s.get("Tags", [])
        and s["StackStatus"] != "DELETE_COMPLETE"
    ]
