"""The test server itself: it must refuse to drift from GitHub's OpenAPI description."""

from __future__ import annotations

import httpx
import pytest

from tests.support import openapi
from tests.support.github_material import REPO
from tests.support.github_server import GitHubServer

R = f"/repos/{REPO}"
AUTH = {"Authorization": "Bearer test-token"}


def test_a_request_the_spec_forbids_is_recorded_and_refused():
    with GitHubServer() as gh:
        gh.add_issue(1, "x")
        resp = httpx.post(f"{gh.url}{R}/issues/1/labels", json={"labels": "bug"}, headers=AUTH)
        assert resp.status_code == 400
        assert len(gh.violations) == 1
        assert "request POST" in gh.violations[0]
        with pytest.raises(openapi.SpecViolation):
            gh.assert_clean()
        assert gh.labels_of(1) == []  # nothing was applied


def test_a_response_the_spec_forbids_is_recorded_and_not_sent(monkeypatch: pytest.MonkeyPatch):
    with GitHubServer() as gh:
        gh.add_issue(1, "x")
        broken = openapi.example("issue")
        del broken["title"]  # a required property of GitHub's issue schema
        monkeypatch.setattr(gh, "_issue_obj", lambda rec: broken)
        resp = httpx.get(f"{gh.url}{R}/issues/1", headers=AUTH)
        assert resp.status_code == 400
        assert "response 200" in gh.violations[0]


def test_pagination_links_follow_github(monkeypatch: pytest.MonkeyPatch):
    with GitHubServer() as gh:
        for n in range(1, 8):
            gh.add_issue(n, f"i{n}")
        resp = httpx.get(f"{gh.url}{R}/issues", params={"per_page": 3, "page": 2}, headers=AUTH)
        assert [i["number"] for i in resp.json()] == [4, 3, 2]
        assert resp.headers["link"] == ", ".join(
            [
                f'<{gh.url}{R}/issues?per_page=3&page=1>; rel="prev"',
                f'<{gh.url}{R}/issues?per_page=3&page=3>; rel="next"',
                f'<{gh.url}{R}/issues?per_page=3&page=3>; rel="last"',
                f'<{gh.url}{R}/issues?per_page=3&page=1>; rel="first"',
            ]
        )
        gh.assert_clean()


def test_bad_token_is_401_and_other_repositories_are_404():
    with GitHubServer() as gh:
        gh.add_issue(1, "x")
        assert httpx.get(f"{gh.url}{R}/issues/1").status_code == 401
        other = httpx.get(f"{gh.url}/repos/someone/else/issues/1", headers=AUTH)
        assert other.status_code == 404
        gh.assert_clean()
