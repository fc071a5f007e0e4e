"""zizmor (the dev group's, offline, no GitHub token) at its default persona finds nothing in
the workflows `steward init` writes, for the default config and for one that publishes a
Lambda layer and a SAR application, beyond the documented ignores (`ZIZMOR_IGNORES`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from steward.config.model import StewardConfig
from steward.init import InitOptions, plan_files, write_files
from steward.init.writer import ZIZMOR_IGNORES

from .conftest import git

ACCOUNT = {
    # what aws-actions/configure-aws-credentials exports; steward assumes role_arn with it
    "access_key_id_env": "AWS_ACCESS_KEY_ID",
    "secret_access_key_env": "AWS_SECRET_ACCESS_KEY",
    "session_token_env": "AWS_SESSION_TOKEN",
}
LAYER_AND_SAR: dict[str, Any] = {
    "release": {
        "layer": {
            "name": "demo-{arch}",
            "accounts": {
                "beta": {
                    **ACCOUNT,
                    "role_arn": "arn:aws:iam::111111111111:role/layer-beta",
                    "regions": ["eu-west-1"],
                },
                "prod": {
                    **ACCOUNT,
                    "role_arn": "arn:aws:iam::222222222222:role/layer-prod",
                    "regions": ["eu-west-1", "us-east-1"],
                },
            },
        },
        "sar": {
            "name": "demo",
            "template": "template.yml",
            "author": "Dev",
            "description": "demo application",
            "accounts": {
                "beta": {**ACCOUNT, "regions": ["eu-west-1"]},
                "prod": {**ACCOUNT, "regions": ["eu-west-1"]},
            },
        },
    }
}


def layer_and_sar() -> StewardConfig:
    return StewardConfig.model_validate(LAYER_AND_SAR)


def zizmor_binary() -> str:
    found = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    if found is None:
        pytest.fail("zizmor is missing: it is in the dev group (make setup / uv sync)")
    return found


def zizmor(root: Path, *extra: str) -> list[dict[str, Any]]:
    """zizmor's findings over ``root``'s workflows: offline, its default persona, no config
    file (the ignores the templates carry inline are the only ones)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN", "GH_HOST"}
    }
    result = subprocess.run(
        [
            zizmor_binary(),
            "--offline",
            "--no-config",
            "--no-progress",
            "--format",
            "json",
            *extra,
            str(root / ".github" / "workflows"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=root,
    )
    assert result.stdout.strip().startswith("["), result.stdout + result.stderr
    findings = json.loads(result.stdout)
    assert isinstance(findings, list)
    return findings


def summary(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(file, audit, line) of each finding, for a readable assertion message."""
    out = []
    for finding in findings:
        concrete = finding["locations"][0]["concrete"]["location"]["start_point"]
        key = finding["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]
        out.append((Path(key).name, finding["ident"], concrete["row"] + 1))
    return sorted(out)


def init(root: Path, config: StewardConfig | None, *, pypi_token: bool = False) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    options = InitOptions(branch="main", pypi_token=pypi_token)
    write_files(root, plan_files(options, config=config))
    return root


# the default config; a layer and SAR application (AWS through OIDC); the PyPI token opt-out
CASES = [(None, False), ("layer+sar", False), ("layer+sar", True)]


@pytest.mark.parametrize(("config", "pypi_token"), CASES)
def test_zizmor_finds_nothing_in_the_written_workflows(
    tmp_path: Path, config: str | None, pypi_token: bool
) -> None:
    root = init(tmp_path / "repo", layer_and_sar() if config else None, pypi_token=pypi_token)
    assert summary(zizmor(root)) == []


@pytest.mark.parametrize(("config", "pypi_token"), CASES)
def test_the_only_ignored_findings_are_the_documented_ones(
    tmp_path: Path, config: str | None, pypi_token: bool
) -> None:
    root = init(tmp_path / "repo", layer_and_sar() if config else None, pypi_token=pypi_token)
    found = {(file, audit) for file, audit, _ in summary(zizmor(root, "--no-ignores"))}
    assert found == {(file, audit) for file, audit, _reason in ZIZMOR_IGNORES}
    for file, audit, reason in ZIZMOR_IGNORES:
        text = (root / ".github" / "workflows" / file).read_text(encoding="utf-8")
        assert f"# zizmor: ignore[{audit}]" in text, (file, audit)
        assert len(reason) > 40, reason  # a reason, not a label


def test_zizmor_catches_an_unpinned_action(tmp_path: Path) -> None:
    root = init(tmp_path / "repo", None)
    sweep = root / ".github" / "workflows" / "steward-sweep.yml"
    text = sweep.read_text(encoding="utf-8")
    pinned = next(line for line in text.splitlines() if "actions/setup-python@" in line)
    sweep.write_text(text.replace(pinned, "      - uses: actions/setup-python@v5"))
    assert ("steward-sweep.yml", "unpinned-uses") in {(f, a) for f, a, _ in summary(zizmor(root))}
