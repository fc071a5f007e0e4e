"""The executor writes only the difference between a Plan and GitHub's current state."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.plan import AddLabels, CloseIssue, Comment, Plan, RemoveLabel, SetStatus, marker
from steward.shell.executor import Executor, comment_markers
from tests.support import openapi
from tests.support.github_material import REPO
from tests.support.github_server import Fault, GitHubServer
from tests.support.raw_server import Answer, RawServer

R = f"/repos/{REPO}"


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server
        server.assert_clean()


def run(gh: GitHubServer, *actions: object) -> list[str]:
    """Apply ``actions`` as the server's token user (steward's identity, given)."""
    with GitHubClient("test-token", gh.url) as client:
        executor = Executor(RepoApi(client, REPO), identity=gh.login)
        result = executor.apply(Plan(actions=list(actions)))  # type: ignore[arg-type]
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
    gh.add_comment(1, f"earlier\n\n{marker('welcome')}", author=gh.login)
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
    assert gh.writes() == [("PATCH", f"{R}/issues/1")]  # labels and state in one call
    assert gh.calls[-1].body == {"state": "closed", "state_reason": "completed", "labels": []}
    assert gh.labels_of(1) == []
    assert gh.reads() == []


# -- markers count only on steward's own comments ---------------------------------------------


@pytest.fixture
def no_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def apply_default(gh: GitHubServer, *actions: object) -> list[str]:
    """Apply with the CLI's default identity (no identity passed)."""
    with GitHubClient("test-token", gh.url) as client:
        result = Executor(RepoApi(client, REPO)).apply(Plan(actions=list(actions)))  # type: ignore[arg-type]
    return result.applied


def test_markers_already_read_are_not_listed_again(gh: GitHubServer):
    """The sweep read complete timelines: what they showed of steward's own comments spares
    the executor one comment listing per item it comments on."""
    gh.add_issue(1, "told already")
    gh.add_comment(1, f"earlier\n\n{marker('stale')}", author=gh.login)
    gh.add_issue(2, "not yet")
    with GitHubClient("test-token", gh.url) as client:
        executor = Executor(RepoApi(client, REPO), identity=gh.login, markers={1: {"stale"}, 2: ()})
        result = executor.apply(Plan([Comment(1, "stale", "idle"), Comment(2, "stale", "idle")]))
    assert result.applied == ["#2 comment [stale]"]
    assert [c.short for c in gh.calls] == [("POST", f"{R}/issues/2/comments")]  # no reads
    assert len(gh.comment_bodies(1)) == 1


def test_a_marker_typed_by_anyone_else_does_not_stop_stewards_comment(
    gh: GitHubServer, no_actions: None
):
    gh.add_issue(1, "x")
    gh.add_comment(1, f"I know the trick {marker('related-issue')}", author="mallory")
    applied = apply_default(gh, Comment(1, "related-issue", "Please link an issue."))
    assert applied == ["#1 comment [related-issue]"]
    assert gh.comment_bodies(1)[-1].startswith("Please link an issue.")
    gh.reset_calls()
    assert apply_default(gh, Comment(1, "related-issue", "Please link an issue.")) == []
    assert gh.writes() == []


def test_the_token_user_is_read_once_and_only_when_a_marker_needs_it(
    gh: GitHubServer, no_actions: None
):
    gh.add_issue(1, "x")
    gh.add_issue(2, "y")
    gh.add_comment(1, f"done {marker('a')}", author=gh.login)
    gh.add_comment(2, f"done {marker('b')}", author=gh.login)
    gh.add_comment(2, "a plain comment", author="octocat")
    applied = apply_default(gh, Comment(1, "a", "x"), Comment(2, "b", "y"))
    assert applied == []
    assert gh.reads().count(("GET", "/user")) == 1

    gh.reset_calls()
    gh.add_issue(3, "z")
    gh.add_comment(3, "no markers here", author="octocat")
    assert apply_default(gh, Comment(3, "c", "z")) == ["#3 comment [c]"]
    assert ("GET", "/user") not in gh.reads()  # no marker to check: no identity needed


def test_in_actions_steward_is_github_actions_bot_without_a_read(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with GitHubServer(login="github-actions[bot]") as gh:
        gh.add_issue(1, "x")
        gh.add_comment(1, f"done {marker('a')}", author="github-actions[bot]")
        gh.add_comment(1, f"fake {marker('b')}", author="steward-bot")
        applied = apply_default(gh, Comment(1, "a", "x"), Comment(1, "b", "y"))
        assert applied == ["#1 comment [b]"]
        assert ("GET", "/user") not in gh.reads()
        gh.assert_clean()


def test_a_deleted_account_never_carries_a_trusted_marker(gh: GitHubServer):
    gh.add_issue(1, "x")
    gh.add_comment(1, f"old {marker('a')}", author=None)
    assert run(gh, Comment(1, "a", "x")) == ["#1 comment [a]"]


def test_when_the_token_user_cannot_be_read_only_bot_comments_count(
    gh: GitHubServer, no_actions: None, caplog: pytest.LogCaptureFixture
):
    gh.faults.append(
        Fault(
            403,
            {"message": "Resource not accessible by integration"},
            method="GET",
            path_contains="/user",
        )
    )
    gh.add_issue(1, "x")
    gh.add_comment(1, f"by a person {marker('a')}", author="mallory")
    applied = apply_default(gh, Comment(1, "a", "x"))
    assert applied == ["#1 comment [a]"]
    assert "cannot tell which account steward comments as" in caplog.text


def test_an_item_answered_in_a_shape_github_never_sends_is_skipped_and_the_rest_applied():
    issue = openapi.example("issue")
    issue.update(number=2, labels=[], comments=0)
    with RawServer() as api:
        api.answers["/repos/o/r/issues/1"] = Answer(200, b"[]")  # a list, not an issue
        api.answers["/repos/o/r/issues/2"] = Answer(200, json.dumps(issue).encode())
        api.answers["/repos/o/r/issues/2/labels"] = Answer(
            200, json.dumps([openapi.example("label")]).encode()
        )
        with GitHubClient("test-token", api.url, max_retries=0) as client:
            result = Executor(RepoApi(client, "o/r"), identity="steward-bot").apply(
                Plan(actions=[AddLabels(1, ("bug",)), AddLabels(2, ("bug",))])
            )
    assert result.applied == ["#2 +labels bug"]
    assert result.skipped == [
        "#1: add_labels skipped: GET /repos/o/r/issues/1: expected a JSON object from GitHub, "
        "got a list"
    ]
