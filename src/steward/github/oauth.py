"""Signing a person in with GitHub: the GitHub App's user-to-server (OAuth web) flow.

The flow is GitHub's "Generating a user access token for a GitHub App", web application
flow (https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/
generating-a-user-access-token-for-a-github-app#using-the-web-application-flow-to-generate-
a-user-access-token):

1. the browser is sent to ``{web}/login/oauth/authorize`` with ``client_id``,
   ``redirect_uri`` and an unguessable ``state`` (`GitHubOAuth.authorize_url`);
2. GitHub sends it back to ``redirect_uri`` with ``code`` and the same ``state`` (or with
   ``error=access_denied`` when the person declined);
3. the code is exchanged for a user access token by ``POST {web}/login/oauth/access_token``
   with ``client_id``, ``client_secret``, ``code`` and ``redirect_uri``, asking for JSON
   (``Accept: application/json``). The parameters travel in a JSON body, as GitHub's own
   client does (octokit ``@octokit/oauth-methods``: ``exchangeWebFlowCode``), not in the
   query, where a proxy's access log would keep the secret. GitHub answers a refused code
   with HTTP 200 and ``error``, ``error_description`` and ``error_uri`` ("Troubleshooting
   OAuth app access token request errors": ``bad_verification_code``,
   ``incorrect_client_credentials``, ``redirect_uri_mismatch``, ...), which octokit too
   reads as a refusal;
4. the token reads ``GET {api}/user`` (the person's login) and ``GET {api}/orgs/{org}/
   teams/{team_slug}/memberships/{username}`` (``state``: ``active`` or ``pending``; 404 when
   the person is not in the team), both in GitHub's REST OpenAPI description.

`GitHubOAuth.identify` runs steps 3 and 4 and hands back only the login and the membership:
the user token never leaves this module, is sent only to the API's origin, and is dropped
when the call returns (the page's session holds the login, never the token). The client
secret is sent only to the web origin's token endpoint; the two origins have two clients, one
without any token, one without the secret.

Bounds: each answer is capped at `MAX_SIGN_IN_BODY` bytes (`steward.limits.read_capped`
through `GitHubClient`), each read times out after ``timeout`` seconds, a POST is never sent
twice, a GET is retried once, and a rate limit is waited out for at most ``max_wait``
seconds: a person is waiting on the page. A failure is one `GitHubError` line with the
secret, the code and the token redacted; `SignInRefused` (a subclass) when GitHub answered
but did not accept the sign-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from steward import limits
from steward.errors import AuthError, GitHubError, PayloadError
from steward.github import sansio
from steward.github.client import DEFAULT_API_URL, GitHubClient, Transport, path

DEFAULT_WEB_URL = "https://github.com"
AUTHORIZE = "/login/oauth/authorize"
EXCHANGE = "/login/oauth/access_token"
USER = "/user"
TEAM_MEMBERSHIP = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
# A token answer is ~300 bytes and a user ~2 KB: 1 MiB is far above anything GitHub sends.
MAX_SIGN_IN_BODY = limits.MiB
TIMEOUT_SECONDS = 10.0
MAX_WAIT_SECONDS = 10.0

Membership = Literal["active", "pending"]


class SignInRefused(GitHubError):
    """GitHub answered, and did not accept this sign-in (a code it does not know, the App's
    credentials, a token it rejects, a membership the App may not read)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in, and their membership of each team asked about (``None``: not in it)."""

    login: str
    memberships: dict[tuple[str, str], Membership | None]

    @property
    def active(self) -> tuple[tuple[str, str], ...]:
        """The teams (org, slug) this person is an active member of."""
        return tuple(team for team, state in self.memberships.items() if state == "active")


class GitHubOAuth:
    """The App's OAuth client: its ``client_id`` and ``client_secret``, GitHub's web origin
    (``web_url``: the authorize and token endpoints) and its API (``api_url``)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        web_url: str = DEFAULT_WEB_URL,
        api_url: str = DEFAULT_API_URL,
        transport: Transport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
        max_body: int = MAX_SIGN_IN_BODY,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("GitHub sign-in needs the App's client id and client secret")
        self.client_id = client_id
        self._client_secret = client_secret
        self.web_url = web_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self._transport = transport
        self._timeout = timeout
        self._max_wait = max_wait
        self._max_body = max_body

    def __repr__(self) -> str:  # never the secret
        return f"GitHubOAuth(client_id={self.client_id!r}, web_url={self.web_url!r})"

    # -- step 1 ---------------------------------------------------------------------------

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        """Where the browser goes to approve the sign-in (no secret in it). ``allow_signup``
        is off: a maintainer has an account already."""
        query = urlencode(
            {
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "allow_signup": "false",
            }
        )
        return f"{self.web_url}{AUTHORIZE}?{query}"

    # -- steps 3 and 4 --------------------------------------------------------------------

    def identify(
        self, code: str, *, redirect_uri: str, teams: Sequence[tuple[str, str]]
    ) -> Identity:
        """Exchange ``code`` for a user token, read who it belongs to and their membership of
        each of ``teams`` (org, team slug; a code works once, so all in one go), and forget
        the token."""
        token = self.exchange_code(code, redirect_uri=redirect_uri)
        with self._api_client(token) as api:
            login = self._login(api)
            memberships = {
                (org, slug): self._membership(api, org, slug, login) for org, slug in teams
            }
        return Identity(login, memberships)

    def exchange_code(self, code: str, *, redirect_uri: str) -> str:
        """The user access token for ``code`` (``POST {web}/login/oauth/access_token``)."""
        at = f"POST {EXCHANGE}"
        hidden = (self._client_secret, code)
        body = {
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        with self._web_client() as web:
            try:
                resp = web.request(
                    "POST",
                    EXCHANGE,
                    json=body,
                    headers={"Accept": "application/json"},
                    follow_redirects=False,
                )
            except GitHubError as exc:
                raise type(exc)(_clean(str(exc), hidden), status=exc.status) from None
            if resp.status_code in sansio.REDIRECTS:
                raise GitHubError(
                    f"{at}: GitHub answered with a redirect (HTTP {resp.status_code}); "
                    "is STEWARD_GITHUB_URL GitHub's web address?",
                    status=resp.status_code,
                )
            try:
                data = sansio.decode_json(resp.status_code, resp.headers, resp.content, at)
            except GitHubError as exc:
                raise GitHubError(_clean(str(exc), hidden), status=exc.status) from None
        return _token_from(data, at, hidden)

    # -- the clients ----------------------------------------------------------------------

    def _web_client(self) -> GitHubClient:
        """GitHub's web origin, with no token: the secret goes here and nowhere else."""
        return self._client(None, self.web_url)

    def _api_client(self, token: str) -> GitHubClient:
        """The API with the user's token, which goes nowhere else (`GitHubClient` refuses
        any other origin before a byte is sent)."""
        return self._client(token, self.api_url, max_pages=1)

    def _client(
        self, token: str | None, base_url: str, max_pages: int = limits.MAX_PAGES
    ) -> GitHubClient:
        """A client bounded for a sign-in: one retry, and each answer whole within the
        timeout."""
        return GitHubClient(
            token,
            base_url,
            transport=self._transport,
            max_retries=1,
            backoff=0.2,
            max_wait=self._max_wait,
            timeout=self._timeout,
            counts_writes=False,
            max_body=self._max_body,
            body_seconds=self._timeout,
            max_pages=max_pages,
        )

    def _login(self, api: GitHubClient) -> str:
        at = f"GET {USER}"
        try:
            data = api.get_object(USER)
        except AuthError as exc:
            raise SignInRefused(
                f"{at}: GitHub did not accept the new user token (HTTP {exc.status})",
                status=exc.status,
            ) from None
        except PayloadError as exc:
            raise GitHubError(str(exc)) from None
        login = data.get("login")
        if not isinstance(login, str) or not login or len(login) > 100:
            raise GitHubError(f"{at}: the answer has no login")
        return login

    def _membership(
        self, api: GitHubClient, org: str, team_slug: str, login: str
    ) -> Membership | None:
        url = path(TEAM_MEMBERSHIP, org=org, team_slug=team_slug, username=login)
        at = f"GET {TEAM_MEMBERSHIP}"
        try:
            resp = api.request("GET", url, ok_statuses=frozenset({404}), conditional=False)
        except AuthError as exc:
            raise SignInRefused(
                f"{at}: GitHub refused to show the team membership (HTTP {exc.status}); "
                "the App needs the organization permission Members: read, and the "
                "person must be able to see the team",
                status=exc.status,
            ) from None
        if resp.status_code == 404:
            return None
        data = sansio.decode_json(resp.status_code, resp.headers, resp.content, at)
        state = data.get("state") if isinstance(data, dict) else None
        if state not in ("active", "pending"):
            raise GitHubError(f"{at}: the answer has no membership state")
        return "active" if state == "active" else "pending"


def _token_from(data: Any, at: str, hidden: tuple[str, ...]) -> str:
    if not isinstance(data, dict):
        raise GitHubError(f"{at}: the answer is not a JSON object")
    error = data.get("error")
    if error is not None:
        described = data.get("error_description")
        text = f"{described} ({error})" if isinstance(described, str) else str(error)
        raise SignInRefused(f"{at}: {_clean(text, hidden)}")
    token = data.get("access_token")
    kind = data.get("token_type")
    if not isinstance(token, str) or not token:
        raise GitHubError(f"{at}: the answer has no access_token")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise GitHubError(f"{at}: the answer's token_type is not bearer")
    return token


def _clean(text: str, hidden: tuple[str, ...]) -> str:
    return sansio.one_line(sansio.redact(text, hidden))
