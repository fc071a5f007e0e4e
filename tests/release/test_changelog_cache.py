"""The cache of released sections: a warm run prints exactly what a full run prints, and
anything the cache depends on (tags, config, HEAD's line, the file itself) invalidates it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


def both(r: Repo, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[str, str]:
    """(through the cache, without it) for the same command."""
    code, warm, err = run(["changelog", "--path", str(r.path), *extra], capsys)
    assert code == 0, err
    code, cold, err = run(["changelog", "--path", str(r.path), "--no-cache", *extra], capsys)
    assert code == 0, err
    return warm, cold


def cache_files(r: Repo) -> list[Path]:
    folder = r.path / ".git" / "steward"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def history(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "r")
    r.git("remote", "add", "origin", "https://github.com/octo/app.git")
    for i in range(3):
        r.commit(f"feat(core): feature {i} (#{10 + i})")
        r.commit(f"fix: bug {i}\n\nBREAKING CHANGE: note {i}" if i == 1 else f"fix: bug {i}")
        r.commit(f"Update notes {i}")
        r.tag(f"v1.{i}.0")
    r.commit("docs: unreleased one (#20)")
    return r


@pytest.mark.parametrize("form", [(), ("--json",), ("--template", "keepachangelog")])
def test_warm_runs_print_what_a_full_run_prints(
    history: Repo, capsys: pytest.CaptureFixture[str], form: tuple[str, ...]
) -> None:
    first, cold = both(history, capsys, *form)
    assert first == cold
    assert cache_files(history)
    history.commit("fix(api): after the cache was made (#21)")
    warm, cold = both(history, capsys, *form)
    assert warm == cold
    assert "after the cache was made" in warm
    # the non-conventional count includes the released ones the warm run did not read
    _code, _, err = run(["changelog", "--path", str(history.path), *form], capsys)
    assert "3 non-conventional commit(s) left out" in err


def test_a_new_or_moved_tag_invalidates(history: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    both(history, capsys)
    history.tag("v1.3.0")
    warm, cold = both(history, capsys)
    assert warm == cold
    assert '<a name="v1.3.0"></a>' in warm
    history.commit("fix: after 1.3.0")
    history.git("tag", "-f", "v1.3.0")  # moved to the new commit
    warm, cold = both(history, capsys)
    assert warm == cold
    assert warm.index("after 1.3.0") > warm.index('<a name="v1.3.0"></a>')


def test_config_change_and_another_line_invalidate(
    history: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    both(history, capsys)
    (history.path / ".github").mkdir()
    (history.path / ".github" / "steward.yml").write_text(
        "changelog:\n  sections: {feat: New, fix: Fixed}\n"
    )
    warm, cold = both(history, capsys)
    assert warm == cold
    assert "## New" in warm
    # HEAD moves to a branch that does not descend from the cached HEAD
    history.git("checkout", "-q", "-b", "maint", "v1.1.0")
    history.commit("fix: on the maintenance line", file="m.txt")
    warm, cold = both(history, capsys)
    assert warm == cold
    assert '<a name="v1.2.0"></a>' not in warm


def test_damaged_cache_is_a_miss_and_files_are_private(
    history: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    both(history, capsys)
    files = cache_files(history)
    assert files
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    for f in files:  # a released section's file altered: the index alone cannot tell
        if f.suffix != ".json":
            f.write_text(f.read_text().replace("bug 0", "garbage"))
    warm, cold = both(history, capsys)
    assert warm == cold
    assert "garbage" not in warm
    for f in cache_files(history):
        f.write_text("{not json" if f.suffix == ".json" else "garbage")
    warm, cold = both(history, capsys)
    assert warm == cold


def test_no_cache_neither_reads_nor_writes(
    history: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(["changelog", "--path", str(history.path), "--no-cache"], capsys)
    assert code == 0
    assert cache_files(history) == []
