"""Thin git plumbing for the pipeline: every call checked, errors as `GitError`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from steward.errors import GitError


def git(
    root: Path, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
) -> str:
    """Run ``git args`` in ``root``; return stdout stripped, raise `GitError` on failure."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    proc = subprocess.run(
        ["git", *args], cwd=root, env=full_env, input=stdin, capture_output=True, check=False
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-800:]
        raise GitError(f"git {' '.join(args[:3])} failed ({proc.returncode}): {err}")
    return proc.stdout.decode(errors="replace").strip()


def git_bytes(root: Path, *args: str) -> bytes:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-800:]
        raise GitError(f"git {' '.join(args[:3])} failed ({proc.returncode}): {err}")
    return proc.stdout


def ref_sha(root: Path, ref: str) -> str | None:
    """The object a local ref points at, or None when it does not exist."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", ref],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def remote_ref(root: Path, remote: str, ref: str) -> str | None:
    """The object ``ref`` points at on ``remote`` (read with ls-remote), or None."""
    out = git(root, "ls-remote", remote, ref)
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None


def remote_url(root: Path, remote: str) -> str:
    try:
        return git(root, "remote", "get-url", remote)
    except GitError:
        return remote
