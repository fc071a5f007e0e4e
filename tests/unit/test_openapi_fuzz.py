"""Random responses that GitHub's OpenAPI description allows, through the client, the GitHub
adapter, the executor and release notes: none of them may crash or skip an item for its data.

Each example scripts every operation steward sends with a body generated from the
description's schema for that operation (`tests.support.openapi_strategies`): ``user: null``,
labels as strings or without names, negative counts, odd timestamps, empty strings. The
`ScriptedGitHub` server validates every request and answer against the description, so a
failure here is steward's, never a shape GitHub would not send.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from steward.config.model import StewardConfig
from steward.domain.events import PullRequestEvent, parse_event
from steward.engine import decide
from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.plan import AddLabels, CloseIssue, Comment, Plan, RemoveLabel, SetStatus
from steward.release.notes.draft import Notes
from steward.release.notes.from_github import (
    last_release,
    list_releases,
    merged_pulls,
    publish_draft,
)
from steward.release.tags import TagScheme
from steward.shell.executor import Executor
from steward.shell.snapshot import gather
from tests.support.github_material import REPO, pull_request_event
from tests.support.openapi_strategies import responses
from tests.support.scripted_github import OPERATIONS, Op, ScriptedGitHub

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedGitHub]:
    with ScriptedGitHub() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # steward's identity: GET /user


ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"
AUTOMATION: tuple[Op, ...] = (
    ("GET", ISSUE),
    ("PATCH", ISSUE),
    ("GET", "/repos/{owner}/{repo}/issues"),
    ("GET", f"{ISSUE}/comments"),
    ("POST", f"{ISSUE}/comments"),
    ("POST", f"{ISSUE}/labels"),
    ("DELETE", f"{ISSUE}/labels/{{name}}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("GET", "/repos/{owner}/{repo}/labels"),
    ("GET", "/user"),
)
RELEASES: tuple[Op, ...] = tuple(op for op in OPERATIONS if op not in AUTOMATION)


def _script(server: ScriptedGitHub, data: st.DataObject, ops: tuple[Op, ...]) -> None:
    """Script ``ops`` with random schema-valid answers (an unscripted call fails the test)."""
    server.script = {op: data.draw(responses(*op), label=f"{op[0]} {op[1]}") for op in ops}
    server.violations.clear()


PLAN = Plan(
    actions=[
        AddLabels(1, ("bug", "size/XL")),
        RemoveLabel(1, "triage"),
        SetStatus(1, SHA, "success", "steward/semantic-title", "feat: semantic title"),
        Comment(1, "welcome", "Thanks!"),
        CloseIssue(1, "completed"),
        AddLabels(2, ("feature",)),
        Comment(2, "large-pr", "Please split."),
    ]
)


@FUZZ
@given(data=st.data())
def test_schema_valid_answers_never_crash_the_adapter_or_the_executor(
    server: ScriptedGitHub, data: st.DataObject
):
    _script(server, data, AUTOMATION)
    with GitHubClient(server.token, server.url, max_retries=0) as client:
        api = RepoApi(client, REPO)
        files = api.pr_files(2)
        assert all(f.additions >= 0 and f.deletions >= 0 for f in files)
        api.issue(1)
        items = api.open_items()
        assert len({i.number for i in items}) == len(items)
        api.issues_with_label("pending-release", state="all")
        list(api.comments(1))
        api.combined_status(SHA)
        api.labels()
        result = Executor(api).apply(PLAN)
    assert not [s for s in result.skipped if "skipped:" in s]
    server.assert_clean()


@FUZZ
@given(data=st.data())
def test_schema_valid_answers_never_crash_handle_end_to_end(
    server: ScriptedGitHub, data: st.DataObject
):
    _script(server, data, AUTOMATION)
    event = parse_event("pull_request", pull_request_event("opened", head_sha=SHA))
    assert isinstance(event, PullRequestEvent)
    config = StewardConfig()
    with GitHubClient(server.token, server.url, max_retries=0) as client:
        api = RepoApi(client, REPO)
        snapshot = gather(event, config, api)
        plan = decide(event, snapshot, config).plan
        result = Executor(api, dict(snapshot.issues)).apply(plan)
    assert not [s for s in result.skipped if "skipped:" in s]
    server.assert_clean()


@FUZZ
@given(data=st.data(), dry_run=st.booleans())
def test_schema_valid_answers_never_crash_release_notes(
    server: ScriptedGitHub, data: st.DataObject, dry_run: bool
):
    _script(server, data, RELEASES)
    scheme = TagScheme("v{version}")
    with GitHubClient(server.token, server.url, max_retries=0) as client:
        releases = list_releases(client, REPO)
        last = last_release(releases, scheme)
        pulls = merged_pulls(client, REPO, last.date if last else None)
        assert len({p.number for p in pulls}) == len(pulls)
        notes = Notes(
            body="## Summary\n",
            version=Version("1.2.3"),
            tag="v1.2.3",
            level=None,
            categories=[],
            contributors=[],
        )
        publish_draft(client, REPO, notes, releases, dry_run=dry_run)
        api = RepoApi(client, REPO)
        list(api.releases())
        api.ensure_pull(title="chore: bump", head="steward/bump-1.2.3", base="main", body="x")
    server.assert_clean()
