"""The token goes only to the API's origin, and never into an error message.

Reproductions over real loopback servers: a recorded GitHub page whose ``Link: rel="next"``
points at another port (another origin) must not make the client send its token there; a
redirect off the origin likewise; an error body that echoes the credentials is redacted.
"""

from __future__ import annotations

import copy

import pytest

from steward.errors import GitHubError
from steward.github.client import GitHubClient
from tests.support.fixtures_replay import ReplayServer, load_scenario
from tests.support.github_material import REPO
from tests.support.github_server import Fault, GitHubServer
from tests.support.raw_server import Answer, RawServer

TOKEN = "test-token"
ISSUES = "/repos/octokit-fixture-org/paginate-issues/issues"


def _first_page_linking_to(url: str) -> list[dict[str, object]]:
    """The recording's first page, its next link moved to ``url`` (same path and query)."""
    first = copy.deepcopy(load_scenario("paginate-issues")[0])
    headers = first["headers"]
    assert isinstance(headers, dict)
    headers["link"] = f'<{url}{ISSUES}?per_page=3&page=2>; rel="next"'
    return [first]


def test_a_next_link_to_another_port_gets_no_request_and_no_token():
    with RawServer() as elsewhere:
        with (
            ReplayServer(_first_page_linking_to(elsewhere.url)) as api,
            GitHubClient(TOKEN, api.url, max_retries=0) as client,
            pytest.raises(GitHubError, match="refusing to follow a pagination link") as err,
        ):
            list(client.paginate(ISSUES, {"per_page": 3}))
        assert elsewhere.seen == []  # not even a request without the token
    assert api.headers_seen[0]["authorization"] == f"Bearer {TOKEN}"  # the API did get it
    assert f"127.0.0.1:{elsewhere.port}" in str(err.value)
    assert TOKEN not in str(err.value)


def test_a_next_link_to_another_host_name_on_the_same_port_is_another_origin():
    with (
        ReplayServer(load_scenario("paginate-issues")[:1]) as api,
        GitHubClient(TOKEN, api.url, max_retries=0) as client,
    ):
        page = api.exchanges[0]
        page["headers"] = {
            **page["headers"],
            "link": f'<{api.url.replace("127.0.0.1", "localhost")}{ISSUES}?page=2>; rel="next"',
        }
        with pytest.raises(GitHubError, match="not the API's origin"):
            list(client.paginate(ISSUES, {"per_page": 3}))
    assert len(api.seen) == 1


def test_same_origin_next_links_are_followed_with_the_token():
    scenario = load_scenario("paginate-issues")
    with (
        ReplayServer(scenario) as api,
        GitHubClient(TOKEN, api.url, max_retries=0) as client,
    ):
        assert len(list(client.paginate(ISSUES, {"per_page": 3}))) == 13
    assert [h["authorization"] for h in api.headers_seen] == [f"Bearer {TOKEN}"] * 5


def test_a_redirect_to_another_origin_is_not_followed():
    with RawServer() as elsewhere, RawServer() as api:
        api.answers["/repos/o/r/issues/1"] = Answer(
            301, headers={"location": f"{elsewhere.url}/repos/o/r/issues/1"}
        )
        with (
            GitHubClient(TOKEN, api.url, max_retries=0) as client,
            pytest.raises(GitHubError, match="refusing to follow a redirect") as err,
        ):
            client.get("/repos/o/r/issues/1")
        assert elsewhere.seen == []
    assert "\n" not in str(err.value)


def test_an_absolute_url_off_the_origin_is_refused_before_sending():
    with RawServer() as elsewhere, RawServer() as api, GitHubClient(TOKEN, api.url) as client:
        with pytest.raises(GitHubError, match="refusing to send the token"):
            client.get(f"{elsewhere.url}/repos/o/r/issues/1")
        assert elsewhere.seen == []
        assert api.seen == []


@pytest.mark.parametrize(
    "echo",
    [
        f"Bad header Authorization: Bearer {TOKEN}",
        f"token {TOKEN} is not valid here",
        "leaked ghp_" + "a1B2" * 9,
    ],
)
def test_an_error_body_echoing_the_credentials_is_redacted(echo: str):
    with GitHubServer(token=TOKEN) as gh:
        gh.add_issue(1, "x")
        gh.faults.append(Fault(400, {"message": echo, "documentation_url": "https://docs"}))
        with (
            GitHubClient(TOKEN, gh.url, max_retries=0) as client,
            pytest.raises(GitHubError) as err,
        ):
            client.get(f"/repos/{REPO}/issues/1")
        gh.assert_clean()
    text = str(err.value)
    assert TOKEN not in text
    assert "ghp_" not in text
    assert "***" in text


def test_an_html_error_page_echoing_the_token_is_redacted_and_one_line():
    with RawServer() as api:
        api.answers["/repos/o/r/issues/1"] = Answer(
            502,
            f"<html>\n<body>upstream said: Authorization: Bearer {TOKEN}</body>\n</html>".encode(),
            {"content-type": "text/html"},
        )
        with (
            GitHubClient(TOKEN, api.url, max_retries=0) as client,
            pytest.raises(GitHubError, match="HTTP 502") as err,
        ):
            client.get("/repos/o/r/issues/1")
    assert TOKEN not in str(err.value)
    assert "\n" not in str(err.value)
