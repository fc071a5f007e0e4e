"""git's environment is steward's: variables that redirect git (GIT_DIR, GIT_WORK_TREE,
GIT_INDEX_FILE, ...) are dropped before steward runs git for `--path`, so the repository
the user named is the one read (issue #16). A git hook, or a CI step run inside another
repository's hook, has GIT_DIR set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


@pytest.mark.parametrize(
    "variable", ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"]
)
def test_the_named_repository_is_read_whatever_git_variables_say(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    named = Repo(tmp_path / "named")
    named.commit("feat: one")
    named.tag("v1.4.0")
    other = Repo(tmp_path / "other")
    other.commit("feat: elsewhere")
    other.tag("v9.9.9")
    target = {
        "GIT_DIR": other.path / ".git",
        "GIT_WORK_TREE": other.path,
        "GIT_INDEX_FILE": other.path / ".git" / "index",
        "GIT_COMMON_DIR": other.path / ".git",
    }[variable]
    monkeypatch.setenv(variable, str(target))
    code, out, err = run(["version", "current", "--path", str(named.path), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["version"] == "1.4.0"
    code, out, err = run(["changelog", "--path", str(named.path), "--json", "--no-cache"], capsys)
    assert code == 0, err
    assert [v["tag"] for v in json.loads(out)["versions"]] == [None, "v1.4.0"]
