"""A release bump is recognised by what it changes (issue: right on the playbook's own
repository). Each case is a real repository with the playbook's release pattern: the tag
sits on a commit made off the trunk, whose parent is on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.history.bumps import CommitPatch, FileChange, bump_problem, swaps_version
from tests.release.gitrepo import Repo, run

VERSION_PY = '"""Exposes version constant to avoid circular dependencies."""\n\nVERSION = "{v}"\n'
VERSION_FILE = "aws_lambda_powertools/shared/version.py"


def powertools_like(tmp_path: Path) -> Repo:
    """Two version files, as Powertools has them, at 3.1.1a0 on the trunk."""
    r = Repo(tmp_path / "r")
    r.set_version("3.1.1a0")
    (r.path / "aws_lambda_powertools" / "shared").mkdir(parents=True)
    (r.path / VERSION_FILE).write_text(VERSION_PY.format(v="3.1.1a0"))
    r.git("add", VERSION_FILE)
    r.commit("feat(logger): a feature", file="app.py")
    r.tag("v3.1.0")
    r.commit("fix(logger): a fix", file="app.py")
    return r


def release_run(r: Repo, version: str, *, extra: dict[str, str] | None = None) -> None:
    """The release workflow: a branch off the trunk, `chore: version bump`, a tag."""
    r.git("checkout", "-q", "-b", f"release-{version}")
    r.set_version(version)
    (r.path / VERSION_FILE).write_text(VERSION_PY.format(v=version))
    r.git("add", VERSION_FILE)
    for path, text in (extra or {}).items():
        (r.path / path).write_text(text)
        r.git("add", path)
    r.git("commit", "-q", "-m", "chore: version bump", env=r.env("Bot", "bot@example.com"))
    r.tag(f"v{version}", annotated=True)
    r.git("checkout", "-q", "main")
    r.commit("docs: after the release", file="docs.md")


def current(r: Repo, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, object], str]:
    code, out, err = run(["version", "current", "--path", str(r.path), "--json"], capsys)
    assert code == 0, err
    return json.loads(out), err


def test_two_version_files_with_no_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = powertools_like(tmp_path)
    release_run(r, "3.2.0")
    data, err = current(r, capsys)
    assert data["version"] == "3.2.0"
    assert data["off_line_tags"] == []
    assert "not on this branch" not in err


def test_the_release_commit_may_update_the_changelog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = powertools_like(tmp_path)
    (r.path / "CHANGELOG.md").write_text("# Changelog\n")
    r.git("add", "CHANGELOG.md")
    r.commit("chore: changelog", file="notes.txt")
    release_run(r, "3.2.0", extra={"CHANGELOG.md": "# Changelog\n\n## 3.2.0\n\n* a fix\n"})
    assert current(r, capsys)[0]["version"] == "3.2.0"


def test_a_tagged_commit_that_changes_code_is_off_the_line_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = powertools_like(tmp_path)
    release_run(r, "3.2.0", extra={"app.py": "print('hotfix on the release branch')\n"})
    data, err = current(r, capsys)
    assert data["version"] == "3.1.0"
    [off] = data["off_line_tags"]
    assert off["tag"] == "v3.2.0"
    assert "changes app.py besides the version" in off["reason"]
    note = next(line for line in err.splitlines() if "not on this branch" in line)
    assert note.startswith("note: 1 release tag is not on this branch's history: v3.2.0 (")
    assert "changes app.py besides the version)" in note


def test_a_version_file_line_that_changes_more_than_the_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = powertools_like(tmp_path)
    r.git("checkout", "-q", "-b", "release")
    (r.path / VERSION_FILE).write_text(VERSION_PY.format(v="3.2.0").replace("VERSION", "V"))
    r.set_version("3.2.0")
    r.git("add", VERSION_FILE)
    r.git("commit", "-q", "-m", "chore: version bump")
    r.tag("v3.2.0")
    r.git("checkout", "-q", "main")
    data, _ = current(r, capsys)
    assert data["version"] == "3.1.0"
    assert VERSION_FILE in data["off_line_tags"][0]["reason"]  # type: ignore[index]


def test_a_configured_version_file_may_change_freely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`version.version_file` adds a file a bump may change; it is never required."""
    r = powertools_like(tmp_path)
    (r.path / "about.py").write_text('__version__ = "3.1.1a0"\n')
    r.git("add", "about.py")
    r.commit("chore: version notes", file="notes.txt")
    released = '__version__ = "3.2.0"\nRELEASED_BY = "the release run"\n'
    release_run(r, "3.2.0", extra={"about.py": released})
    assert current(r, capsys)[0]["version"] == "3.1.0"
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text("version:\n  version_file: about.py\n")
    assert current(r, capsys)[0]["version"] == "3.2.0"


def test_a_merge_commit_off_the_trunk_is_no_bump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = powertools_like(tmp_path)
    r.git("checkout", "-q", "-b", "side")
    r.commit("feat: side work", file="side.py")
    r.git("checkout", "-q", "-b", "rel", "main")
    r.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
    r.tag("v3.2.0")
    r.git("checkout", "-q", "main")
    data, _ = current(r, capsys)
    assert data["version"] == "3.1.0"
    assert "is a merge commit" in data["off_line_tags"][0]["reason"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("old", "new", "swapped"),
    [
        ('VERSION = "3.1.1a0"', 'VERSION = "3.2.0"', True),
        ('version = "3.1.1a0"', 'version = "3.2.0"', True),
        ("__version__ = '0.9'", "__version__ = '3.2.0'", True),
        ('VERSION = "13.1.0"', 'VERSION = "13.2.0"', False),  # 3.2.0 inside a longer number
        ('pin = "3.1.0"  # was', 'pin = "3.2.0"  # now', False),  # the comment changed too
        ('X = "3.1.0"', 'Y = "3.2.0"', False),
        ('X = "abc"', 'X = "3.2.0"', False),  # not a version before
        ('X = "3.2.0"', 'X = "3.2.0 "', False),
        ("3.1.0", "3.2.0", True),
    ],
)
def test_swaps_version(old: str, new: str, swapped: bool) -> None:
    assert swaps_version(old, new, ["3.2.0"]) is swapped


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_line_that_differs_elsewhere_is_never_a_swap(prefix: str, suffix: str) -> None:
    # The same surroundings and a real version swap is one; anything added around is not.
    old, new = f"{prefix}=1.0.0;{suffix}", f"{prefix}=3.2.0;{suffix}"
    assert swaps_version(old, new, ["3.2.0"])
    assert not swaps_version(old, new + "x", ["3.2.0"])


def test_unpaired_lines_and_new_files_are_no_bump() -> None:
    one = ("abc", ("p",))
    added = CommitPatch(*one, files=[FileChange("x.py", [([], ["VERSION = '3.2.0'"])])])
    assert bump_problem(added, ["3.2.0"], frozenset()) == "changes x.py besides the version"
    new = CommitPatch(*one, files=[FileChange("y.py", special="adds it")])
    assert bump_problem(new, ["3.2.0"], frozenset()) == "changes y.py besides the version (adds it)"
    assert bump_problem(new, ["3.2.0"], frozenset({"y.py"})) is None
