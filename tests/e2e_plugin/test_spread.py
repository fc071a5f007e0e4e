"""--e2e-spread on real moto: a deployed feature's tests spread over idle workers, its
stack is deployed once, deleted once all of them ran, and a feature whose conftest deploys
its own stack is never spread."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_plugin import sample

LONG = "\n".join(f"def test_long_{i}(record):\n    import time; time.sleep(1)\n" for i in range(6))
SHORT = "def test_short_0(record): pass\ndef test_short_1(record): pass\n"
OWN_CONFTEST = """
import pytest
from tests.e2e.own.infrastructure import OwnStack

@pytest.fixture(scope="package")
def infrastructure():
    stack = OwnStack()
    try:
        yield stack.deploy()
    finally:
        stack.delete()
"""
OWN = "\n".join(f"def test_own_{i}(record): pass\n" for i in range(4))


@pytest.mark.slow
def test_spread_runs_one_long_feature_on_both_workers(tmp_path: Path, aws_env: Any) -> None:
    result, logs, run_id = _spread_run(
        tmp_path, aws_env, sample.feature("long", LONG), sample.feature("short", SHORT)
    )
    events = sample.events(logs)
    workers = {e["worker"] for e in events if "test_long" in e["nodeid"]}
    assert workers == {"gw0", "gw1"}, events
    # every test of a feature saw the same stack
    for feature in ("long", "short"):
        outputs = {e["outputs"]["Feature"] for e in events if f"/{feature}/" in e["nodeid"]}
        arns = {e["outputs"]["BasicHandlerArn"] for e in events if f"/{feature}/" in e["nodeid"]}
        assert outputs == {feature}, events
        assert len(arns) == 1, events
    stacks = sample.run_stacks(aws_env_cfn(), run_id)
    assert sorted(stacks.values()) == [["DELETE_COMPLETE"], ["DELETE_COMPLETE"]], stacks
    assert f"run {run_id}: no stacks left" in result.stdout, result.stdout


def test_a_feature_with_its_own_conftest_fixture_is_not_spread(
    tmp_path: Path, aws_env: Any
) -> None:
    own = sample.feature("own", OWN)
    own["own/conftest.py"] = OWN_CONFTEST
    _, logs, run_id = _spread_run(tmp_path, aws_env, own)
    assert len({e["worker"] for e in sample.events(logs)}) == 1, sample.events(logs)
    assert sample.live_run_stacks(aws_env_cfn(), run_id) == []


def _spread_run(tmp_path: Path, aws_env: Any, *features: dict[str, str]) -> tuple[Any, Path, str]:
    """`pytest -n 2 --e2e-spread` on a sample project; it must pass."""
    project = sample.write_project(tmp_path / "proj", *features)
    logs = tmp_path / "logs"
    logs.mkdir()
    run_id = secrets.token_hex(4)
    env = sample.run_env(aws_env.env, logs)
    result = sample.run(project, env, "-n", "2", "--e2e-spread", "--e2e-run-id", run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, logs, run_id


def aws_env_cfn() -> Any:
    from steward.e2e import aws

    return aws.client("cloudformation")
