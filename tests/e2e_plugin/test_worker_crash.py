"""Workers that really die (`os._exit`, as the OOM killer would end them) in a `pytest -n 2`
run of a generated project on the moto server: what is reported, where the rest of the
feature runs, and what is left of the stacks. Also the two removals the feature-boundary
teardown cannot stand in for: the failed-deploy cleanup and the end-of-session sweep."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.naming import python_tag, stack_name
from tests.e2e_plugin import sample

pytestmark = pytest.mark.slow

CRASHY = """
import os

def test_first(record): pass

def test_kills_its_worker(record):
    os._exit(3)  # every time it runs: it must run once

def test_after_one(record): pass
def test_after_two(record): pass
"""

STEADY = """
def test_one(record): pass
def test_two(record): pass
"""

# dies once, after CloudFormation accepted the create and before the deploy returned
FRAGILE_STACK = """
import os
from steward.e2e import BaseInfrastructure

class FragileStack(BaseInfrastructure):
    def create_resources(self):
        self.create_lambda_functions()
        self.add_cfn_output("Feature", "fragile")

    def deploy(self):
        marker = os.path.join(os.environ["SAMPLE_LOG"], "deploy-died")
        if not os.path.exists(marker):
            cfn = self.deployer.cfn
            create = cfn.create_stack

            def create_then_die(**kwargs):
                response = create(**kwargs)
                open(marker, "w").close()
                os._exit(3)

            cfn.create_stack = create_then_die
        return super().deploy()
"""

# dies on every deploy
DOOMED_STACK = """
import os
from steward.e2e import BaseInfrastructure

class DoomedStack(BaseInfrastructure):
    def create_resources(self):
        os._exit(3)
"""

THREE = """
def test_one(record): pass
def test_two(record): pass
def test_three(record): pass
"""

FOUR = THREE + "def test_four(record): pass\n"


def _run(tmp_path: Path, aws_env: Any, *features: dict[str, str]) -> tuple[str, str, Path]:
    project = sample.write_project(tmp_path / "proj", *features)
    logs = tmp_path / "logs"
    logs.mkdir()
    run_id = secrets.token_hex(4)
    env = sample.run_env(aws_env.env, logs)
    result = sample.run(project, env, "-n", "2", "--e2e-run-id", run_id)
    return result.stdout + result.stderr, run_id, logs


def _stack(feature: str, run_id: str) -> str:
    return stack_name("steward-e2e", feature, run_id, python_tag())


def _only_once(logs: Path, collected: int, output: str) -> dict[str, str]:
    """Every collected test reported exactly once; nodeid (from tests/e2e/) -> outcome."""
    results = sample.results(logs)
    assert all(len(r) == 1 for r in results.values()), results
    assert len(results) == collected, results
    counts = sample.summary_counts(output)
    assert sum(counts.get(k, 0) for k in ("passed", "failed", "skipped", "error")) == collected
    return {nodeid.removeprefix("tests/e2e/"): r[0] for nodeid, r in results.items()}


def _crashes(logs: Path) -> dict[str, str]:
    """nodeid -> the worker xdist reported as crashed while running it."""
    return {r["nodeid"]: r["worker"] for r in sample.reports(logs) if r["when"] == "???"}


def test_a_test_that_kills_its_worker_fails_once_and_its_feature_goes_on(
    tmp_path: Path, aws_env: Any, cfn: Any
) -> None:
    output, run_id, logs = _run(
        tmp_path, aws_env, sample.feature("crashy", CRASHY), sample.feature("steady", STEADY)
    )
    outcomes = _only_once(logs, 6, output)
    assert outcomes == {
        "crashy/test_crashy.py::test_first": "passed",
        "crashy/test_crashy.py::test_kills_its_worker": "failed",
        "crashy/test_crashy.py::test_after_one": "passed",
        "crashy/test_crashy.py::test_after_two": "passed",
        "steady/test_steady.py::test_one": "passed",
        "steady/test_steady.py::test_two": "passed",
    }, output
    assert sample.summary_counts(output) == {"failed": 1, "passed": 5}, output
    assert output.count("replacing crashed worker") == 1, output

    # the rest of the feature ran on a new worker, on the stack the dead one deployed
    (dead,) = _crashes(logs).values()
    crashy = [e for e in sample.events(logs) if "crashy" in e["nodeid"]]
    ran = {e["nodeid"].rsplit("::", 1)[1]: e for e in crashy}
    assert set(ran) == {"test_first", "test_kills_its_worker", "test_after_one", "test_after_two"}
    assert ran["test_first"]["worker"] == ran["test_kills_its_worker"]["worker"] == dead
    adopter = ran["test_after_one"]["worker"]
    assert adopter not in ("main", dead)
    assert ran["test_after_two"]["worker"] == adopter
    assert all(e["outputs"] == ran["test_first"]["outputs"] for e in ran.values())
    name = _stack("crashy", run_id)
    assert ran["test_after_one"]["outputs"]["BasicHandler"].startswith(name + "-")

    # created once (adopted, not re-created), and nothing of the run is left
    stacks = sample.run_stacks(cfn, run_id)
    assert stacks == {name: ["DELETE_COMPLETE"], _stack("steady", run_id): ["DELETE_COMPLETE"]}
    assert sample.live_run_stacks(cfn, run_id) == []
    assert f"steward-e2e: run {run_id}: no stacks left" in output


def test_a_worker_dying_in_a_deploy_hands_the_feature_on_and_stops_after_two(
    tmp_path: Path, aws_env: Any, cfn: Any
) -> None:
    output, run_id, logs = _run(
        tmp_path,
        aws_env,
        sample.feature("fragile", THREE, stack=FRAGILE_STACK),
        sample.feature("doomed", FOUR, stack=DOOMED_STACK),
        sample.feature("steady", STEADY),
    )
    outcomes = _only_once(logs, 9, output)
    # fragile: its worker died in the deploy of the first test, after the create was sent
    assert outcomes["fragile/test_fragile.py::test_one"] == "failed"
    assert outcomes["fragile/test_fragile.py::test_two"] == "passed", output
    assert outcomes["fragile/test_fragile.py::test_three"] == "passed", output
    # doomed kills every worker that deploys it: two tests fail, the others are not tried
    doomed = {k.rsplit("::", 1)[1]: v for k, v in outcomes.items() if k.startswith("doomed/")}
    assert doomed == {
        "test_one": "failed",
        "test_two": "failed",
        "test_three": "skipped",
        "test_four": "skipped",
    }, output
    assert "2 workers died in tests/e2e/doomed" in output, output
    assert outcomes["steady/test_steady.py::test_one"] == "passed", output
    assert outcomes["steady/test_steady.py::test_two"] == "passed", output
    assert output.count("replacing crashed worker") == 3, output

    crashes = _crashes(logs)
    ran = [e for e in sample.events(logs) if "fragile" in e["nodeid"]]
    assert [e["nodeid"].rsplit("::", 1)[1] for e in ran] == ["test_two", "test_three"]
    dead = crashes["tests/e2e/fragile/test_fragile.py::test_one"]
    assert len({e["worker"] for e in ran}) == 1
    assert ran[0]["worker"] not in ("main", dead)
    assert ran[0]["outputs"]["Feature"] == "fragile"
    assert ran[0]["outputs"]["BasicHandler"].startswith(_stack("fragile", run_id) + "-")
    # the stack the dead worker created was adopted: one create, then deleted
    stacks = sample.run_stacks(cfn, run_id)
    assert stacks == {
        _stack("fragile", run_id): ["DELETE_COMPLETE"],
        _stack("steady", run_id): ["DELETE_COMPLETE"],
    }, stacks
    assert sample.live_run_stacks(cfn, run_id) == []


BROKEN = """
def test_one(record): pass
def test_two(record): pass
"""

ORPHAN = """
import os

def test_first(record): pass

def test_last_kills_its_worker(record):
    os._exit(3)  # the feature's last test: no worker is left to tear its stack down
"""


def test_failed_deploy_cleanup_and_sweep_remove_what_no_teardown_reaches(
    tmp_path: Path, aws_env: Any, cfn: Any
) -> None:
    # The feature-boundary teardown deletes a feature's stack, failed or not, so a run where
    # it happens cannot tell whether the other two removals work; here it cannot happen
    # first: the failed stack is looked at when its error is reported, before any teardown,
    # and the orphan's worker dies on the feature's last test.
    output, run_id, logs = _run(
        tmp_path,
        aws_env,
        sample.feature("broken", BROKEN, broken=True),
        sample.feature("orphan", ORPHAN),
    )
    outcomes = _only_once(logs, 4, output)
    assert outcomes == {
        "broken/test_broken.py::test_one": "error",
        "broken/test_broken.py::test_two": "skipped",
        "orphan/test_orphan.py::test_first": "passed",
        "orphan/test_orphan.py::test_last_kills_its_worker": "failed",
    }, output

    # the failed deploy deleted its stack itself, before the error reached the report
    (seen,) = [e for e in sample.events(logs) if "failed_setup" in e]
    assert seen["nodeid"] == "tests/e2e/broken/test_broken.py::test_one"
    assert seen["failed_setup"] == _stack("broken", run_id)
    assert seen["statuses"] == ["DELETE_COMPLETE"], seen

    # the orphan's stack outlived its worker: only the end-of-session sweep removed it
    assert f"steward-e2e: run {run_id}: no stacks left, swept 1 left behind" in output, output
    stacks = sample.run_stacks(cfn, run_id)
    assert stacks == {
        _stack("broken", run_id): ["DELETE_COMPLETE"],
        _stack("orphan", run_id): ["DELETE_COMPLETE"],
    }, stacks
    assert sample.live_run_stacks(cfn, run_id) == []
