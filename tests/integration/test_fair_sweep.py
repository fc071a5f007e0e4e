"""`steward sweep` with the fair clock (section 4): only a person's activity restarts it.

Steward's own comments and labels and other bots' comments move GitHub's ``updated_at``;
the sweep reads the timeline of the items where that matters, and only those."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import Steward
from tests.support.github_material import REPO
from tests.support.github_server import GitHubServer

R = f"/repos/{REPO}"
NOW = datetime.now(UTC)


def ago(days: float) -> str:
    return f"{NOW - timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture(autouse=True)
def outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # steward is the token's user


def marked_stale(gh: GitHubServer, number: int, days: float) -> None:
    """Steward marked ``number`` stale ``days`` ago: its label and its comment."""
    gh.add_issue(number, f"idle {number}", labels=("stale",))
    gh.add_event(number, "labeled", gh.login, ago(days), label="stale")
    gh.add_comment(number, "no activity <!-- steward:sweep-stale:x -->", gh.login, at=ago(days))


def timelines(gh: GitHubServer) -> list[int]:
    return [int(c.path.split("/")[-2]) for c in gh.calls if c.path.endswith("/timeline")]


def test_steward_and_bots_do_not_restart_the_clock_people_do(steward: Steward, gh: GitHubServer):
    marked_stale(gh, 1, 8)
    gh.add_comment(1, "Coverage: 91%", author="codecov[bot]", at=ago(2))  # a bot, lately
    marked_stale(gh, 2, 8)
    gh.add_comment(2, "Still happening on 3.2, see logs.", author="octocat", at=ago(2))
    gh.add_issue(3, "quiet for people")
    gh.add_comment(3, "Any news?", author="octocat", at=ago(70))
    gh.add_comment(3, "Dependency bump mentioned this", author="renovate[bot]", at=ago(1))
    gh.add_issue(4, "idle by any measure").updated_at = ago(100)
    gh.add_issue(5, "young", labels=()).created_at = ago(10)
    gh.issues[5].updated_at = ago(1)
    gh.add_issue(6, "blocked", labels=("revisit-in-3-months",))
    gh.add_comment(6, "reminder <!-- steward:sweep-revisit:x -->", gh.login, at=ago(95))
    gh.add_comment(6, "CI report", author="github-actions[bot]", at=ago(3))

    run = steward("sweep", "--repo", REPO)

    assert run.code == 0, run.err
    # Reproduction: a bot's comment two days ago restarted the 7-day wait; it no longer does.
    assert gh.issues[1].state == "closed"
    assert gh.comment_bodies(1)[-1].startswith("Closing: no activity for 7 days")
    assert gh.issues[2].state == "open"  # a person replied: the wait starts over
    assert gh.labels_of(3) == ["stale"]  # only a bot spoke in 70 days
    assert gh.labels_of(4) == ["stale"]
    assert gh.labels_of(5) == []
    assert gh.comment_bodies(6)[-1].startswith("@maintainers: this was labelled")
    # Reads: the list, steward's own login once, and the timelines that could change a
    # decision; #4 (idle by updated_at) and #5 (too young) cost nothing. The timelines, read
    # whole, showed steward's own markers: no comment listing before commenting (before: one
    # per item commented on, #6, #3 and #1).
    reads = [c.short for c in gh.calls if not c.is_write]
    assert reads == [
        ("GET", f"{R}/issues"),
        ("GET", f"{R}/issues/1/timeline"),  # stale items first
        ("GET", "/user"),  # steward's own login, once, to tell its acts from people's
        ("GET", f"{R}/issues/2/timeline"),
        ("GET", f"{R}/issues/6/timeline"),  # then revisit items, then the longest idle
        ("GET", f"{R}/issues/3/timeline"),
    ]

    gh.reset_calls()
    again = steward("sweep", "--repo", REPO)
    assert again.code == 0, again.err
    assert gh.writes() == []


def test_timeline_reads_are_capped_and_the_rest_judged_as_before(
    steward: Steward, gh: GitHubServer, tmp_path: Path
):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "steward.yml").write_text("sweep:\n  max_activity_reads: 1\n")
    marked_stale(gh, 1, 8)
    gh.add_comment(1, "Coverage: 91%", author="codecov[bot]", at=ago(2))
    marked_stale(gh, 2, 9)
    gh.add_comment(2, "Coverage: 90%", author="codecov[bot]", at=ago(3))

    run = steward("sweep", "--repo", REPO, "--dry-run", "--json")

    assert run.code == 0, run.err
    plan = json.loads(run.out)
    assert timelines(gh) == [2]  # the longest idle stale item only
    assert {(a["kind"], a["number"]) for a in plan["actions"]} == {
        ("comment", 2),
        ("close_issue", 2),
    }
    assert plan["notes"] == [
        "sweep: #1 judged by their last activity of any kind (timeline not read)"
    ]
    assert gh.writes() == []
