"""Who may look at the maintainers' page: sign-in, the session cookie and CSRF tokens.

Two ways in, each on only when configured (`PageAuth.methods`):

- **a static token** (``page_token``, for local use): ``POST /login`` with the form field
  ``token``, compared in constant time (both sides hashed first, so not even the length
  leaks); a wrong one is a 401 page that says so and nothing more. The token must be at
  least `MIN_TOKEN_CHARS` characters: there is no lock-out, so the token is the guard.
- **GitHub** (``oauth_client_id``, ``oauth_client_secret``; the App's user-to-server flow,
  `steward.github.oauth`): ``GET /login/github`` sends the browser to GitHub with a random
  ``state`` kept in a short-lived signed cookie; ``GET /oauth/callback`` checks the state in
  constant time, and `GitHubOAuth.identify` exchanges the code, reads the login and its
  membership of each team in ``maintainers_team`` (one per organisation the server serves):
  only ``active`` members get in (in no team, or an invitation not accepted yet: refused),
  and they see the installations of the organisations whose team they are in
  (`Maintainer.orgs`; the static token sees all). Without ``maintainers_team`` no GitHub
  account gets in, whoever it is. The user token stays inside `steward.github.oauth`: it is never
  in a cookie, a log line or the database.

**Session.** One cookie (``__Host-steward-page`` over https, ``steward-page`` over http),
signed with itsdangerous (HMAC-SHA256, timestamped), ``HttpOnly``, ``SameSite=Lax``,
``Path=/``, ``Secure`` over https, expiring after ``session_hours`` (the browser drops it
then, and a copy kept past that is refused by its timestamp). It holds the login, the
method, a random session id and a binding to the configuration it was issued under (the
static token, or the client id and team): changing the token or the team ends every session
issued under the old one. The key is ``session_secret``, else one derived from the webhook
secret (HMAC-SHA256 with a fixed label), so every instance agrees without one more secret.

**CSRF.** A signed-in form carries `PageAuth.csrf_token`: an HMAC of the session id, so a
token of one session is refused for any other. `PageAuth.check_csrf` compares in constant
time, and also refuses a POST whose ``Sec-Fetch-Site`` or ``Origin`` says it came from
another site. The sign-in form has its own token (login CSRF), bound to a signed pre-session
cookie; signing out is a POST with the session's token.

**Where to go next.** ``next`` is honoured only when it is a path on this site, under the
page's prefix (no scheme, no host, no ``//``, no backslash, printable ASCII); anything else
goes to the page's home.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from steward.errors import GitHubError, UsageError
from steward.github.oauth import GitHubOAuth, SignInRefused
from steward.github.sansio import one_line
from steward.server.page.render import templates
from steward.server.settings import Settings

log = logging.getLogger(__name__)

Via = Literal["token", "github"]
STATIC_LOGIN = "token"
MIN_TOKEN_CHARS = 16
SESSION_COOKIE = "steward-page"
LOGIN_COOKIE = "steward-page-login"  # the sign-in form's token (login CSRF)
OAUTH_COOKIE = "steward-page-oauth"  # a GitHub sign-in's state and where to go after it
SECURE_PREFIX = "__Host-"  # https: the cookie is this host's only, set Secure with Path=/
LOGIN_FORM_SECONDS = 3600
OAUTH_SECONDS = 600  # GitHub's codes expire after 10 minutes
MAX_FORM_BYTES = 4096
MAX_NEXT = 1000
MAX_CODE = 200
KEY_LABEL = b"steward/server/page/session-key/v1"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The callback's URL (code, state) goes to no other origin; "no-referrer" would also
    # make Chromium send "Origin: null" with the page's own forms, which then fail the
    # same-origin check (seen in tests/server/test_page_browser.py).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
FORM_EXPIRED = "This form has expired or did not come from this page: reload it and try again."


@dataclass(frozen=True, slots=True)
class Maintainer:
    """A signed-in maintainer: a GitHub login, or ``token`` for the static token."""

    login: str
    via: Via
    orgs: tuple[str, ...] | None = None
    """The organisations (casefolded) whose maintainers team this person is an active
    member of: they see those installations only. ``None`` (the static token): all."""

    def sees(self, account: str | None) -> bool:
        """Whether this maintainer may see an installation on ``account`` (``None``: an
        account not known yet, seen with the static token only)."""
        if self.orgs is None:
            return True
        return account is not None and account.casefold() in self.orgs


@dataclass(frozen=True, slots=True)
class _Session:
    maintainer: Maintainer
    sid: str


class _ClockedSigner(TimestampSigner):
    """itsdangerous' timestamp signer on an injectable clock (tests move time on)."""

    def __init__(self, *args: Any, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class _Refusal(Exception):
    """A sign-in refused: the page to answer, one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def session_key(settings: Settings) -> bytes | None:
    """The key that signs the page's cookies: from ``session_secret``, else from the webhook
    secret (HMAC-SHA256 under a fixed label, so every instance derives the same one and it is
    never the webhook secret itself); ``None`` without either."""
    for secret in (settings.session_secret, settings.webhook_secret):
        if secret is not None and secret.get_secret_value():
            raw = secret.get_secret_value().encode("utf-8")
            return hmac.new(raw, KEY_LABEL, hashlib.sha256).digest()
    return None


class PageAuth:
    """Sign-in, sessions and CSRF for the page. ``oauth`` replaces the GitHub client the
    settings describe."""

    def __init__(
        self,
        settings: Settings,
        *,
        oauth: GitHubOAuth | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._clock = clock
        token = settings.page_token.get_secret_value() if settings.page_token else ""
        self._token_digest = _digest(token) if token else None
        if oauth is None and settings.oauth_client_id and settings.oauth_client_secret:
            oauth = GitHubOAuth(
                settings.oauth_client_id,
                settings.oauth_client_secret.get_secret_value(),
                web_url=settings.github_url,
                api_url=settings.api_url,
            )
        self._oauth = oauth
        self._teams = _teams(settings.maintainers_team)
        self._page_url = _page_url(settings.page_url)
        self._session_seconds = max(60, int(settings.session_hours * 3600))
        methods: list[str] = []
        if token:
            methods.append("token")
        if oauth is not None:
            methods.append("github")
        self._methods = tuple(methods)
        key = session_key(settings)
        if key is None:
            if self._methods:
                raise UsageError(
                    "the maintainers' page needs a session secret (STEWARD_SESSION_SECRET) "
                    "or a webhook secret (STEWARD_WEBHOOK_SECRET) to sign its cookies"
                )
            key = secrets.token_bytes(32)  # nothing to sign in with: nothing is signed
        if token and len(token) < MIN_TOKEN_CHARS:
            raise UsageError(
                f"page_token (STEWARD_PAGE_TOKEN) must be at least {MIN_TOKEN_CHARS} "
                'characters; make one with: python -c "import secrets; '
                'print(secrets.token_urlsafe(24))"'
            )
        self._csrf_key = hmac.new(key, b"csrf", hashlib.sha256).digest()
        self._bind_key = hmac.new(key, b"binding", hashlib.sha256).digest()
        self._sessions = self._serializer(key, "steward.page.session")
        self._login_forms = self._serializer(key, "steward.page.login-form")
        self._oauth_flows = self._serializer(key, "steward.page.oauth-state")

    def _serializer(self, key: bytes, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            key,
            salt=salt,
            signer=_ClockedSigner,
            signer_kwargs={
                "key_derivation": "hmac",
                "digest_method": hashlib.sha256,
                "clock": self._clock,
            },
        )

    # -- what the page calls --------------------------------------------------------------

    @property
    def methods(self) -> tuple[str, ...]:
        """The sign-ins configured: ``token``, ``github`` (empty: the page is off)."""
        return self._methods

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/login", self._login, methods=["GET", "POST"], name="page-login"),
            Route("/login/github", self._github_start, methods=["GET"], name="page-login-github"),
            Route("/oauth/callback", self._github_callback, methods=["GET"], name="page-oauth"),
            Route("/logout", self._logout, methods=["POST"], name="page-logout"),
        ]

    def current(self, request: Request) -> Maintainer | None:
        """The signed-in maintainer, from the session cookie; ``None`` when it is absent,
        expired, tampered with, or issued under a sign-in no longer configured."""
        session = self._session(request)
        return session.maintainer if session is not None else None

    def csrf_token(self, request: Request) -> str:
        """The token a signed-in form carries: an HMAC of this session's id (the empty
        string without a session, which `check_csrf` refuses)."""
        session = self._session(request)
        if session is None:
            return ""
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, submitted: str | None) -> bool:
        """Whether ``submitted`` is this session's token (constant time), sent from this
        site (``Sec-Fetch-Site``/``Origin``, when the browser sends them)."""
        if not self._same_origin(request):
            return False
        expected = self.csrf_token(request)
        if not expected or not submitted or len(submitted) > 256:
            return False
        return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "replace"))

    def login_redirect(self, request: Request) -> Response:
        """303 to the sign-in page, coming back here (this path and query) afterwards."""
        prefix = _prefix(request)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = self._safe_next(here, prefix)
        location = f"{prefix}/login?next={quote(target, safe='/')}"
        return RedirectResponse(location, status_code=303, headers=HEADERS)

    # -- the session ----------------------------------------------------------------------

    def _session(self, request: Request) -> _Session | None:
        raw = request.cookies.get(self._cookie(request, SESSION_COOKIE))
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._sessions.loads(raw, max_age=self._session_seconds)
        except BadData:
            return None
        if not isinstance(data, dict) or data.get("v") != 1:
            return None
        login, via, sid, bound = (data.get(k) for k in ("l", "m", "s", "b"))
        if not (isinstance(login, str) and login and isinstance(sid, str) and sid):
            return None
        if via not in self._methods or not isinstance(bound, str):
            return None
        if not hmac.compare_digest(bound, self._binding(via)):
            return None  # issued under another token or team, or that sign-in is off now
        if via == "token":
            return _Session(Maintainer(login, "token"), sid)
        orgs = data.get("o")
        if not isinstance(orgs, list) or not orgs or not all(isinstance(o, str) for o in orgs):
            return None
        return _Session(Maintainer(login, "github", tuple(orgs)), sid)

    def _binding(self, via: str) -> str:
        """What a session is tied to: the static token, or the OAuth client and team."""
        if via == "token":
            basis = b"token\0" + (self._token_digest or b"")
        else:
            client = self._oauth.client_id if self._oauth is not None else ""
            basis = f"github\0{client}\0{self.settings.maintainers_team or ''}".encode()
        return hmac.new(self._bind_key, basis, hashlib.sha256).hexdigest()[:32]

    def _signed_in(self, request: Request, who: Maintainer, target: str) -> Response:
        """303 to ``target`` with a new session (a new id: never one chosen before)."""
        value = self._sessions.dumps(
            {
                "v": 1,
                "l": who.login,
                "m": who.via,
                "s": secrets.token_urlsafe(24),
                "b": self._binding(who.via),
                "o": list(who.orgs) if who.orgs is not None else None,
            }
        )
        response = RedirectResponse(target, status_code=303, headers=HEADERS)
        self._set_cookie(request, response, SESSION_COOKIE, value, self._session_seconds)
        self._clear_cookie(request, response, LOGIN_COOKIE)
        log.info("page: %s signed in (%s)", who.login, who.via)
        return response

    # -- cookies, origins, paths ----------------------------------------------------------

    def _secure(self, request: Request) -> bool:
        if self._page_url is not None:
            return self._page_url[0] == "https"
        return request.url.scheme == "https"

    def _cookie(self, request: Request, name: str) -> str:
        return SECURE_PREFIX + name if self._secure(request) else name

    def _set_cookie(
        self, request: Request, response: Response, name: str, value: str, max_age: int
    ) -> None:
        response.set_cookie(
            self._cookie(request, name),
            value,
            max_age=max_age,
            path="/",
            secure=self._secure(request),
            httponly=True,
            samesite="lax",
        )

    def _clear_cookie(self, request: Request, response: Response, name: str) -> None:
        response.delete_cookie(
            self._cookie(request, name),
            path="/",
            secure=self._secure(request),
            httponly=True,
            samesite="lax",
        )

    def _origin(self, request: Request) -> str:
        if self._page_url is not None:
            return _normal_origin(f"{self._page_url[0]}://{self._page_url[1]}")
        return _normal_origin(f"{request.url.scheme}://{request.url.netloc}")

    def _same_origin(self, request: Request) -> bool:
        """A POST from this site: ``Sec-Fetch-Site`` same-origin (or none: typed by the
        person), ``Origin`` this page's; a browser that sends neither is let through to the
        token checks."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in {"same-origin", "none"}:
            return False
        origin = request.headers.get("origin")
        return origin is None or _normal_origin(origin) == self._origin(request)

    def _callback_url(self, request: Request) -> str:
        if self._page_url is not None:
            scheme, netloc, base = self._page_url
            return f"{scheme}://{netloc}{base}/oauth/callback"
        return f"{request.url.scheme}://{request.url.netloc}{_prefix(request)}/oauth/callback"

    def _safe_next(self, raw: str | None, prefix: str) -> str:
        """``raw`` when it is a path of this page, else the page's home."""
        home = prefix + "/"
        if not raw or len(raw) > MAX_NEXT:
            return home
        if any(not 0x21 <= ord(c) < 0x7F for c in raw) or "\\" in raw:
            return home
        if not raw.startswith("/") or raw.startswith("//"):
            return home
        parts = urlsplit(raw)
        if parts.scheme or parts.netloc or parts.fragment:
            return home
        if prefix and parts.path != prefix and not parts.path.startswith(prefix + "/"):
            return home
        own = {f"{prefix}{p}" for p in ("/login", "/login/github", "/oauth/callback", "/logout")}
        if parts.path in own:
            return home
        return raw

    # -- pages ----------------------------------------------------------------------------

    def _page(
        self,
        request: Request,
        *,
        status: int = 200,
        error: str | None = None,
        next_path: str | None = None,
        login_token: str | None = None,
    ) -> HTMLResponse:
        """The sign-in page (with ``error``, one line, when something was refused), and a
        fresh sign-in form token in its cookie."""
        prefix = _prefix(request)
        target = self._safe_next(next_path, prefix)
        nonce = login_token or secrets.token_urlsafe(24)
        html = (
            templates()
            .get_template("login.html")
            .render(
                who=None,
                csrf="",
                path=request.url.path,
                methods=self._methods,
                error=one_line(error) if error else None,
                next=target,
                login_csrf=nonce,
                login_action=f"{prefix}/login",
                github_href=f"{prefix}/login/github?next={quote(target, safe='/')}",
            )
        )
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if "token" in self._methods:
            value = self._login_forms.dumps({"n": nonce})
            self._set_cookie(request, response, LOGIN_COOKIE, value, LOGIN_FORM_SECONDS)
        return response

    async def _login(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._login_with_token(request)
        prefix = _prefix(request)
        next_path = request.query_params.get("next")
        if self.current(request) is not None:
            return RedirectResponse(
                self._safe_next(next_path, prefix), status_code=303, headers=HEADERS
            )
        if not self._methods:
            return self._page(request, status=404, error="No sign-in is configured.")
        return self._page(request, next_path=next_path)

    async def _login_with_token(self, request: Request) -> Response:
        form = await small_form(request)
        next_path = form.get("next") if form is not None else None
        if "token" not in self._methods or self._token_digest is None:
            return self._page(
                request, status=404, next_path=next_path, error="Token sign-in is not configured."
            )
        if form is None or not self._login_form_ok(request, form.get("csrf")):
            return self._page(request, status=403, next_path=next_path, error=FORM_EXPIRED)
        submitted = form.get("token") or ""
        if not hmac.compare_digest(_digest(submitted), self._token_digest):
            log.warning("page: a wrong sign-in token from %s", _client(request))
            return self._page(
                request,
                status=401,
                next_path=next_path,
                error="That is not the page's sign-in token.",
            )
        target = self._safe_next(next_path, _prefix(request))
        return self._signed_in(request, Maintainer(STATIC_LOGIN, "token"), target)

    def _login_form_ok(self, request: Request, submitted: str | None) -> bool:
        if not self._same_origin(request) or not submitted or len(submitted) > 256:
            return False
        raw = request.cookies.get(self._cookie(request, LOGIN_COOKIE))
        if not raw or len(raw) > 1024:
            return False
        try:
            data = self._login_forms.loads(raw, max_age=LOGIN_FORM_SECONDS)
        except BadData:
            return False
        nonce = data.get("n") if isinstance(data, dict) else None
        return isinstance(nonce, str) and hmac.compare_digest(
            nonce.encode(), submitted.encode("utf-8", "replace")
        )

    async def _github_start(self, request: Request) -> Response:
        next_path = self._safe_next(request.query_params.get("next"), _prefix(request))
        try:
            oauth, _ = self._github_ready()
        except _Refusal as refusal:
            return self._page(
                request, status=refusal.status, next_path=next_path, error=refusal.message
            )
        state = secrets.token_urlsafe(32)
        url = oauth.authorize_url(redirect_uri=self._callback_url(request), state=state)
        response = RedirectResponse(url, status_code=303, headers=HEADERS)
        value = self._oauth_flows.dumps({"state": state, "next": next_path})
        self._set_cookie(request, response, OAUTH_COOKIE, value, OAUTH_SECONDS)
        return response

    def _github_ready(self) -> tuple[GitHubOAuth, tuple[tuple[str, str], ...]]:
        if self._oauth is None:
            raise _Refusal(
                404,
                "GitHub sign-in is not configured (oauth_client_id and oauth_client_secret).",
            )
        if not self._teams:
            raise _Refusal(
                403,
                "GitHub sign-in is refused: no maintainers team is configured "
                "(maintainers_team = ORG/TEAM-SLUG), and without one no GitHub account "
                "may sign in.",
            )
        return self._oauth, self._teams

    async def _github_callback(self, request: Request) -> Response:
        prefix = _prefix(request)
        flow = self._oauth_flow(request)
        next_path = self._safe_next(flow.get("next") if flow else None, prefix)
        try:
            who = await self._github_member(request, flow)
        except _Refusal as refusal:
            response: Response = self._page(
                request, status=refusal.status, next_path=next_path, error=refusal.message
            )
        else:
            response = self._signed_in(request, who, next_path)
        self._clear_cookie(request, response, OAUTH_COOKIE)  # a state works once
        return response

    def _oauth_flow(self, request: Request) -> dict[str, Any] | None:
        raw = request.cookies.get(self._cookie(request, OAUTH_COOKIE))
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._oauth_flows.loads(raw, max_age=OAUTH_SECONDS)
        except BadData:
            return None
        return data if isinstance(data, dict) else None

    async def _github_member(self, request: Request, flow: dict[str, Any] | None) -> Maintainer:
        oauth, teams = self._github_ready()
        query = request.query_params
        state = flow.get("state") if flow is not None else None
        if not isinstance(state, str) or not state:
            raise _Refusal(
                400, "This sign-in took too long or was not started here: sign in again."
            )
        if not hmac.compare_digest(
            state.encode(), query.get("state", "").encode("utf-8", "replace")
        ):
            log.warning("page: a GitHub sign-in with the wrong state from %s", _client(request))
            raise _Refusal(400, "This sign-in was not started here: sign in again.")
        if "error" in query:
            if query.get("error") == "access_denied":
                raise _Refusal(403, "The sign-in was declined at GitHub.")
            raise _Refusal(502, "GitHub did not complete the sign-in: try again.")
        code = query.get("code", "")
        if not code or len(code) > MAX_CODE or not code.isascii() or not code.isprintable():
            raise _Refusal(400, "GitHub's answer has no sign-in code: sign in again.")
        try:
            identity = await run_in_threadpool(
                oauth.identify,
                code,
                redirect_uri=self._callback_url(request),
                teams=teams,
            )
        except SignInRefused as exc:
            log.warning("page: GitHub refused a sign-in: %s", exc)
            raise _Refusal(403, f"GitHub refused the sign-in: {exc}") from None
        except GitHubError as exc:
            log.warning("page: GitHub did not answer a sign-in: %s", exc)
            raise _Refusal(502, f"GitHub did not answer: {exc}") from None
        active = identity.active
        if not active:
            pending = [t for t, state in identity.memberships.items() if state == "pending"]
            if pending:
                named = "/".join(pending[0])
                raise _Refusal(
                    403,
                    f"{identity.login}'s membership of the team {named} is pending: accept "
                    "the invitation on GitHub, then sign in again.",
                )
            named = " or ".join("/".join(t) for t in teams)
            log.warning("page: %s is not in %s; sign-in refused", identity.login, named)
            raise _Refusal(
                403,
                f"{identity.login} is not a member of the team {named}: only its members "
                "may sign in.",
            )
        orgs = tuple(sorted({org.casefold() for org, _ in active}))
        return Maintainer(identity.login, "github", orgs)

    async def _logout(self, request: Request) -> Response:
        form = await small_form(request)
        prefix = _prefix(request)
        if self._session(request) is None:
            return RedirectResponse(f"{prefix}/login", status_code=303, headers=HEADERS)
        if form is None or not self.check_csrf(request, form.get("csrf")):
            return self._page(request, status=403, error=FORM_EXPIRED)
        who = self.current(request)
        response = RedirectResponse(f"{prefix}/login", status_code=303, headers=HEADERS)
        self._clear_cookie(request, response, SESSION_COOKIE)
        if who is not None:
            log.info("page: %s signed out", who.login)
        return response


# -- helpers ------------------------------------------------------------------------------


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "replace")).digest()


def _teams(value: str | None) -> tuple[tuple[str, str], ...]:
    """``maintainers_team``: ``ORG/TEAM``, or several separated by commas (one per
    organisation whose installations the server serves)."""
    teams = []
    for item in (value or "").split(","):
        org, _, slug = item.strip().partition("/")
        if org and slug:
            teams.append((org, slug))
    return tuple(teams)


def _page_url(value: str | None) -> tuple[str, str, str] | None:
    """``page_url`` as (scheme, host[:port], path without a trailing ``/``)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(
            f"page_url must be the page's http(s) address, without query: {value[:100]!r}"
        )
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


def _normal_origin(value: str) -> str:
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return "invalid"
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def _prefix(request: Request) -> str:
    """The path the page's routes are mounted under (``""`` at the root)."""
    root = request.scope.get("root_path", "")
    return root.rstrip("/") if isinstance(root, str) else ""


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "an unknown address"


async def small_form(request: Request, max_fields: int = 8) -> dict[str, str] | None:
    """The urlencoded fields of a small form (``None``: over `MAX_FORM_BYTES`, no length,
    or not a form); text fields only."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return None
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    form = await request.form(max_files=0, max_fields=max_fields)
    return {k: v for k, v in form.items() if isinstance(v, str)}
