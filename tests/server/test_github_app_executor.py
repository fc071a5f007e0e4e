"""Fewer writes: the executor closes an issue and sets its labels in one ``PATCH`` (the
release's pending-release issues: a comment and one PATCH each), through an installation's
client, against the spec-validating test server (which applies the PATCH's ``labels``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from steward.github.budget import PacingPolicy
from steward.github.repo_api import RepoApi
from steward.plan import AddLabels, CloseIssue, Comment, Plan, RemoveLabel
from steward.server.github_app import GitHubApp
from steward.shell.executor import Executor
from tests.support.github_app_server import APP_ID, INSTALLATION_ID, GitHubAppServer
from tests.support.github_material import REPO

R = f"/repos/{REPO}"
PENDING = list(range(10, 30))


@pytest.fixture
def gh() -> Iterator[GitHubAppServer]:
    with GitHubAppServer() as server:
        yield server
        server.assert_clean()


@pytest.fixture
def api(gh: GitHubAppServer) -> RepoApi:
    app = GitHubApp(
        APP_ID, gh.private_key_pem, base_url=gh.url, pacing=PacingPolicy(min_interval=0)
    )
    api = RepoApi(app.github_for(INSTALLATION_ID), REPO)
    gh.reset_calls()  # the token request is not the executor's
    return api


def release_plan(numbers: list[int]) -> Plan:
    plans = []
    for n in numbers:
        plan = Plan()
        plan.add(Comment(n, "released:v3.2.0", "shipped in v3.2.0"))
        plan.add(RemoveLabel(n, "pending-release"))
        plan.add(CloseIssue(n))
        plans.append(plan)
    return Plan.merge(plans)


def test_twenty_pending_issues_cost_forty_writes(gh: GitHubAppServer, api: RepoApi):
    for n in PENDING:
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    known = {i.number: i for i in api.issues_with_label("pending-release", state="all")}
    gh.reset_calls()
    result = Executor(api, known, identity="repo-steward[bot]").apply(release_plan(PENDING))
    writes = gh.writes()
    assert len(writes) == 40  # was 60: comment, label DELETE, close PATCH per issue
    assert sorted(writes) == sorted(
        [("POST", f"{R}/issues/{n}/comments") for n in PENDING]
        + [("PATCH", f"{R}/issues/{n}") for n in PENDING]
    )
    patch = next(c for c in gh.calls if c.method == "PATCH")
    assert patch.body == {"state": "closed", "state_reason": "completed", "labels": ["bug"]}
    for n in PENDING:
        assert gh.labels_of(n) == ["bug"]
        assert gh.issues[n].state == "closed"
    assert f"#{PENDING[0]} -label pending-release" in result.applied
    assert f"#{PENDING[0]} closed" in result.applied

    gh.reset_calls()
    known = {i.number: i for i in api.issues_with_label("pending-release", state="all")}
    Executor(api, known, identity="repo-steward[bot]").apply(release_plan(sorted(known)))
    assert gh.writes() == []  # nothing pending any more


def test_an_issue_closed_already_loses_its_label_on_its_own(gh: GitHubAppServer, api: RepoApi):
    gh.add_issue(31, "closed at merge", labels=("pending-release",), state="closed")
    plan = Plan(actions=[RemoveLabel(31, "pending-release"), CloseIssue(31)])
    result = Executor(api, identity="repo-steward[bot]").apply(plan)
    assert gh.writes() == [("DELETE", f"{R}/issues/31/labels/pending-release")]
    assert result.applied == ["#31 -label pending-release"]
    assert result.skipped == ["#31 already closed"]


def test_labels_added_and_removed_ride_on_the_close(gh: GitHubAppServer, api: RepoApi):
    gh.add_issue(4, "stale", labels=("question", "triage"))
    plan = Plan(actions=[AddLabels(4, ("stale",)), RemoveLabel(4, "triage"), CloseIssue(4)])
    Executor(api, identity="repo-steward[bot]").apply(plan)
    assert gh.writes() == [("PATCH", f"{R}/issues/4")]
    assert gh.labels_of(4) == ["question", "stale"]


def test_a_close_with_nothing_to_change_on_labels_sends_no_labels(
    gh: GitHubAppServer, api: RepoApi
):
    gh.add_issue(5, "done", labels=("bug",))
    Executor(api, identity="repo-steward[bot]").apply(
        Plan(actions=[RemoveLabel(5, "pending-release"), CloseIssue(5, "not_planned")])
    )
    assert gh.writes() == [("PATCH", f"{R}/issues/5")]
    assert gh.calls[-1].body == {"state": "closed", "state_reason": "not_planned"}
    assert gh.labels_of(5) == ["bug"]
