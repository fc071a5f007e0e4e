"""`changelog.body_entries`: a squash merge's conventional body lines, one entry each.

Reproductions from "right on the playbook's own repository": a PR fixing one thing in two
scopes (`* fix(gitlab): ...` and `* fix(gitea): ...` with the same text) lost one of them,
since a body line was dropped when its type and text equalled the subject's, whatever its
scope. Only an exact repeat (type, scopes, `!` and text) is one change. Expected values are
written by hand from the history each test builds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


def entries(r: Repo, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str | None, str]]:
    """Unreleased (section title, scope, subject) from `steward changelog --json`."""
    code, out, err = run(["changelog", "--path", str(r.path), "--json"], capsys)
    assert code == 0, err
    unreleased = json.loads(out)["versions"][0]
    assert unreleased["version"] is None
    return [
        (s["title"], e["scope"], e["subject"]) for s in unreleased["sections"] for e in s["entries"]
    ]


def next_version(r: Repo, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(["version", "next", "--path", str(r.path)], capsys)
    assert code == 0, err
    return out.strip()


def released(tmp_path: Path) -> Repo:
    """v1.0.0 tagged, body entries on."""
    r = Repo(tmp_path / "r")
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text("changelog:\n  body_entries: true\n")
    r.commit("feat: start")
    r.tag("v1.0.0")
    return r


def test_same_text_in_two_scopes_is_two_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    # GitHub's squash of a two-commit PR titled after its first commit.
    r.commit(
        "fix(gitlab): allow insecure http (#41)\n\n"
        "* fix(gitlab): allow insecure http\n\n* fix(gitea): allow insecure http\n"
    )
    assert entries(r, capsys) == [
        ("Bug Fixes", "gitea", "allow insecure http"),  # by scope, as git-chglog sorts
        ("Bug Fixes", "gitlab", "allow insecure http"),
    ]


def test_an_unscoped_subject_does_not_swallow_scoped_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    r.commit(
        "fix: allow insecure http (#42)\n\n"
        "* fix(gitlab): allow insecure http\n* fix(gitea): allow insecure http\n"
    )
    assert entries(r, capsys) == [
        ("Bug Fixes", None, "allow insecure http"),
        ("Bug Fixes", "gitea", "allow insecure http"),
        ("Bug Fixes", "gitlab", "allow insecure http"),
    ]


def test_exact_repeats_fold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Why the fold exists: a one-commit PR's squash repeats its subject in the body (the
    PR suffix aside); a commit pushed twice repeats a body line."""
    r = released(tmp_path)
    r.commit("fix(api): handle nulls (#43)\n\n* fix(api): handle nulls\n")
    r.commit(
        "feat(cli): add --all (#44)\n\n"
        "* feat(cli): add --all\n\n* docs: explain --all\n\n* docs: explain --all\n"
    )
    assert entries(r, capsys) == [
        ("Bug Fixes", "api", "handle nulls"),
        ("Documentation", None, "explain --all"),
        ("Features", "cli", "add --all"),
    ]


def test_a_breaking_line_in_another_scope_counts_for_the_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    r.commit(
        "fix(gitlab): allow insecure http (#45)\n\n"
        "* fix(gitlab): allow insecure http\n\n* fix(gitea)!: allow insecure http\n"
    )
    assert next_version(r, capsys) == "2.0.0"
    assert entries(r, capsys) == [
        ("Bug Fixes", "gitea", "allow insecure http"),
        ("Bug Fixes", "gitlab", "allow insecure http"),
    ]
