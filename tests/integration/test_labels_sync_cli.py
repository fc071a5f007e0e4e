"""`steward labels sync` against the local GitHub: create, update, rename via `from`, prune."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import Steward
from tests.support.github_material import REPO
from tests.support.github_server import GitHubServer

R = f"/repos/{REPO}"
CONFIG = """\
labels:
  - name: bug
    color: d73a4a
    description: Something isn't working
  - name: feature
    color: a2eeef
    description: New features
    from: [enhancement-request]
  - name: size/XXL
    color: ee0000
    description: PRs with 1K+ LOC
"""


def _seed(gh: GitHubServer, tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "steward.yml").write_text(CONFIG, encoding="utf-8")
    gh.add_label("bug", "ff0000", "old text")
    gh.add_label("enhancement-request", "00ff00", "")
    gh.add_label("wontfix", "ffffff", "")
    gh.add_issue(5, "x", labels=("enhancement-request",))


def test_dry_run_writes_nothing(steward: Steward, gh: GitHubServer, tmp_path: Path):
    _seed(gh, tmp_path)
    run = steward("labels", "sync", "--repo", REPO, "--prune", "--dry-run")
    assert run.code == 0, run.err
    assert gh.writes() == []
    assert run.out.splitlines() == [
        "would update 'bug' (#d73a4a, \"Something isn't working\")",
        "would rename 'enhancement-request' -> 'feature'",
        "would create 'size/XXL' (#ee0000, 'PRs with 1K+ LOC')",
        "would delete 'wontfix'",
    ]


def test_sync_then_prune_then_nothing(steward: Steward, gh: GitHubServer, tmp_path: Path):
    _seed(gh, tmp_path)

    assert steward("labels", "sync", "--repo", REPO).code == 0
    assert gh.writes() == [
        ("PATCH", f"{R}/labels/bug"),
        ("PATCH", f"{R}/labels/enhancement-request"),
        ("POST", f"{R}/labels"),
    ]
    assert {k: (v["name"], v["color"], v["description"]) for k, v in gh.labels.items()} == {
        "bug": ("bug", "d73a4a", "Something isn't working"),
        "feature": ("feature", "a2eeef", "New features"),
        "size/xxl": ("size/XXL", "ee0000", "PRs with 1K+ LOC"),
        "wontfix": ("wontfix", "ffffff", ""),  # kept: no --prune
    }
    assert gh.labels_of(5) == ["feature"]  # a rename keeps the label on its issues

    gh.reset_calls()
    assert steward("labels", "sync", "--repo", REPO, "--prune").code == 0
    assert gh.writes() == [("DELETE", f"{R}/labels/wontfix")]

    gh.reset_calls()
    run = steward("labels", "sync", "--repo", REPO, "--prune")
    assert run.out.strip() == f"{REPO}: labels already in sync"
    assert gh.writes() == []
