"""steward starts a bounded number of git processes per command, whatever the number of
tags: on the real Powertools history (146 tags, 49 of them on bumps off the trunk) the old
line check started one `merge-base` per tag (62 processes for `version current`).

Counted with a `git` on PATH that logs each start and runs the real one; steward runs as a
user runs it, in its own process."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.release.powertools import load_powertools

LIMIT = 6


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    where = tmp_path_factory.mktemp("gitcount")
    repo = load_powertools(where)
    real = shutil.which("git")
    assert real is not None
    bin_dir = where / "bin"
    bin_dir.mkdir()
    log = where / "git.log"
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return repo, log, env


@pytest.mark.parametrize(
    "args",
    [
        ["version", "current"],
        ["version", "next"],
        ["changelog", "--no-cache"],
        pytest.param(["changelog"], id="fills-the-cache"),
        pytest.param(["changelog"], id="warm"),  # reads only what is new
        ["changelog", "--json"],
        ["release", "notes", "--from-git"],
    ],
)
def test_git_processes_per_command(
    counted: tuple[Path, Path, dict[str, str]], args: list[str]
) -> None:
    repo, log, env = counted
    log.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "steward", *args, "--path", str(repo)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    started = log.read_text().splitlines()
    assert 0 < len(started) <= LIMIT, "\n".join(started)
