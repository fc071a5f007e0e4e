"""The GitHub client against recorded real traffic (@octokit/fixtures) and injected faults.

Recorded scenarios pin pagination, error bodies and rate-limit headers as GitHub sends them;
the stateful test server injects what recordings lack (5xx, rate limits, bad credentials).
Sleeping goes through a fake `sleep` that records the waits the client asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from steward.errors import AuthError, GitHubError, NotFoundError, RateLimitError, ValidationFailed
from steward.github.client import GitHubClient, counting_writes
from tests.support.fixtures_replay import ReplayServer, load_scenario
from tests.support.github_material import REPO
from tests.support.github_server import Fault, GitHubServer

R = f"/repos/{REPO}"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        server.add_issue(1, "x")
        yield server
        server.assert_clean()


def client_for(url: str, sleeps: Sleeps, **kw: float) -> GitHubClient:
    return GitHubClient("test-token", url, sleep=sleeps, **kw)  # type: ignore[arg-type]


# -- replayed recordings ------------------------------------------------------------------


def test_paginate_follows_link_headers_across_all_recorded_pages():
    scenario = load_scenario("paginate-issues")
    expected = [i["number"] for page in scenario for i in page["response"]]
    assert expected == list(range(13, 0, -1))  # 13 issues on 5 pages of 3
    sleeps = Sleeps()
    with ReplayServer(scenario) as srv, client_for(srv.url, sleeps) as client:
        got = [
            i["number"]
            for i in client.paginate(
                "/repos/octokit-fixture-org/paginate-issues/issues", {"per_page": 3}
            )
        ]
    assert got == expected
    assert srv.mismatches == []
    assert [t for _, t in srv.seen] == [e["path"] for e in scenario]
    assert sleeps == []


def test_recorded_422_is_validation_failed_with_the_field_named():
    with (
        ReplayServer(load_scenario("errors")) as srv,
        client_for(srv.url, Sleeps()) as client,
        pytest.raises(ValidationFailed) as err,
    ):
        client.post("/repos/octokit-fixture-org/errors/labels", {"name": "foo", "color": "invalid"})
    assert err.value.status == 422
    assert str(err.value) == (
        "POST /repos/octokit-fixture-org/errors/labels: GitHub refused the request "
        "(422 Validation Failed); Label.color invalid"
    )
    assert srv.mismatches == []


def test_recorded_404_is_not_found_and_not_retried():
    scenario = load_scenario("branch-protection")[:1]
    sleeps = Sleeps()
    with (
        ReplayServer(scenario) as srv,
        client_for(srv.url, sleeps) as client,
        pytest.raises(NotFoundError, match=r"not found \(404\)"),
    ):
        client.get(scenario[0]["path"])
    assert len(srv.seen) == 1
    assert sleeps == []


def test_recorded_rate_limit_reset_in_milliseconds_is_read_as_seconds():
    recorded = load_scenario("labels")[0]["headers"]
    assert recorded["x-ratelimit-reset"] == "1507651200000"  # milliseconds in the recording
    with GitHubServer() as gh:
        gh.faults.append(
            Fault(
                403,
                {
                    "message": "API rate limit exceeded",
                    "documentation_url": "https://docs.github.com",
                },
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": recorded["x-ratelimit-reset"]},
            )
        )
        sleeps = Sleeps()
        client = GitHubClient("test-token", gh.url, sleep=sleeps, clock=lambda: 1507651200 - 30)
        assert client.get(f"{R}/labels") == []
        gh.assert_clean()
    assert sleeps == [31.0]  # reset - now + 1 s of margin


# -- injected faults --------------------------------------------------------------------


def test_get_is_retried_on_5xx_with_exponential_backoff(gh: GitHubServer):
    gh.faults.append(Fault(502, {"message": "Bad Gateway"}, method="GET", times=2))
    sleeps = Sleeps()
    with client_for(gh.url, sleeps, backoff=0.5) as client:
        assert client.get(f"{R}/issues/1")["number"] == 1
    assert sleeps == [0.5, 1.0]
    assert gh.reads() == [("GET", f"{R}/issues/1")] * 3


def test_post_is_never_resent_on_5xx(gh: GitHubServer):
    gh.faults.append(Fault(502, {"message": "Bad Gateway"}, method="POST", times=5))
    sleeps = Sleeps()
    with client_for(gh.url, sleeps) as client, pytest.raises(GitHubError, match="HTTP 502"):
        client.post(f"{R}/issues/1/comments", {"body": "hi"})
    assert gh.writes() == [("POST", f"{R}/issues/1/comments")]
    assert sleeps == []
    assert gh.issues[1].comments == []


def test_counting_writes_tallies_the_writes_github_accepted_in_the_block(gh: GitHubServer):
    """What a server worker reads to tell a failed run that got writes through."""
    gh.faults.append(Fault(502, method="POST", path_contains="/comments"))
    with client_for(gh.url, Sleeps()) as client, counting_writes() as tally:
        client.get(f"{R}/issues/1")
        with pytest.raises(GitHubError):
            client.post(f"{R}/issues/1/comments", {"body": "refused"})
        client.post(f"{R}/issues/1/labels", {"labels": ["bug"]})
        # a write on another thread (another worker sharing the client) is not this block's
        thread = threading.Thread(
            target=lambda: client.post(f"{R}/issues/1/labels", {"labels": ["docs"]})
        )
        thread.start()
        thread.join()
    assert tally.accepted == 1  # the accepted POST; not the GET, not the 502, not the thread's
    with client_for(gh.url, Sleeps()) as client:
        client.post(f"{R}/issues/1/labels", {"labels": ["x"]})
    assert tally.accepted == 1  # outside the block nothing is tallied
    gh.violations.clear()  # the injected 502 is not the server's fault


def test_5xx_retries_give_up_after_max_retries(gh: GitHubServer):
    gh.faults.append(Fault(503, {"message": "Service Unavailable"}, times=10))
    sleeps = Sleeps()
    with (
        client_for(gh.url, sleeps, max_retries=2) as client,
        pytest.raises(GitHubError, match="HTTP 503 Service Unavailable"),
    ):
        client.get(f"{R}/issues/1")
    assert sleeps == [1.0, 2.0]
    assert len(gh.calls) == 3


def test_secondary_rate_limit_honours_retry_after_even_for_post(gh: GitHubServer):
    gh.faults.append(
        Fault(
            403,
            {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
            {"retry-after": "7"},
            method="POST",
        )
    )
    sleeps = Sleeps()
    with client_for(gh.url, sleeps) as client:
        client.post(f"{R}/issues/1/comments", {"body": "hi"})
    assert sleeps == [7.0]
    assert gh.comment_bodies(1) == ["hi"]  # GitHub did not act on the limited request


def test_rate_limit_outlasting_max_wait_is_rate_limit_error(gh: GitHubServer):
    gh.faults.append(Fault(429, {"message": "Too Many Requests"}, {"retry-after": "3600"}))
    sleeps = Sleeps()
    with (
        client_for(gh.url, sleeps, max_wait=900) as client,
        pytest.raises(RateLimitError, match="rate limited by GitHub") as err,
    ):
        client.get(f"{R}/issues/1")
    assert err.value.status == 429
    assert sleeps == []


def test_bad_credentials_is_auth_error_naming_the_token(gh: GitHubServer):
    with (
        GitHubClient("wrong", gh.url, sleep=Sleeps()) as client,
        pytest.raises(AuthError, match=r"401 Bad credentials.*check GITHUB_TOKEN"),
    ):
        client.get(f"{R}/issues/1")


def test_forbidden_names_the_missing_permission(gh: GitHubServer):
    gh.faults.append(
        Fault(
            403,
            {"message": "Resource not accessible by integration"},
            {"x-accepted-github-permissions": "issues=write"},
        )
    )
    with (
        client_for(gh.url, Sleeps()) as client,
        pytest.raises(AuthError, match="the token needs: issues=write"),
    ):
        client.post(f"{R}/issues/1/comments", {"body": "hi"})


def test_connection_refused_is_a_github_error_not_a_traceback():
    with GitHubServer() as gh:
        url = gh.url
    sleeps = Sleeps()
    with (
        client_for(url, sleeps, max_retries=1) as client,
        pytest.raises(GitHubError, match="cannot reach GitHub"),
    ):
        client.get("/repos/o/r/issues/1")
    assert sleeps == [1.0]


def test_every_request_sends_token_version_and_user_agent(gh: GitHubServer):
    with client_for(gh.url, Sleeps()) as client:
        client.get(f"{R}/issues/1")
        assert client.log.calls == [("GET", f"{R}/issues/1")]
        headers = client._http.headers
    assert headers["authorization"] == "Bearer test-token"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("repo-steward/")
