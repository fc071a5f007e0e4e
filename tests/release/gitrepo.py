"""Build real git repositories for the tests, with fixed authors and dates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


class Repo:
    """A scratch repository; every commit gets the next fixed timestamp (one day apart)."""

    def __init__(self, path: Path, start: int = 1_700_000_000) -> None:
        self.path = path
        self.clock = start
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "tag.gpgsign", "false")
        self.counter = 0

    def env(self, name: str, email: str) -> dict[str, str]:
        date = f"{self.clock} +0000"
        return {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": date,
        }

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            check=True,
            env=env or self.env("Tester", "tester@example.com"),
        )
        return out.stdout.strip()

    def commit(
        self,
        message: str,
        *,
        author: str = "Ana Lima",
        email: str = "ana@example.com",
        file: str = "file.txt",
    ) -> str:
        self.clock += 86_400
        self.counter += 1
        (self.path / file).write_text(f"{self.counter}\n")
        self.git("add", file)
        self.git("commit", "-q", "-m", message, env=self.env(author, email))
        return self.git("rev-parse", "HEAD")

    def set_version(self, version: str, file: str = "pyproject.toml") -> None:
        """Stage ``file`` holding ``version`` as a project's version (the next commit takes
        it along), the way a real project carries one."""
        (self.path / file).write_text(f'[project]\nname = "sample"\nversion = "{version}"\n')
        self.git("add", file)

    def bump(self, version: str, message: str = "chore: version bump") -> str:
        """A release bump as the playbook's workflow commits it: the version line alone
        changes (`set_version` must have given the file an earlier version)."""
        self.clock += 86_400
        self.set_version(version)
        self.git("commit", "-q", "-m", message, env=self.env("Bot", "bot@example.com"))
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, *, annotated: bool = False, ref: str = "HEAD") -> None:
        if annotated:
            self.git("tag", "-a", name, "-m", name, ref, env=self.env("Tester", "t@example.com"))
        else:
            self.git("tag", name, ref)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``steward ARGV`` through the real entry point: (exit code, stdout, stderr)."""
    from steward.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err
