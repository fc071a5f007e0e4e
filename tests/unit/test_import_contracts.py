"""The layers of docs/architecture.md hold (`lint-imports`, the contracts in pyproject.toml),
and the contracts are not vacuous: a deliberately wrong import breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    done = lint(ROOT / "src", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "wrong", "broken"),
    [
        # a policy reaching for GitHub: the core would no longer be pure
        ("policies/size.py", "import steward.shell.executor", "Policies are pure"),
        # release intelligence importing the command line: a layer upside down
        ("release/version.py", "import steward.cli.main", "Entry points over the shell"),
        # a policy speaking HTTP itself
        ("policies/areas.py", "import httpx", "Policies are pure"),
        # the server reaching for the command line
        ("server/worker.py", "import click", "The server is no CLI"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    tmp_path: Path, module: str, wrong: str, broken: str
) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "steward", src / "steward", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = src / "steward" / module
    target.write_text(target.read_text() + f"\n{wrong}  # noqa\n")
    done = lint(src, tmp_path)
    assert done.returncode != 0
    assert f"{broken}" in done.stdout
    assert "BROKEN" in done.stdout
