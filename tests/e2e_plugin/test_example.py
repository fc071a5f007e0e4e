"""examples/e2e stays runnable: run it (serially) against this worker's moto server."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.naming import python_tag
from tests.e2e_plugin import sample

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "e2e"
pytestmark = pytest.mark.slow


def test_example_project_passes_and_cleans_up(tmp_path: Path, aws_env: Any, cfn: Any) -> None:
    project = tmp_path / "e2e"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    run_id = secrets.token_hex(4)
    result = sample.run(project, sample.run_env(aws_env.env, tmp_path), "--e2e-run-id", run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout
    assert "Lambda handlers ran locally" in result.stdout  # the logs test needs them to run
    assert sorted(sample.run_stacks(cfn, run_id)) == [
        f"steward-e2e-logger-{python_tag()}-{run_id}",
        f"steward-e2e-metrics-{python_tag()}-{run_id}",
    ]
    assert sample.live_run_stacks(cfn, run_id) == []
    assert (project / "cdk.out" / "layer.zip").is_file()  # the layer fixture ran
