"""GitHub sign-in to the maintainers' page, in Debian's headless Chromium, against a real
`steward serve` process and a local GitHub (`tests/support/github_oauth.py`: the web flow
as GitHub documents it, the REST reads validated against GitHub's OpenAPI description).

The browser goes where GitHub would send it: the page's "Sign in with GitHub" link to the
authorize page, GitHub's redirect back to the page's callback with a code; the server
exchanges the code, reads who signed in and their team membership, and lets in only an
active member of the maintainers team.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.server.page_seed import page_server_env
from tests.server.processes import Server
from tests.support.browser import artifacts, browser_fixture  # noqa: F401 (a fixture)
from tests.support.github_oauth import OAuthApi, OAuthWeb, oauth_github

pytestmark = [pytest.mark.usefixtures("no_steward_env"), pytest.mark.slow]

CLIENT_ID = "Iv23liBROWSER0000001"
CLIENT_SECRET = "fedcba9876543210fedcba9876543210fedcba98"
ORG, TEAM = "octo-org", "maintainers"


@dataclass
class Served:
    server: Server
    web: OAuthWeb
    api: OAuthApi

    @property
    def url(self) -> str:
        return self.server.metrics_url.removesuffix("/metrics")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("page-github")
    with oauth_github(CLIENT_ID, CLIENT_SECRET) as (web, api):
        api.add_member(ORG, TEAM, "octocat")
        api.add_member(ORG, TEAM, "newcomer", state="pending")
        env = page_server_env(
            f"sqlite:///{tmp}/inbox.db",
            STEWARD_OAUTH_CLIENT_ID=CLIENT_ID,
            STEWARD_OAUTH_CLIENT_SECRET=CLIENT_SECRET,
            STEWARD_MAINTAINERS_TEAM=f"{ORG}/{TEAM}",
            STEWARD_GITHUB_URL=web.url,
            STEWARD_API_URL=api.url,
            STEWARD_LOG_JSON="false",
        )
        server = Server(env, tmp / "server.log")
        try:
            yield Served(server, web, api)
        finally:
            server.stop()
        log = server.tail(200_000)
        assert CLIENT_SECRET not in log
        assert all(token not in log for token in web.issued)


def sign_in_with_github(browser: Any, served: Served, who: str) -> tuple[Any, Any]:
    served.web.signed_in = who
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{served.url}/queue")
    assert "/login" in page.url
    assert page.locator("input[name=token]").count() == 0  # no token sign-in configured
    with page.expect_navigation(url=lambda url: "/login/github" not in url):
        page.get_by_role("link", name="Sign in with GitHub").click()
    return context, page


def test_a_team_member_signs_in_with_github(browser: Any, served: Served) -> None:
    before = len(served.web.seen)
    context, page = sign_in_with_github(browser, served, "octocat")
    assert page.url == f"{served.url}/queue"
    assert "Signed in as octocat" in page.locator("header").inner_text()
    page.screenshot(path=str(artifacts() / "signed-in-with-github.png"), full_page=True)
    # The browser went through GitHub's authorize page; the server made the exchange.
    went = [s.target.split("?")[0] for s in served.web.seen[before:]]
    assert went == ["/login/oauth/authorize", "/login/oauth/access_token"]
    # No cookie holds the user's token.
    issued = served.web.issued[-1]
    assert all(issued not in c["value"] for c in context.cookies())
    # Signing out ends the session.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{served.url}/queue")
    assert "/login" in page.url
    context.close()


@pytest.mark.parametrize(
    ("who", "says"),
    [("mallory", "is not a member of the team"), ("newcomer", "is pending")],
)
def test_anyone_else_is_refused(browser: Any, served: Served, who: str, says: str) -> None:
    context, page = sign_in_with_github(browser, served, who)
    assert "/oauth/callback" in page.url
    assert says in page.get_by_role("alert").inner_text()
    page.screenshot(path=str(artifacts() / f"refused-{who}.png"))
    page.goto(f"{served.url}/queue")
    assert "/login" in page.url
    context.close()
