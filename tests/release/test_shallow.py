"""GitHub Actions' default checkout is a shallow clone: nothing may be computed from it.

Reproductions: `git clone --depth 1` with a full CHANGELOG.md, then `changelog --output`
(it used to leave 6 of 49 lines); `version next` in a `--depth 5` clone (it used to print a
wrong version). Both now stop with exit 2 and one line, and `--fetch` deepens the clone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


@pytest.fixture
def upstream(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "upstream")
    for minor in range(3):
        for patch in range(3):
            r.commit(f"fix: change {minor}.{patch}")
            r.tag(f"v1.{minor}.{patch}")
        r.commit(f"feat: feature {minor}")
    r.commit("fix: unreleased")
    return r


def clone(upstream: Repo, dest: Path, depth: int) -> Path:
    subprocess.run(
        ["git", "clone", "-q", f"--depth={depth}", f"file://{upstream.path}", str(dest)],
        check=True,
    )
    return dest


def test_shallow_changelog_output_is_refused_and_the_file_kept(
    upstream: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, full, _ = run(["changelog", "--path", str(upstream.path)], capsys)
    assert code == 0
    work = clone(upstream, tmp_path / "ci", depth=1)
    (work / "CHANGELOG.md").write_text(full)
    code, out, err = run(["changelog", "--path", str(work), "--output", "CHANGELOG.md"], capsys)
    assert (code, out) == (2, "")
    assert "shallow clone" in err
    assert "fetch-depth: 0" in err
    assert "--fetch" in err
    assert len(err.strip().splitlines()) == 1
    assert (work / "CHANGELOG.md").read_text() == full
    # --fetch deepens it (and fetches the tags): the result is the full history's
    code, _out, err = run(
        ["changelog", "--path", str(work), "--output", "CHANGELOG.md", "--fetch"], capsys
    )
    assert code == 0, err
    assert (work / "CHANGELOG.md").read_text() == full


def test_shallow_version_next_is_refused(
    upstream: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = clone(upstream, tmp_path / "ci", depth=5)
    for argv in (
        ["version", "next"],
        ["version", "current"],
        ["changelog", "--unreleased"],
        ["release", "notes", "--from-git", "--path", str(work)],
    ):
        args = argv if "--path" in argv else [*argv, "--path", str(work)]
        code, out, err = run(args, capsys)
        assert (code, out) == (2, ""), argv
        assert "shallow clone" in err
    code, out, err = run(["version", "next", "--path", str(work), "--fetch"], capsys)
    assert (code, out) == (0, "1.3.0\n")


def test_a_clone_without_tags_is_refused_until_fetched(
    upstream: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "notags"
    subprocess.run(
        ["git", "clone", "-q", "--no-tags", f"file://{upstream.path}", str(work)], check=True
    )
    code, out, err = run(["version", "next", "--path", str(work)], capsys)
    assert (code, out) == (2, "")
    assert "without tags" in err
    code, out, err = run(["version", "next", "--path", str(work), "--fetch"], capsys)
    assert (code, out) == (0, "1.3.0\n")
