"""Release intelligence on the histories real projects have: floating tags, maintenance
branches, squash merges, reverts, merge commits, breaking changes of any type.

Each test is a reproduction from the issue that reported it, on a real repository built
here; expected values are written by hand from the history each test builds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


def entries(r: Repo, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str | None, list]:
    """version -> [(section title, subject), ...] from `changelog --json`."""
    code, out, err = run(["changelog", "--path", str(r.path), "--json", *extra], capsys)
    assert code == 0, err
    return {
        v["version"]: [(s["title"], e["subject"]) for s in v["sections"] for e in s["entries"]]
        for v in json.loads(out)["versions"]
    }


def next_version(r: Repo, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code, out, err = run(["version", "next", "--path", str(r.path), *extra], capsys)
    assert code == 0, err
    return out.strip()


def config(r: Repo, text: str) -> None:
    (r.path / ".github").mkdir(exist_ok=True)
    (r.path / ".github" / "steward.yml").write_text(text)


def test_floating_tags_are_not_releases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: one")
    r.tag("v1.0.0")
    r.commit("fix: two")
    r.tag("v1.0.1")
    r.commit("feat: three")
    r.tag("v1.1.0")
    r.tag("v1")  # floating tags on the v1.1.0 commit, as GitHub Actions projects keep them
    r.tag("v1.1", annotated=True)
    got = entries(r, capsys)
    assert got == {
        None: [],
        "1.1.0": [("Features", "three")],
        "1.0.1": [("Bug Fixes", "two")],
        "1.0.0": [("Features", "one")],
    }
    code, out, err = run(["changelog", "--path", str(r.path)], capsys)
    assert code == 0
    assert err.count("not releases") == 1
    assert "v1 (not a complete X.Y.Z version (a floating tag))" in err
    assert "v1.1 (not a complete" in err
    code, out, err = run(["version", "current", "--path", str(r.path)], capsys)
    assert (code, out) == (0, "1.1.0\n")
    assert err.count("not releases") == 1  # said once, not twice


def test_ignore_tags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "r")
    config(r, "version:\n  ignore_tags: ['^v9\\.', 'experiment']\n")
    r.commit("feat: one")
    r.tag("v1.0.0")
    r.commit("feat!: a dead branch's major")
    r.tag("v9.0.0")
    r.commit("fix: after")
    assert next_version(r, capsys) == "2.0.0"  # the breaking change is unreleased: 1.0.0 -> 2
    _code, out, err = run(["version", "current", "--path", str(r.path)], capsys)
    assert out == "1.0.0\n"
    assert "v9.0.0 (matches version.ignore_tags)" in err


def maintenance_repo(tmp_path: Path) -> Repo:
    """v1.0.0, then `feat!` tagged v2.0.0 on main, then a fix on a v1.x branch."""
    r = Repo(tmp_path / "r")
    r.commit("feat: first")
    r.tag("v1.0.0")
    r.commit("feat!: new api", file="api.py")
    r.tag("v2.0.0")
    r.git("checkout", "-q", "-b", "v1.x", "v1.0.0")
    r.commit("fix: backported", file="app.py")
    return r


def test_maintenance_branch_has_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = maintenance_repo(tmp_path)
    _code, out, _ = run(["version", "current", "--path", str(r.path)], capsys)
    assert out == "1.0.0\n"
    assert next_version(r, capsys) == "1.0.1"
    assert entries(r, capsys) == {
        None: [("Bug Fixes", "backported")],
        "1.0.0": [("Features", "first")],
    }
    # once 1.0.1 is released there, the trunk lists it beside its own releases
    r.tag("v1.0.1")
    r.git("checkout", "-q", "main")
    assert next_version(r, capsys) == "2.0.0"  # nothing new on main since 2.0.0
    assert list(entries(r, capsys)) == [None, "2.0.0", "1.0.1", "1.0.0"]


def test_release_bump_off_the_trunk_is_on_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The playbook's pattern: the tag sits on a bump commit whose parent is on the trunk;
    a tagged commit that changes code off the trunk is another line."""
    r = Repo(tmp_path / "r")
    r.set_version("0.1.0a0")
    r.commit("feat: on the trunk", file="app.py")
    r.git("checkout", "-q", "-b", "release-run")
    r.bump("1.0.0")
    r.tag("v1.0.0")
    r.git("checkout", "-q", "main")
    r.commit("fix: after the release", file="app.py")
    _code, out, _ = run(["version", "current", "--path", str(r.path)], capsys)
    assert out == "1.0.0\n"
    assert next_version(r, capsys) == "1.0.1"


def test_squash_merge_body_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: start")
    r.tag("v1.0.0")
    r.commit(
        "fix: big PR (#12)\n\n* fix(api): handle nulls\n\n* feat(cli): add --all\n\n"
        "Note: this line is prose\nCo-authored-by: Bo <bo@example.com>"
    )
    # The Powertools defaults (no config) keep one entry per commit, as its CHANGELOG has.
    assert entries(r, capsys)[None] == [("Bug Fixes", "big PR")]
    assert next_version(r, capsys) == "1.0.1"
    config(r, "changelog:\n  body_entries: true\n")
    assert entries(r, capsys)[None] == [
        ("Bug Fixes", "big PR"),
        ("Bug Fixes", "handle nulls"),
        ("Features", "add --all"),
    ]
    assert next_version(r, capsys) == "1.1.0"  # the body's feat counts for the bump


def test_breaking_change_of_any_type_is_never_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: start")
    r.tag("v1.0.0")
    r.commit("build!: drop py3.8")  # `build` has no section in the Powertools layout
    r.commit("ci: new runner\n\nBREAKING CHANGE: the workflow needs a new secret")
    assert next_version(r, capsys) == "2.0.0"
    assert entries(r, capsys)[None] == [  # newest first
        ("Breaking Changes", "new runner"),
        ("Breaking Changes", "drop py3.8"),
    ]
    _code, out, _ = run(["changelog", "--path", str(r.path), "--unreleased"], capsys)
    assert "## Breaking Changes" in out
    assert "## BREAKING CHANGE\n\nthe workflow needs a new secret\n" in out


def test_empty_breaking_footer_and_record_separator_read_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: start")
    r.tag("v1.0.0")
    r.commit("fix(api): tighten the schema (#7)\n\nsee \x1e here\n\nBREAKING CHANGE:")
    assert next_version(r, capsys) == "2.0.0"
    code, out, _ = run(["changelog", "--path", str(r.path), "--json"], capsys)
    unreleased = json.loads(out)["versions"][0]
    (entry,) = unreleased["sections"][0]["entries"]
    assert entry["breaking"] is True
    assert unreleased["notes"] == ["tighten the schema"]  # the empty note names the change
    code, out, err = run(
        ["release", "notes", "--path", str(r.path), "--from-git", "--json"], capsys
    )
    assert code == 0, err
    notes = json.loads(out)
    assert notes["version"] == "2.0.0"
    assert notes["categories"][0]["changes"][0]["labels"] == ["bug", "breaking-change"]


def test_github_reverts_cancel_in_the_unreleased_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: start")
    r.tag("v1.0.0")
    r.commit("feat: risky (#10)")
    r.commit('Revert "feat: risky (#10)" (#11)\n\nReverts octo/app#10')
    assert entries(r, capsys)[None] == []
    assert next_version(r, capsys) == "1.0.0"  # nothing left to release
    r.commit("fix: explain (#12)")
    assert next_version(r, capsys) == "1.0.1"
    # a revert of something already released is a change of its own (git-chglog's Reverts)
    r.tag("v1.0.1")
    r.commit('Revert "fix: explain (#12)" (#13)')
    _code, out, _ = run(["changelog", "--path", str(r.path), "--unreleased"], capsys)
    assert "## Reverts\n* fix: explain (#12)\n" in out
    assert next_version(r, capsys) == "1.0.2"


def test_non_conventional_commits_release_nothing_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: start")
    r.tag("v1.0.0")
    r.commit("Update README.md")
    assert next_version(r, capsys) == "1.0.0"
    config(r, "version:\n  nonconventional: patch\n")
    assert next_version(r, capsys) == "1.0.1"


def test_conventional_merge_commit_counts_the_same_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    r.commit("docs: start")
    r.tag("v1.0.0")
    r.git("checkout", "-q", "-b", "topic")
    r.commit("Update app.py", file="app.py")
    r.git("checkout", "-q", "main")
    r.commit("Update notes.txt", file="notes.txt")
    r.git("merge", "-q", "--no-ff", "topic", "-m", "feat: merge the topic branch")
    assert entries(r, capsys)[None] == [("Features", "merge the topic branch")]
    assert next_version(r, capsys) == "1.1.0"


def test_two_types_under_one_title_share_a_heading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    config(r, "changelog:\n  sections: {feat: Features, feature: Features, fix: Fixes}\n")
    r.commit("feat: a")
    r.commit("feature: b")
    r.commit("fix: c")
    _code, out, _ = run(["changelog", "--path", str(r.path), "--unreleased"], capsys)
    assert out.count("## Features") == 1
    assert "* b\n* a\n" in out  # newest first within the heading


def test_a_backtracking_pattern_cannot_hang_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`(a+)+$` against `fix: aaaa…!` took over a minute with a backtracking engine."""
    r = Repo(tmp_path / "r")
    config(r, "changelog:\n  exclude: ['(a+)+$']\nversion:\n  ignore_tags: ['(x+x+)+y']\n")
    r.commit("fix: " + "a" * 900 + "!")
    r.commit("fix: ends with a")  # excluded: the pattern still means what it says
    r.tag("v1.0.0")
    r.tag("v" + "x" * 200)  # a ref name stays under the 255-byte file-name limit
    assert [s for _, s in entries(r, capsys)["1.0.0"]] == ["a" * 900 + "!"]
