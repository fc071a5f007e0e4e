"""Real deploy/teardown cycles: a generated project run by pytest (with and without xdist)
against the moto server; after every run no stack of that run may remain."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.naming import python_tag
from tests.e2e_plugin import sample

pytestmark = pytest.mark.slow

ALPHA = """
def test_outputs(record):
    assert set(record) == {"BasicHandler", "BasicHandlerArn", "Feature"}
    assert record["BasicHandlerArn"].endswith(":function:" + record["BasicHandler"])

def test_fails(record):
    assert record["Feature"] == "not alpha"
"""

BETA = """
def test_one(record): pass
def test_two(record): pass
def test_three(record): pass
"""

GAMMA = """
import os, signal

def test_first(record): pass

def test_dies_once(record):
    marker = os.path.join(os.environ["SAMPLE_LOG"], "died")
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)

def test_after(record): pass
"""

DELTA = """
import json
import boto3

def test_functions_are_wired(record):
    lam = boto3.client("lambda")
    for name in ("BasicHandler", "ColdStart"):
        config = lam.get_function(FunctionName=record[name])["Configuration"]
        assert config["FunctionArn"] == record[name + "Arn"]
        assert config["Handler"] in ("basic_handler.lambda_handler", "cold_start.lambda_handler")

def test_invoke_echoes(record):
    from steward.e2e.data_fetcher import get_lambda_response
    _, body = get_lambda_response(record["BasicHandler"], {"n": 1})
    assert json.loads(body) == {"n": 1}
"""


def _outcomes(junit: Path) -> dict[str, str]:
    out = {}
    for case in ET.parse(junit).iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        out[name] = kinds[-1] if kinds else "passed"
    return out


def test_parallel_run_groups_features_and_leaves_no_stack(
    tmp_path: Path, aws_env: Any, cfn: Any
) -> None:
    project = sample.write_project(
        tmp_path / "proj",
        sample.feature("alpha", ALPHA),
        sample.feature("beta", BETA, broken=True),
        sample.feature("gamma", GAMMA),
        sample.feature("delta", DELTA, handlers=("basic_handler", "cold_start")),
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    run_id = secrets.token_hex(4)
    junit = tmp_path / "junit.xml"
    env = sample.run_env(aws_env.env, logs)
    result = sample.run(project, env, "-n", "2", "--e2e-run-id", run_id, f"--junitxml={junit}")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output

    outcomes = _outcomes(junit)
    assert outcomes["test_alpha::test_outputs"] == "passed", output
    assert outcomes["test_alpha::test_fails"] == "failure"
    # a failed deploy is reported once, on the feature's first test; the others are skipped
    beta = sorted(v for k, v in outcomes.items() if k.startswith("test_beta::"))
    assert beta == ["error", "skipped", "skipped"], outcomes
    assert output.count("deploy of feature beta failed") >= 2  # the two skip reasons
    assert outcomes["test_gamma::test_after"] == "passed", output
    assert outcomes["test_delta::test_functions_are_wired"] == "passed", output
    assert outcomes["test_delta::test_invoke_echoes"] == "passed", output
    assert "crashed" in output or "replacing crashed worker" in output

    # features are the unit of distribution: one worker per feature (gamma until its crash)
    seen = sample.events(logs)
    for name in ("alpha", "delta"):
        workers = {e["worker"] for e in seen if f"/{name}/" in e["nodeid"]}
        assert len(workers) == 1, (name, seen)
    assert {e["worker"] for e in seen} <= {"gw0", "gw1", "gw2", "gw3"}

    # each feature's stack was created exactly once (gamma's was adopted after the crash,
    # beta's failed create was not retried per test), and nothing of the run is left
    stacks = sample.run_stacks(cfn, run_id)
    expected = {
        f"steward-e2e-{f}-{python_tag()}-{run_id}" for f in ("alpha", "beta", "gamma", "delta")
    }
    assert set(stacks) == expected, stacks
    assert all(statuses == ["DELETE_COMPLETE"] for statuses in stacks.values()), stacks
    assert sample.live_run_stacks(cfn, run_id) == []
    assert f"steward-e2e: run {run_id}: no stacks left" in output


FIRST = """
def test_first(record):
    assert record["Feature"] == "first"
"""

SECOND = """
import boto3, pytest

def test_previous_feature_is_already_deleted(record, e2e_run_id):
    name = record["BasicHandler"].split("-BasicHandler")[0].replace("-second-", "-first-")
    assert "-first-" in name and name.endswith(e2e_run_id)
    with pytest.raises(Exception, match="does not exist"):
        boto3.client("cloudformation").describe_stacks(StackName=name)
"""

THIRD = """
import os, time

def test_hangs_until_interrupted(record):
    open(os.path.join(os.environ["SAMPLE_LOG"], "hanging"), "w").close()
    time.sleep(60)
"""


def test_serial_run_tears_down_at_feature_boundary_and_on_ctrl_c(
    tmp_path: Path, aws_env: Any, cfn: Any
) -> None:
    project = sample.write_project(
        tmp_path / "proj",
        sample.feature("first", FIRST),
        sample.feature("second", SECOND),
        sample.feature("third", THIRD),
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    run_id = secrets.token_hex(4)
    env = sample.run_env(aws_env.env, logs)
    result = sample.interrupt_when(project, env, logs / "hanging", "--e2e-run-id", run_id)
    assert "KeyboardInterrupt" in result.stdout, result.stdout
    # collection order is first, second, third: second checks first's stack is already gone
    assert "PASSED tests/e2e/first/test_first.py::test_first" in result.stdout, result.stdout
    assert (
        "PASSED tests/e2e/second/test_second.py::test_previous_feature_is_already_deleted"
        in result.stdout
    ), result.stdout
    stacks = sample.run_stacks(cfn, run_id)
    assert len(stacks) == 3, stacks  # all three were deployed ...
    assert all(s == ["DELETE_COMPLETE"] for s in stacks.values()), stacks  # ... and deleted
    assert sample.live_run_stacks(cfn, run_id) == []
