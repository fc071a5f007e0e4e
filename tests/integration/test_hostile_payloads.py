"""Hostile and unusual-but-valid data through the real CLI, against the local GitHub.

Each test reproduces one finding: a payload naming ``../evil`` as its repository, a marker
typed by a user, GitHub's documented-but-rare shapes (``user: null``, string labels, labels
without a name, negative line counts), an item served on two pages, and an API that answers
HTML, a redirect or a list where an object belongs. Every answer of the `gh` server is
validated against GitHub's OpenAPI description; the raw server stands in only for answers
that are not GitHub's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steward.plan import marker
from tests.integration.conftest import Run, Steward
from tests.support.github_material import REPO, issue_event, pull_request_event
from tests.support.github_server import GitHubServer
from tests.support.raw_server import Answer, RawServer

R = f"/repos/{REPO}"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
OLD = "2024-01-01T00:00:00Z"
Handle = Callable[..., Run]


@pytest.fixture(autouse=True)
def _outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steward's identity is the token's user here (`GET /user`), not Actions' bot."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def _paths(gh: GitHubServer) -> list[str]:
    return [c.path for c in gh.all_calls]


# -- names from payloads ----------------------------------------------------------------------


@pytest.mark.parametrize("full_name", ["../evil", "Codertocat/..", "a/b/c", "o/r%2F..", "o /r"])
def test_a_repository_name_outside_githubs_rules_is_refused_before_any_call(
    handle: Handle, gh: GitHubServer, full_name: str
):
    gh.add_pr(2, "feat: x", files=[("a.py", 1, 0)])
    payload = pull_request_event("opened", title="feat: x", head_sha=SHA)
    payload["repository"]["full_name"] = full_name
    run = handle("pull_request", payload)
    assert run.code == 1
    assert "repository.full_name must be OWNER/NAME" in run.err
    assert "Traceback" not in run.err
    assert gh.all_calls == []


# -- markers ----------------------------------------------------------------------------------


def test_a_users_marker_does_not_stop_stewards_own_comment(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "docs: typo", files=[("README.md", 1, 1)])
    gh.add_comment(2, f"no issue, sorry {marker('related-issue')}", author="mallory")
    payload = pull_request_event("opened", title="docs: typo", body="", head_sha=SHA)
    first = handle("pull_request", payload)
    assert first.code == 0, first.err
    bodies = gh.comment_bodies(2)
    assert sum("steward:related-issue" in b for b in bodies) == 2  # mallory's and steward's
    assert gh.issues[2].comments[-1]["author"] == gh.login

    gh.reset_calls()
    second = handle("pull_request", payload)
    assert second.code == 0, second.err
    assert gh.writes() == []
    assert gh.reads().count(("GET", "/user")) == 1


# -- unusual but valid data -------------------------------------------------------------------


def test_an_issue_of_a_deleted_account_is_labelled_pending_release(
    handle: Handle, gh: GitHubServer
):
    gh.add_issue(1, "Logger drops the sampling rate", author=None)  # user: null
    gh.add_pr(2, "fix: keep it", state="closed")
    run = handle("pull_request", pull_request_event("closed", merged=True, body="Fixes #1"))
    assert run.code == 0, run.err
    assert gh.labels_of(1) == ["pending-release"]


def _idle(gh: GitHubServer, number: int, **kw: Any) -> None:
    gh.add_issue(number, f"idle {number}", **kw).updated_at = OLD


def test_sweep_goes_on_past_deleted_authors_and_label_shapes(
    steward: Steward, gh: GitHubServer, caplog: pytest.LogCaptureFixture
):
    _idle(gh, 1, author=None)
    _idle(gh, 2, labels=("bug",))
    gh.issues[2].label_style = "string"
    _idle(gh, 3, labels=("bug",))
    gh.issues[3].label_style = "nameless"
    _idle(gh, 4, labels=("pending-release",))
    gh.issues[4].label_style = "string"  # still exempt when its labels come as strings
    run = steward("sweep", "--repo", REPO)
    assert run.code == 0, run.err
    assert gh.labels_of(1) == ["stale"]
    assert gh.labels_of(2) == ["bug", "stale"]
    assert gh.labels_of(3) == ["bug", "stale"]
    assert gh.labels_of(4) == ["pending-release"]
    assert "issue #3.labels[0] has no name; ignored" in caplog.text  # stderr in a real run


def test_negative_line_counts_are_zero_with_a_warning(
    handle: Handle, gh: GitHubServer, caplog: pytest.LogCaptureFixture
):
    gh.add_pr(2, "feat: x", files=[("src/app.py", -40, 5), ("src/b.py", 3, -7)])
    run = handle("pull_request", pull_request_event("opened", title="feat: x", head_sha=SHA))
    assert run.code == 0, run.err
    assert "size/XS" in gh.labels_of(2)  # 0 + 5 + 3 + 0 = 8 lines
    assert "changed file 'src/app.py': additions is -40; counted as 0" in caplog.text
    assert "changed file 'src/b.py': deletions is -7; counted as 0" in caplog.text


def test_an_item_served_on_two_pages_is_swept_once(steward: Steward, gh: GitHubServer):
    for n in range(1, 151):
        _idle(gh, n)
    gh.page_overlap = 1  # page 2 repeats the last item of page 1
    run = steward("sweep", "--repo", REPO)
    assert run.code == 0, run.err
    label_calls = [
        c.path for c in gh.all_calls if c.method == "POST" and c.path.endswith("/labels")
    ]
    assert len(label_calls) == 150
    assert len(set(label_calls)) == 150
    assert all(len(gh.comment_bodies(n)) == 1 for n in range(1, 151))


def test_pending_release_issues_served_twice_are_closed_once(handle: Handle, gh: GitHubServer):
    from tests.support.github_material import release_event

    for n in range(1, 106):
        gh.add_issue(n, f"issue {n}", labels=("pending-release",))
    gh.page_overlap = 2
    run = handle("release", release_event("published", tag="v3.2.0"))
    assert run.code == 0, run.err
    closes = [c.path for c in gh.all_calls if c.method == "PATCH"]
    assert sorted(closes) == sorted(f"{R}/issues/{n}" for n in range(1, 106))
    assert all(len(gh.comment_bodies(n)) == 1 for n in range(1, 106))


# -- an API that is not GitHub's --------------------------------------------------------------


def _api_answering(
    monkeypatch: pytest.MonkeyPatch, raw: RawServer, path: str, answer: Answer
) -> None:
    raw.answers[path] = answer
    monkeypatch.setenv("GITHUB_API_URL", raw.url)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            Answer(200, b"<!doctype html><title>Sign in</title>", {"content-type": "text/html"}),
            "the API answered text/html, not JSON (HTTP 200)",
        ),
        (
            Answer(302, b"", {"location": "https://login.example/sso"}),
            "refusing to follow a redirect (HTTP 302) to https://login.example:443",
        ),
        (Answer(200, b'{"message": "not a list"}'), "expected a JSON list from GitHub"),
    ],
)
def test_an_api_that_does_not_answer_like_github_is_one_line(
    steward: Steward,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: Answer,
    message: str,
):
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(pull_request_event("opened", title="feat: x")), "utf-8")
    with RawServer() as raw:
        _api_answering(monkeypatch, raw, f"{R}/pulls/2/files", answer)
        run = steward("handle", "--event-name", "pull_request", "--payload", str(payload))
    assert run.code == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"error: GET {R}/pulls/2/files: ")
    assert message in lines[0]
    assert "test-token" not in run.err


def test_a_list_where_an_issue_belongs_skips_that_item_only(
    handle: Handle, gh: GitHubServer, monkeypatch: pytest.MonkeyPatch
):
    with RawServer() as raw:
        raw.answers[f"{R}/issues/1"] = Answer(200, b"[]")
        monkeypatch.setenv("GITHUB_API_URL", raw.url)
        run = handle("issues", issue_event("opened", association="FIRST_TIME_CONTRIBUTOR"))
    assert run.code == 0, run.err
    assert "expected a JSON object from GitHub, got a list" in run.out
    assert "Traceback" not in run.err
