"""`steward sweep` against the local GitHub: stale, close, revisit, exempt; reruns write nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import Steward
from tests.support.github_server import GitHubServer, now

R = "/repos/Codertocat/Hello-World"
OLD = "2024-01-01T00:00:00Z"  # far older than 90 days before the real clock (2026)


def _seed(gh: GitHubServer) -> None:
    gh.add_issue(1, "idle issue").updated_at = OLD
    gh.add_issue(2, "stale already", labels=("stale",)).updated_at = OLD
    gh.add_issue(3, "blocked", labels=("revisit-in-3-months",)).updated_at = OLD
    gh.add_issue(4, "waiting for a release", labels=("pending-release",)).updated_at = OLD
    gh.add_issue(5, "fresh issue")
    gh.add_event(5, "reopened", "octocat", now())  # a person acted on it today
    gh.add_pr(6, "feat: idle PR").updated_at = OLD


def test_sweep_marks_closes_reminds_and_leaves_exempt_items(steward: Steward, gh: GitHubServer):
    _seed(gh)
    run = steward("sweep", "--repo", "Codertocat/Hello-World")
    assert run.code == 0, run.err

    assert gh.labels_of(1) == ["stale"]
    assert "no activity for 60 days" in gh.comment_bodies(1)[0]
    assert gh.issues[2].state == "closed"
    assert gh.issues[2].state_reason == "not_planned"
    assert gh.comment_bodies(2)[0].startswith("Closing: no activity for 7 days")
    [reminder] = gh.comment_bodies(3)
    assert reminder.startswith("@maintainers: this was labelled `revisit-in-3-months`")
    assert gh.issues[3].state == "open"
    assert gh.comment_bodies(4) == []
    assert gh.labels_of(4) == ["pending-release"]
    assert gh.comment_bodies(5) == []
    assert gh.labels_of(6) == ["stale"]  # PRs are swept through the same endpoint

    gh.reset_calls()
    again = steward("sweep", "--repo", "Codertocat/Hello-World")
    assert again.code == 0, again.err
    assert gh.writes() == []
    assert "nothing to change" in again.out


def test_sweep_dry_run_offline_from_an_items_file(
    steward: Steward, gh: GitHubServer, tmp_path: Path
):
    _seed(gh)
    # The items file is GitHub's own list-issues response, taken from the spec-validated server.
    listing = gh.issue_objects()
    items = tmp_path / "items.json"
    items.write_text(json.dumps(listing), encoding="utf-8")
    run = steward(
        "sweep", "--items", str(items), "--now", "2026-11-25T00:00:00Z", "--dry-run", "--json"
    )
    assert run.code == 0, run.err
    plan = json.loads(run.out)
    kinds = sorted((a["kind"], a["number"]) for a in plan["actions"])
    assert kinds == [
        ("add_labels", 1),
        ("add_labels", 6),
        ("close_issue", 2),
        ("comment", 1),
        ("comment", 2),
        ("comment", 3),
        ("comment", 6),
    ]
    assert gh.calls == []


def test_sweep_rejects_a_bad_time(steward: Steward, tmp_path: Path):
    items = tmp_path / "items.json"
    items.write_text("[]", encoding="utf-8")
    run = steward("sweep", "--items", str(items), "--now", "yesterday", "--dry-run")
    assert run.code == 2
    assert "--now must be an ISO 8601 time" in run.err
