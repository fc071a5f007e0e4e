"""`action.yml`: a composite action that installs steward from its own path and runs
`steward handle` with the Actions environment. The run step's script is executed for real
with bash, the way the runner does once it has expanded the step's ``env``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from steward.cli.handle import handle
from tests.support.github_material import ROOT, examples, pull_request_event

EXPR = re.compile(r"\$\{\{\s*(?P<expr>[^}]+?)\s*\}\}")


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _step(action: dict[str, Any], name: str) -> dict[str, Any]:
    [step] = [s for s in action["runs"]["steps"] if s.get("name") == name]
    return step


def test_is_a_composite_action_with_the_documented_inputs(action: dict[str, Any]):
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"config", "dry-run", "token", "login", "python-version"}
    assert action["inputs"]["dry-run"]["default"] == "false"
    assert action["inputs"]["token"]["default"] == "${{ github.token }}"
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash", step  # composite run steps need it


def test_expressions_name_declared_inputs_and_never_enter_scripts(action: dict[str, Any]):
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for expr in EXPR.findall(text):
        if expr.startswith("inputs."):
            assert expr.removeprefix("inputs.") in action["inputs"], expr
        else:
            assert expr in {"github.token", "github.action_path"}, expr
    for step in action["runs"]["steps"]:
        assert not EXPR.search(step.get("run", "")), f"expression spliced into {step['name']}"


def test_install_step_installs_this_checkout(action: dict[str, Any]):
    step = _step(action, "Install steward")
    assert step["env"]["STEWARD_SRC"] == "${{ github.action_path }}"
    assert "pip install" in step["run"]
    assert '"$STEWARD_SRC"' in step["run"]
    assert (ROOT / "pyproject.toml").is_file()  # the action path is an installable project


def test_run_step_uses_options_steward_handle_has(action: dict[str, Any]):
    script = _step(action, "Run steward handle")["run"]
    used = set(re.findall(r"--[a-z-]+", script))
    known = {opt for p in handle.params for opt in p.opts}
    assert used == {"--config", "--dry-run"}
    assert used <= known


def _run_script(
    action: dict[str, Any],
    tmp_path: Path,
    inputs: dict[str, str],
    event: str,
    payload: dict[str, Any],
) -> subprocess.CompletedProcess[str]:
    """Run the step's script as the runner would: its env expanded from the inputs."""
    step = _step(action, "Run steward handle")
    values = {f"inputs.{k}": v.get("default", "") for k, v in action["inputs"].items()}
    values["inputs.token"] = ""  # no token here: a dry run then stays offline
    values.update({f"inputs.{k}": v for k, v in inputs.items()})
    env = {k: EXPR.sub(lambda m: values[m.group("expr")], str(v)) for k, v in step["env"].items()}
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        ["bash", "-c", step["run"]],
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": "Codertocat/Hello-World",
            **env,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_step_handles_the_event_from_the_actions_environment(
    action: dict[str, Any], tmp_path: Path
):
    star = examples("star", "created")[-1]
    done = _run_script(action, tmp_path, {}, "star", star)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ignored: event 'star' is not handled"


def test_run_step_dry_run_and_config_inputs_reach_steward(action: dict[str, Any], tmp_path: Path):
    config = tmp_path / "custom.yml"
    config.write_text("semantic_title:\n  status_context: custom/title\n", encoding="utf-8")
    payload = pull_request_event("edited", title="feat: x", title_from="fix: x")
    done = _run_script(
        action, tmp_path, {"dry-run": "true", "config": str(config)}, "pull_request", payload
    )
    assert done.returncode == 0, done.stderr
    assert "status custom/title = success" in done.stdout  # the config was read
    assert "#2: add labels feature" in done.stdout  # a plan printed, nothing applied
