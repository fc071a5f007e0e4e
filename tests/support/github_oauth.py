"""A local GitHub for signing a person in: the OAuth web flow on one origin, the REST API on
another, each recording every request it was sent (method, target, headers, body), so a
test can say which secret went where.

**The API** (`OAuthApi`) is the spec-validating `GitHubServer` (every request and answer
checked against GitHub's OpenAPI description) with the two operations a sign-in reads:
``GET /user`` answers the person a user token was issued to, and ``GET /orgs/{org}/teams/
{team_slug}/memberships/{username}`` answers `add_member`'s role and state (``active`` or
``pending``), else 404 ("if user has no team membership", as the description says).

**The web origin** (`OAuthWeb`) is not in the REST description. It follows GitHub's
documentation, "Generating a user access token for a GitHub App", web application flow
(https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/
generating-a-user-access-token-for-a-github-app#using-the-web-application-flow-to-generate-
a-user-access-token), and its troubleshooting pages ("Troubleshooting authorization request
errors", "Troubleshooting OAuth app access token request errors"):

- ``GET /login/oauth/authorize?client_id&redirect_uri&state``: the person (`signed_in`)
  approves, and the browser is sent to ``redirect_uri?code=...&state=...``; `deny` sends
  ``error=access_denied`` with ``error_description``, ``error_uri`` and the ``state``
  instead. A ``redirect_uri`` that is not one of the App's `callback_urls` goes to the first
  registered one with ``error=redirect_uri_mismatch``; an unknown client id is an HTML 404.
- ``POST /login/oauth/access_token`` takes ``client_id``, ``client_secret``, ``code`` and
  ``redirect_uri`` from the query (as the documentation lists them) or a JSON or form body
  (what GitHub's own client, octokit, sends). With ``Accept: application/json`` it answers
  JSON: ``access_token`` (``ghu_``), ``expires_in`` (28800), ``refresh_token`` (``ghr_``),
  ``refresh_token_expires_in``, ``scope`` (empty for a GitHub App) and ``token_type``
  (``bearer``); without it, the same fields form-encoded, GitHub's default. A refusal is
  HTTP 200 with ``error``, ``error_description`` and ``error_uri``:
  ``incorrect_client_credentials``, ``bad_verification_code`` (a code unknown, used already,
  or older than 10 minutes: codes work once) and ``redirect_uri_mismatch``.
  `down` answers every request with that status and an HTML page, as GitHub's front end does
  when it is unavailable.

A token the web origin issues is known to the API (`OAuthApi.user_tokens`), and to nothing
else.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support import openapi
from tests.support.github_server import DOCS, GitHubServer, HttpReply, handler_for, route

CODE_SECONDS = 600  # "Authorization codes expire after 10 minutes."
TOKEN_SECONDS = 28_800
REFRESH_SECONDS = 15_897_600
TROUBLESHOOTING = (
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-oauth-app-access-token-request-errors"
)
AUTHORIZATION_ERRORS = (
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors"
)
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class Sent:
    """One request as it arrived."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def carries(self, value: str) -> bool:
        """Whether ``value`` is anywhere in the request: its target, a header, the body."""
        return (
            value in self.target
            or any(value in v for v in self.headers.values())
            or value.encode() in self.body
        )


# -- the API --------------------------------------------------------------------------------


class OAuthApi(GitHubServer):
    """The REST API a sign-in reads, validated against GitHub's description."""

    def __init__(self) -> None:
        super().__init__(token="test-token", login="steward-bot")
        self.user_tokens: dict[str, str] = {}  # user token -> the login it was issued to
        # (org, team slug), casefolded -> login casefolded -> (role, state)
        self.teams: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
        self.seen: list[Sent] = []
        self._user = ""

    def add_member(
        self, org: str, team: str, login: str, *, state: str = "active", role: str = "member"
    ) -> None:
        members = self.teams.setdefault((org.casefold(), team.casefold()), {})
        members[login.casefold()] = (role, state)

    def _build_routes(self) -> list[tuple[str, str, re.Pattern[str], GitHubServer.Handler]]:
        template = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
        return [*super()._build_routes(), route("GET", template, self._membership)]

    def _dispatch(
        self,
        method: str,
        target: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
        body: Any,
    ) -> tuple[int, dict[str, str], bytes]:
        self.seen.append(Sent(method, target, dict(headers), raw))
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        self._user = ""
        if scheme.lower() in {"bearer", "token"} and credential in self.user_tokens:
            self._user = self.user_tokens[credential]
            headers = {**headers, "authorization": f"Bearer {self.token}"}
        return super()._dispatch(method, target, path, query, headers, raw, body)

    def _get_user(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        login = self._user or self.login
        obj = openapi.example("private-user-response-with-public-and-private-profile-information")
        obj.update(
            login=login,
            user_view_type="private",
            url=f"https://api.github.com/users/{login}",
            html_url=f"https://github.com/{login}",
        )
        return 200, obj, {}

    def _membership(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        members = self.teams.get((p["org"].casefold(), p["team_slug"].casefold()), {})
        found = members.get(p["username"].casefold())
        if found is None:
            raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})
        obj = openapi.example("team-membership-response-if-user-is-a-team-maintainer")
        obj.update(
            url=f"https://api.github.com/teams/1/memberships/{p['username']}",
            role=found[0],
            state=found[1],
        )
        return 200, obj, {}


# -- the web origin ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Grant:
    login: str
    redirect_uri: str
    expires: float


@dataclass(slots=True)
class OAuthWeb:
    """GitHub's web origin for one App (``client_id``, ``client_secret``) whose callback URLs
    are `callback_urls` (empty: any); ``api`` learns the tokens it issues."""

    api: OAuthApi
    client_id: str
    client_secret: str
    callback_urls: list[str] = field(default_factory=list)
    signed_in: str = "octocat"  # who the browser is signed in to GitHub as
    deny: bool = False
    down: int | None = None  # answer every request with this status (an HTML page)
    clock: Callable[[], float] = time.time
    seen: list[Sent] = field(default_factory=list)
    codes: dict[str, _Grant] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # every user token handed out
    _httpd: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> OAuthWeb:
        self._httpd = ThreadingHTTPServer(
            ("127.0.0.1", 0), handler_for(self.answer, ("GET", "POST"))
        )
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def exchanges(self) -> list[Sent]:
        return [s for s in self.seen if s.method == "POST"]

    # -- requests -------------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.seen.append(Sent(method, target, headers, body))
            if self.down is not None:
                page = b"<html><body><h1>Unicorn!</h1>This page is taking too long.</body></html>"
                return self.down, {"content-type": "text/html; charset=utf-8"}, page
            parts = urlsplit(target)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if method == "GET" and parts.path == "/login/oauth/authorize":
                return self._authorize(query)
            if method == "POST" and parts.path == "/login/oauth/access_token":
                return self._exchange(query, headers, body)
            return 404, {"content-type": "text/html; charset=utf-8"}, b"<h1>Not Found</h1>"

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if query.get("client_id") != self.client_id:
            return 404, {"content-type": "text/html; charset=utf-8"}, b"<h1>Not Found</h1>"
        redirect = query.get("redirect_uri") or (self.callback_urls or [""])[0]
        state = query.get("state", "")
        if self.callback_urls and redirect not in self.callback_urls:
            return _redirect(
                self.callback_urls[0],
                {
                    "error": "redirect_uri_mismatch",
                    "error_description": "The redirect_uri MUST match the registered "
                    "callback URL for this application.",
                    "error_uri": f"{AUTHORIZATION_ERRORS}#redirect-uri-mismatch",
                    "state": state,
                },
            )
        if self.deny:
            return _redirect(
                redirect,
                {
                    "error": "access_denied",
                    "error_description": "The user has denied your application access.",
                    "error_uri": f"{AUTHORIZATION_ERRORS}#access-denied",
                    "state": state,
                },
            )
        code = secrets.token_hex(10)
        self.codes[code] = _Grant(self.signed_in, redirect, self.clock() + CODE_SECONDS)
        return _redirect(redirect, {"code": code, "state": state})

    def _exchange(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        params = dict(query)
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind == "application/json" and body:
            data = json.loads(body)
            params.update({k: str(v) for k, v in data.items() if v is not None})
        elif kind == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        as_json = "application/json" in headers.get("accept", "")
        if (
            params.get("client_id") != self.client_id
            or params.get("client_secret") != self.client_secret
        ):
            return _oauth_error(
                as_json,
                "incorrect_client_credentials",
                "The client_id and/or client_secret passed are incorrect.",
                "#incorrect-client-credentials",
            )
        grant = self.codes.pop(params.get("code", ""), None)  # a code works once
        if grant is None or self.clock() >= grant.expires:
            return _oauth_error(
                as_json,
                "bad_verification_code",
                "The code passed is incorrect or expired.",
                "#bad-verification-code",
            )
        if params.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return _oauth_error(
                as_json,
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
                "#redirect-uri-mismatch",
            )
        token = "ghu_" + "".join(secrets.choice(_ALPHABET) for _ in range(36))
        self.issued.append(token)
        self.api.user_tokens[token] = grant.login
        answer = {
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "refresh_token": "ghr_" + "".join(secrets.choice(_ALPHABET) for _ in range(76)),
            "refresh_token_expires_in": REFRESH_SECONDS,
            "scope": "",
            "token_type": "bearer",
        }
        return _oauth_answer(as_json, answer)


def _redirect(base: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    sep = "&" if "?" in base else "?"
    return 302, {"location": f"{base}{sep}{urlencode(params)}"}, b""


def _oauth_error(
    as_json: bool, error: str, description: str, anchor: str
) -> tuple[int, dict[str, str], bytes]:
    body = {"error": error, "error_description": description, "error_uri": TROUBLESHOOTING + anchor}
    return _oauth_answer(as_json, body)


def _oauth_answer(as_json: bool, data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    if as_json:
        return 200, {"content-type": "application/json; charset=utf-8"}, json.dumps(data).encode()
    form = urlencode({k: str(v) for k, v in data.items()}).encode()
    return 200, {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}, form


@contextmanager
def oauth_github(
    client_id: str, client_secret: str, *, callback_urls: tuple[str, ...] = ()
) -> Iterator[tuple[OAuthWeb, OAuthApi]]:
    """The web origin and the API, started; the API's spec violations fail the block."""
    api = OAuthApi()
    with api, OAuthWeb(api, client_id, client_secret, list(callback_urls)) as web:
        yield web, api
    api.assert_clean()
