"""Signing in to the maintainers' page: the static token, GitHub (the App's OAuth web flow,
against a local GitHub whose API is held to GitHub's OpenAPI description), the session
cookie, CSRF, and where a sign-in may send the browser next.

The page is a small Starlette app with `PageAuth.routes()` and two routes of its own: a
protected page, and a protected POST that wants the session's CSRF token. Every GitHub
exchange is real HTTP on 127.0.0.1 (`tests.support.github_oauth`), and both of GitHub's
origins record what they were sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from steward.errors import UsageError
from steward.server.page.auth import PageAuth
from steward.server.settings import Settings
from tests.server.postgres import free_port
from tests.support.fake_clock import FakeClock
from tests.support.github_oauth import OAuthApi, OAuthWeb, oauth_github

SECRET = "It's a Secret to Everybody"
PAGE_TOKEN = "correct horse battery staple"
CLIENT_ID = "Iv23liTESTCLIENT0001"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef01234567"
TEAM = "octo-org/maintainers"
CALLBACK = "http://testserver/oauth/callback"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"webhook_secret": SECRET, "page_token": PAGE_TOKEN}
    values.update(overrides)
    return Settings(**values)


def page_app(auth: PageAuth) -> Starlette:
    async def protected(request: Request) -> Response:
        who = auth.current(request)
        if who is None:
            return auth.login_redirect(request)
        return PlainTextResponse(f"{who.login} via {who.via}")

    async def action(request: Request) -> Response:
        form = await request.form()
        token = form.get("csrf")
        ok = auth.check_csrf(request, token if isinstance(token, str) else None)
        return PlainTextResponse("done" if ok else "refused", status_code=200 if ok else 403)

    async def csrf(request: Request) -> Response:
        return PlainTextResponse(auth.csrf_token(request))

    routes = [
        *auth.routes(),
        Route("/protected", protected, methods=["GET"]),
        Route("/action", action, methods=["POST"]),
        Route("/csrf", csrf, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def client_for(auth: PageAuth, base_url: str = "http://testserver") -> TestClient:
    return TestClient(page_app(auth), base_url=base_url, follow_redirects=False)


def login_form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in_with_token(
    client: TestClient, token: str = PAGE_TOKEN, next_path: str = "/protected"
) -> httpx.Response:
    page = client.get("/login", params={"next": next_path})
    assert page.status_code == 200
    return client.post(
        "/login",
        data={"token": token, "csrf": login_form_token(page.text), "next": next_path},
    )


def session_cookie(response: httpx.Response, name: str = "steward-page") -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


@pytest.fixture
def github() -> Iterator[tuple[OAuthWeb, OAuthApi]]:
    with oauth_github(CLIENT_ID, CLIENT_SECRET, callback_urls=(CALLBACK,)) as servers:
        yield servers


def oauth_settings(web: OAuthWeb, api: OAuthApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        "maintainers_team": TEAM,
        "github_url": web.url,
        "api_url": api.url,
    }
    values.update(overrides)
    return settings(**values)


def github_sign_in(client: TestClient, next_path: str = "/protected") -> httpx.Response:
    """The browser's part: the page sends it to GitHub, GitHub (the local web origin) sends
    it back with a code, and the page's callback answers."""
    start = client.get("/login/github", params={"next": next_path})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    back = httpx.get(authorize, follow_redirects=False)
    assert back.status_code == 302
    callback = back.headers["location"]
    assert callback.startswith(CALLBACK + "?")
    return client.get(callback)


# -- the static token -------------------------------------------------------------------------


def test_the_static_token_signs_in_and_the_session_reaches_the_protected_page() -> None:
    client = client_for(PageAuth(settings()))
    refused = client.get("/protected")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login?next=/protected"

    signed = sign_in_with_token(client)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/protected"
    cookie = session_cookie(signed).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert f"max-age={12 * 3600}" in cookie
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert PAGE_TOKEN.lower() not in cookie

    assert client.get("/protected").text == "token via token"


def test_a_wrong_token_is_a_401_that_says_so_and_nothing_more() -> None:
    client = client_for(PageAuth(settings()))
    answer = sign_in_with_token(client, token="correct horse battery stapler")
    assert answer.status_code == 401
    assert "That is not the page&#39;s sign-in token." in answer.text
    assert PAGE_TOKEN not in answer.text
    assert "stapler" not in answer.text
    assert not any(h.startswith("steward-page=") for h in answer.headers.get_list("set-cookie"))
    assert client.get("/protected").status_code == 303


def test_the_sign_in_form_wants_its_own_token_and_this_site_as_its_origin() -> None:
    client = client_for(PageAuth(settings()))

    def form() -> dict[str, str]:
        """The token and a fresh form's own token (each refusal renders a new form)."""
        return {"token": PAGE_TOKEN, "csrf": login_form_token(client.get("/login").text)}

    assert client.post("/login", data={"token": PAGE_TOKEN}).status_code == 403
    assert client.post("/login", data={**form(), "csrf": "x" * 32}).status_code == 403
    cross_site = client.post("/login", data=form(), headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert "did not come from this page" in cross_site.text
    fetched = client.post("/login", data=form(), headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    null_origin = client.post("/login", data=form(), headers={"Origin": "null"})
    assert null_origin.status_code == 403
    assert client.get("/protected").status_code == 303  # none of them signed in

    # another browser has no form cookie: the token and a form token it did not get fail
    fresh = client_for(PageAuth(settings()))
    assert fresh.post("/login", data=form()).status_code == 403

    same_site = client.post(
        "/login",
        data=form(),
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same_site.status_code == 303


def test_a_token_shorter_than_16_characters_is_refused_at_start() -> None:
    with pytest.raises(UsageError, match="at least 16 characters"):
        PageAuth(settings(page_token="letmein"))


def test_no_secret_to_sign_with_is_refused_and_no_sign_in_is_a_page_that_is_off() -> None:
    with pytest.raises(UsageError, match="session secret"):
        PageAuth(Settings(page_token=PAGE_TOKEN))
    off = PageAuth(Settings())
    assert off.methods == ()
    assert client_for(off).get("/login").status_code == 404


# -- the session cookie -----------------------------------------------------------------------


def test_a_tampered_or_foreign_cookie_is_refused() -> None:
    auth = PageAuth(settings())
    client = client_for(auth)
    sign_in_with_token(client)
    value = client.cookies["steward-page"]
    at = len(value) // 3  # inside the payload (the signature and its time are at the end)
    flipped = value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1 :]
    forged = URLSafeTimedSerializer("not the key").dumps({"l": "admin"})
    other_key = PageAuth(settings(session_secret="another instance's secret"))
    signed_elsewhere = client_for(other_key)
    sign_in_with_token(signed_elsewhere)

    for bad in (forged, flipped, value + "x", signed_elsewhere.cookies["steward-page"], ""):
        client.cookies.set("steward-page", bad)
        assert client.get("/protected").status_code == 303, bad
        assert client.get("/csrf").text == ""


def test_a_session_expires_after_session_hours() -> None:
    clock = FakeClock()
    auth = PageAuth(settings(session_hours=2), clock=clock)
    client = client_for(auth)
    sign_in_with_token(client)
    clock.now += 2 * 3600 - 5
    assert client.get("/protected").status_code == 200
    clock.now += 10
    assert client.get("/protected").status_code == 303


def test_every_instance_derives_the_same_key_and_a_new_token_ends_old_sessions() -> None:
    first = PageAuth(settings())
    client = client_for(first)
    sign_in_with_token(client)
    cookie = client.cookies["steward-page"]

    second = client_for(PageAuth(settings()))  # another process, same webhook secret
    second.cookies.set("steward-page", cookie)
    assert second.get("/protected").status_code == 200

    rotated = client_for(PageAuth(settings(page_token=PAGE_TOKEN + " and more")))
    rotated.cookies.set("steward-page", cookie)
    assert rotated.get("/protected").status_code == 303


def test_over_https_the_cookie_is_secure_and_host_only() -> None:
    client = client_for(PageAuth(settings()), base_url="https://page.example")
    signed = sign_in_with_token(client)
    cookie = session_cookie(signed, "__Host-steward-page").lower()
    assert "secure" in cookie
    assert "path=/" in cookie
    assert "domain" not in cookie
    assert client.get("/protected").text == "token via token"

    behind_proxy = PageAuth(settings(page_url="https://steward.example/"))
    plain = client_for(behind_proxy)  # TLS ends at the proxy: the page URL says https
    page = plain.get("/login")
    assert "secure" in session_cookie(page, "__Host-steward-page-login").lower()


# -- CSRF -------------------------------------------------------------------------------------


def test_a_csrf_token_is_bound_to_its_session() -> None:
    auth = PageAuth(settings())
    alice, bob = client_for(auth), client_for(auth)
    sign_in_with_token(alice)
    sign_in_with_token(bob)
    alice_token, bob_token = alice.get("/csrf").text, bob.get("/csrf").text
    assert alice_token
    assert bob_token
    assert alice_token != bob_token

    assert alice.post("/action", data={"csrf": alice_token}).status_code == 200
    assert alice.post("/action", data={"csrf": bob_token}).status_code == 403
    assert alice.post("/action", data={}).status_code == 403
    cross = alice.post(
        "/action", data={"csrf": alice_token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403

    anonymous = client_for(auth)
    assert anonymous.get("/csrf").text == ""
    assert anonymous.post("/action", data={"csrf": ""}).status_code == 403


def test_signing_out_is_a_post_with_the_csrf_token_and_clears_the_cookie() -> None:
    client = client_for(PageAuth(settings()))
    sign_in_with_token(client)
    token = client.get("/csrf").text

    refused = client.post("/logout", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert client.get("/protected").status_code == 200
    assert client.get("/logout").status_code == 405

    out = client.post("/logout", data={"csrf": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    cleared = session_cookie(out).lower()
    assert 'steward-page=""' in cleared
    assert "max-age=0" in cleared
    assert client.get("/protected").status_code == 303


# -- where to go next -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/x",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "/with space",
        "/login",
        "",
    ],
)
def test_next_goes_only_to_a_path_of_this_site(next_path: str) -> None:
    client = client_for(PageAuth(settings()))
    signed = sign_in_with_token(client, next_path=next_path)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/"


def test_a_same_site_next_with_its_query_is_kept() -> None:
    client = client_for(PageAuth(settings()))
    redirect = client.get("/protected?view=dead&page=2")
    assert redirect.headers["location"] == "/login?next=/protected%3Fview%3Ddead%26page%3D2"
    signed = sign_in_with_token(client, next_path="/protected?view=dead&page=2")
    assert signed.headers["location"] == "/protected?view=dead&page=2"


# -- GitHub -----------------------------------------------------------------------------------


def test_an_active_team_member_signs_in_with_github(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "octocat")
    auth = PageAuth(oauth_settings(web, api))
    assert auth.methods == ("token", "github")
    client = client_for(auth)

    start = client.get("/login/github", params={"next": "/protected"})
    target = urlsplit(start.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{web.url}/login/oauth/authorize"
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert len(query["state"][0]) >= 32
    assert CLIENT_SECRET not in start.headers["location"]

    done = github_sign_in(client)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/protected"
    assert client.get("/protected").text == "octocat via github"

    [token] = web.issued
    exchange = web.exchanges()
    assert len(exchange) == 2 - 1  # one code, one exchange
    assert exchange[0].carries(CLIENT_SECRET)
    assert CLIENT_SECRET not in exchange[0].target  # in the body, not the URL
    assert exchange[0].headers["accept"] == "application/json"
    # the secret went to the web origin only; the user token to the API only
    assert api.seen
    assert not any(s.carries(CLIENT_SECRET) for s in api.seen)
    assert not any(s.carries(token) for s in web.seen)
    assert [s.path for s in api.seen] == [
        "/user",
        "/orgs/octo-org/teams/maintainers/memberships/octocat",
    ]
    assert all(s.headers["authorization"] == f"Bearer {token}" for s in api.seen)
    # the session holds who, never the token
    cookie = client.cookies["steward-page"]
    _, payload = URLSafeTimedSerializer("any").loads_unsafe(cookie)
    assert set(payload) == {"v", "l", "m", "s", "b", "o"}
    assert payload["o"] == ["octo-org"]  # the organisations whose team let them in
    assert token not in str(payload)
    assert payload["l"] == "octocat"
    assert payload["m"] == "github"


def test_someone_not_in_the_team_is_refused(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "hubot")  # someone else
    client = client_for(PageAuth(oauth_settings(web, api)))
    refused = github_sign_in(client)
    assert refused.status_code == 403
    assert "octocat is not a member of the team octo-org/maintainers" in refused.text
    assert not any(h.startswith("steward-page=") for h in refused.headers.get_list("set-cookie"))
    assert api.seen[-1].path.endswith("/memberships/octocat")
    assert client.get("/protected").status_code == 303


def test_a_pending_membership_is_refused(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "octocat", state="pending")
    client = client_for(PageAuth(oauth_settings(web, api)))
    refused = github_sign_in(client)
    assert refused.status_code == 403
    assert "membership of the team octo-org/maintainers is pending" in refused.text
    assert client.get("/protected").status_code == 303


def test_a_wrong_or_missing_state_is_refused_before_any_exchange(
    github: tuple[OAuthWeb, OAuthApi],
) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "octocat")
    client = client_for(PageAuth(oauth_settings(web, api)))
    start = client.get("/login/github")
    back = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    code = parse_qs(callback.query)["code"][0]

    wrong = client.get("/oauth/callback", params={"code": code, "state": "forged-state"})
    assert wrong.status_code == 400
    assert "not started here" in wrong.text
    # the state cookie is spent: even the right state does not work again
    again = client.get(back.headers["location"])
    assert again.status_code == 400
    # another browser, with no state cookie at all
    other = client_for(PageAuth(oauth_settings(web, api)))
    assert other.get(back.headers["location"]).status_code == 400
    assert web.exchanges() == []
    assert api.seen == []
    assert client.get("/protected").status_code == 303


def test_a_code_github_refuses_is_one_line_and_a_403(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    client = client_for(PageAuth(oauth_settings(web, api)))
    start = client.get("/login/github")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    refused = client.get("/oauth/callback", params={"code": "0" * 20, "state": state})
    assert refused.status_code == 403
    assert "GitHub refused the sign-in" in refused.text
    assert "The code passed is incorrect or expired. (bad_verification_code)" in refused.text
    assert CLIENT_SECRET not in refused.text
    assert api.seen == []


def test_declining_at_github_is_refused(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    web.deny = True
    client = client_for(PageAuth(oauth_settings(web, api)))
    refused = github_sign_in(client)
    assert refused.status_code == 403
    assert "declined at GitHub" in refused.text
    assert web.exchanges() == []


def test_github_down_is_a_502_with_one_clear_line() -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    auth = PageAuth(
        settings(
            oauth_client_id=CLIENT_ID,
            oauth_client_secret=CLIENT_SECRET,
            maintainers_team=TEAM,
            github_url=dead,
            api_url=dead,
        )
    )
    client = client_for(auth)
    start = client.get("/login/github")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = client.get("/oauth/callback", params={"code": "abc123", "state": state})
    assert answer.status_code == 502
    [line] = re.findall(r'<p role="alert"[^>]*>([^<]*)</p>', answer.text)
    assert line.startswith("GitHub did not answer: POST /login/oauth/access_token: cannot reach")
    assert "Traceback" not in answer.text
    assert CLIENT_SECRET not in answer.text


def test_the_api_down_after_the_exchange_is_a_502_too(github: tuple[OAuthWeb, OAuthApi]) -> None:
    from tests.support.github_server import Fault

    web, api = github
    api.add_member("octo-org", "maintainers", "octocat")
    api.faults.append(Fault(503, path_contains="/user", times=5))
    client = client_for(PageAuth(oauth_settings(web, api)))
    answer = github_sign_in(client)
    assert answer.status_code == 502
    assert "GitHub did not answer: GET /user: HTTP 503" in answer.text
    assert web.issued
    assert web.issued[0] not in answer.text


def test_the_web_origin_down_is_a_502(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    client = client_for(PageAuth(oauth_settings(web, api)))
    start = client.get("/login/github")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    web.down = 503
    answer = client.get("/oauth/callback", params={"code": "abc123", "state": state})
    assert answer.status_code == 502
    assert "GitHub did not answer: POST /login/oauth/access_token: HTTP 503" in answer.text


def test_without_a_maintainers_team_no_github_account_signs_in(
    github: tuple[OAuthWeb, OAuthApi],
) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "octocat")
    client = client_for(PageAuth(oauth_settings(web, api, maintainers_team=None)))
    refused = client.get("/login/github")
    assert refused.status_code == 403
    assert "no maintainers team is configured" in refused.text
    assert "location" not in refused.headers
    assert client.get("/oauth/callback", params={"code": "x", "state": "y"}).status_code == 403
    assert web.seen == []
    assert api.seen == []


def test_github_sign_in_keeps_a_same_site_next_and_drops_another(
    github: tuple[OAuthWeb, OAuthApi],
) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "octocat")
    auth = PageAuth(oauth_settings(web, api))
    kept = github_sign_in(client_for(auth), next_path="/protected?view=1")
    assert kept.headers["location"] == "/protected?view=1"
    dropped = github_sign_in(client_for(auth), next_path="//evil.example/")
    assert dropped.headers["location"] == "/"


def test_a_team_change_ends_github_sessions(github: tuple[OAuthWeb, OAuthApi]) -> None:
    web, api = github
    api.add_member("octo-org", "maintainers", "octocat")
    client = client_for(PageAuth(oauth_settings(web, api)))
    github_sign_in(client)
    cookie = client.cookies["steward-page"]
    moved = client_for(PageAuth(oauth_settings(web, api, maintainers_team="octo-org/admins")))
    moved.cookies.set("steward-page", cookie)
    assert moved.get("/protected").status_code == 303


def test_the_callback_is_built_on_page_url_when_it_is_set(
    github: tuple[OAuthWeb, OAuthApi],
) -> None:
    web, api = github
    auth = PageAuth(oauth_settings(web, api, page_url="https://steward.example/ops/"))
    start = client_for(auth).get("/login/github")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == ["https://steward.example/ops/oauth/callback"]
    assert "secure" in session_cookie(start, "__Host-steward-page-oauth").lower()


def test_under_a_prefix_the_sign_in_pages_and_next_stay_under_it() -> None:
    auth = PageAuth(settings())
    client = TestClient(
        Starlette(routes=[Mount("/ops", routes=page_app(auth).routes)]),
        follow_redirects=False,
    )
    redirect = client.get("/ops/protected")
    assert redirect.headers["location"] == "/ops/login?next=/ops/protected"
    page = client.get("/ops/login", params={"next": "/ops/protected"})
    assert 'action="/ops/login"' in page.text
    form = {"token": PAGE_TOKEN, "csrf": login_form_token(page.text)}
    signed = client.post("/ops/login", data={**form, "next": "/elsewhere"})
    assert signed.headers["location"] == "/ops/"  # outside the page: its home instead
    assert client.get("/ops/protected").text == "token via token"
