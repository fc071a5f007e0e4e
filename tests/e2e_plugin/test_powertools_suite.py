"""Issue #18's "done when": two of Powertools' own E2E features (idempotency, parameters),
their files verbatim from `tests/fixtures/powertools_e2e` with only the import lines
rewritten by `steward e2e migrate`, run on moto with `pytest -n 2`; their handlers run in
steward's local Lambda runtime with a layer pip builds from the real aws-lambda-powertools.

Simplified from reality: the layer's wheels are repacked from the copy installed in this
environment (pip runs offline, `--no-index`), and moto cannot create AppConfig resources
through CloudFormation, so the AppConfig test is expected to fail (allowed by
`steward_e2e_allow_skipped`, which the project's ini would carry).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from steward.e2e import aws
from tests.e2e_plugin import sample
from tests.e2e_plugin.test_interrupt import leftovers

FIXTURE = Path(__file__).parents[1] / "fixtures" / "powertools_e2e"
# what moto cannot create: AppConfig through CloudFormation (a warning, then nothing)
MOTO_CANNOT = {
    "parameters/test_appconfig.py::test_get_parameter_appconfig_freeform"
}  # rootdir: tests/e2e


def repack(dist_name: str, wheelhouse: Path) -> Path:
    """An installed distribution as a py3-none-any wheel (its own files and dist-info)."""
    dist = importlib.metadata.distribution(dist_name)
    name = dist.metadata["Name"].replace("-", "_")
    wheel = wheelhouse / f"{name}-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in dist.files or []:
            posix = rel.as_posix()
            if posix.startswith("..") or "__pycache__" in posix:
                continue
            if posix.endswith((".dist-info/INSTALLER", ".dist-info/REQUESTED")):
                continue
            path = Path(str(dist.locate_file(rel)))
            if path.is_file():
                zf.write(path, posix)
    return wheel


def junit_outcomes(report: Path) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    out = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        nodeid = f"{module}.py::{case.get('name')}"
        kinds = {child.tag for child in case}
        out[nodeid] = (
            "failed"
            if kinds & {"failure", "error"}
            else "skipped"
            if "skipped" in kinds
            else "passed"
        )
    return out


@pytest.mark.slow
def test_powertools_idempotency_and_parameters_run_unchanged_on_moto(
    tmp_path: Path, aws_env: Any
) -> None:
    project = tmp_path / "powertools"
    shutil.copytree(FIXTURE, project)
    migrate = subprocess.run(
        [sys.executable, "-m", "steward", "e2e", "migrate", "tests", "--write", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    # only import lines changed
    for original in FIXTURE.rglob("*.py"):
        rel = original.relative_to(FIXTURE)
        before = original.read_text().splitlines()
        after = (project / rel).read_text().splitlines()
        assert len(before) == len(after), rel
        for old, new in zip(before, after, strict=True):
            if old != new:
                assert "tests.e2e.utils" in old, (rel, old)
                assert "steward.e2e.compat" in new, (rel, new)

    wheelhouse = tmp_path / "wheels"
    wheelhouse.mkdir()
    for dist in ("aws-lambda-powertools", "jmespath", "typing-extensions"):
        repack(dist, wheelhouse)
    version = importlib.metadata.version("aws-lambda-powertools")
    logs = tmp_path / "logs"
    logs.mkdir()
    env = sample.run_env(aws_env.env, logs)
    env.update(
        {
            "STEWARD_E2E_LAYER_PACKAGE": f"aws-lambda-powertools=={version}",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse),
        }
    )
    run_id = "pt" + aws_env.endpoint.rsplit(":", 1)[-1]
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        sample.pytest_cmd(
            "-p",
            "steward.e2e",
            "-n",
            "2",
            "--e2e-run-id",
            run_id,
            "-o",
            "steward_e2e_allow_skipped=AWS::AppConfig::*",
            f"--junitxml={junit}",
            "tests/e2e",
        ),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    output = result.stdout + result.stderr
    outcomes = junit_outcomes(junit)
    assert len(outcomes) == 9, output
    failed = {nodeid for nodeid, outcome in outcomes.items() if outcome != "passed"}
    assert failed == MOTO_CANNOT, output
    assert "Lambda handlers ran locally" in output, output
    assert f"run {run_id}: no stacks left" in output, output
    left = leftovers(run_id)
    assert left == {"stacks": [], "functions": [], "tables": [], "log_groups": []}, left
    ssm = aws.client("ssm")
    params = ssm.get_parameters_by_path(Path="/powertools/e2e/parameters", Recursive=True)
    assert params["Parameters"] == [], json.dumps(params, default=str)
