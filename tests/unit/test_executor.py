"""The executor writes only the difference between a Plan and GitHub's current state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from steward.forge.client import GitHubClient
from steward.forge.executor import Executor, comment_markers
from steward.forge.repo_api import RepoApi
from steward.plan import AddLabels, CloseIssue, Comment, Plan, RemoveLabel, SetStatus, marker
from tests.support.github_material import REPO
from tests.support.github_server import GitHubServer

R = f"/repos/{REPO}"


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server
        server.assert_clean()


def run(gh: GitHubServer, *actions: object) -> list[str]:
    with GitHubClient("test-token", gh.url) as client:
        result = Executor(RepoApi(client, REPO)).apply(Plan(actions=list(actions)))  # type: ignore[arg-type]
    return result.applied


def test_markers_are_read_from_comment_bodies():
    assert comment_markers(f"hi\n\n{marker('a')} and {marker('b:v1')}") == {"a", "b:v1"}
    assert comment_markers("no marker") == set()


def test_only_missing_labels_are_added_in_one_call(gh: GitHubServer):
    gh.add_issue(1, "x", labels=("bug",))
    applied = run(gh, AddLabels(1, ("bug", "triage", "tests")))
    assert applied == ["#1 +labels triage, tests"]
    assert gh.writes() == [("POST", f"{R}/issues/1/labels")]
    assert gh.calls[-1].body == {"labels": ["triage", "tests"]}


def test_present_state_costs_no_write(gh: GitHubServer):
    gh.add_issue(1, "x", labels=("bug",), state="closed")
    gh.add_comment(1, f"earlier\n\n{marker('welcome')}")
    gh.add_status("abc", "success", "ctx", "fine")
    applied = run(
        gh,
        AddLabels(1, ("bug",)),
        RemoveLabel(1, "triage"),
        SetStatus(1, "abc", "success", "ctx", "fine"),
        Comment(1, "welcome", "hello"),
        CloseIssue(1),
    )
    assert applied == []
    assert gh.writes() == []
    assert gh.reads() == [
        ("GET", f"{R}/issues/1"),
        ("GET", f"{R}/commits/abc/status"),
        ("GET", f"{R}/issues/1/comments"),
    ]


def test_a_missing_issue_is_skipped_not_fatal(gh: GitHubServer):
    gh.add_issue(2, "x")
    applied = run(gh, AddLabels(99, ("bug",)), AddLabels(2, ("bug",)))
    assert applied == ["#2 +labels bug"]


def test_known_issues_are_not_read_again(gh: GitHubServer):
    gh.add_issue(1, "x", labels=("pending-release",))
    with GitHubClient("test-token", gh.url) as client:
        api = RepoApi(client, REPO)
        known = {1: api.issue(1)}
        gh.reset_calls()
        Executor(api, known).apply(Plan(actions=[RemoveLabel(1, "pending-release"), CloseIssue(1)]))
    assert gh.writes() == [
        ("DELETE", f"{R}/issues/1/labels/pending-release"),
        ("PATCH", f"{R}/issues/1"),
    ]
    assert gh.reads() == []
