"""A small synchronous GitHub REST client on httpx.

Why not gidgethub: it is async-only, and steward's CLI and pipeline are synchronous; its
sans-I/O core (header parsing, rate limits) is small enough that owning the equivalent here
costs less than an event loop in every command, and gidgethub has no retry policy, which is
the part steward most needs. The shape follows gidgethub all the same: one `request` under
`get`/`paginate`/`post`/..., the transport injectable (tests use real local servers).

Retries: connection errors and 5xx are retried with exponential backoff for idempotent
methods only (GET, HEAD, PUT, DELETE), so a POST is never sent twice; primary and secondary
rate limits are waited out for every method (GitHub did not act on a rate-limited request),
honouring `retry-after` and `x-ratelimit-reset`, within a total wait budget.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from steward import __version__
from steward.errors import (
    AuthError,
    GitHubError,
    NotFoundError,
    RateLimitError,
    ValidationFailed,
)

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_LINK_NEXT = re.compile(r'<(?P<url>[^>]+)>;\s*rel="next"')


@dataclass(slots=True)
class CallLog:
    """Every request the client sent, for tests and the API-call benchmark."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] not in {"GET", "HEAD"}]

    @property
    def reads(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in {"GET", "HEAD"}]


def path(template: str, **parts: str | int) -> str:
    """Fill ``{name}`` placeholders, URL-quoting each part (label names contain spaces, `/`)."""
    return template.format(**{k: quote(str(v), safe="") for k, v in parts.items()})


class GitHubClient:
    def __init__(
        self,
        token: str | None,
        base_url: str = DEFAULT_API_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 900.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"repo-steward/{__version__}",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self.log = CallLog()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- core -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send one request, retrying where safe; raise a `GitHubError` on failure.

        ``ok_statuses`` are error statuses the caller handles itself (e.g. 404 on delete).
        """
        method = method.upper()
        attempt = 0
        waited = 0.0
        while True:
            self.log.calls.append((method, _path_only(url)))
            try:
                resp = self._http.request(method, url, params=params, json=json)
            except httpx.TransportError as exc:
                if attempt < self.max_retries and (
                    method in IDEMPOTENT or isinstance(exc, httpx.ConnectError)
                ):
                    delay = self.backoff * 2**attempt
                    log.warning("%s %s: %s; retrying in %.1fs", method, url, exc, delay)
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise GitHubError(f"{method} {url}: cannot reach GitHub: {exc}") from None
            status = resp.status_code
            if status < 400 or status in ok_statuses:
                return resp
            wait = self._rate_limit_wait(resp)
            if wait is not None:
                if waited + wait > self.max_wait or attempt >= self.max_retries:
                    raise RateLimitError(
                        f"{method} {url}: rate limited by GitHub ({_message(resp)}); "
                        f"would need to wait {wait:.0f}s more",
                        status=status,
                    )
                log.warning("%s %s: rate limited; waiting %.0fs", method, url, wait)
                self._sleep(wait)
                waited += wait
                attempt += 1
                continue
            if status >= 500 and method in IDEMPOTENT and attempt < self.max_retries:
                delay = self.backoff * 2**attempt
                log.warning("%s %s: HTTP %d; retrying in %.1fs", method, url, status, delay)
                self._sleep(delay)
                attempt += 1
                continue
            raise _error(method, url, resp)

    def _rate_limit_wait(self, resp: httpx.Response) -> float | None:
        if resp.status_code not in {403, 429}:
            return None
        retry_after = resp.headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return 60.0
        if resp.headers.get("x-ratelimit-remaining") == "0":
            reset = resp.headers.get("x-ratelimit-reset")
            if reset is not None:
                try:
                    at = float(reset)
                except ValueError:
                    return 60.0
                if at > 1e11:  # some recordings give milliseconds
                    at /= 1000.0
                return max(1.0, at - self._clock() + 1.0)
            return 60.0
        if "secondary rate limit" in _message(resp).lower() or resp.status_code == 429:
            return 60.0
        return None

    # -- conveniences ---------------------------------------------------------------------

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", url, params=params).json()

    def post(self, url: str, json: Any = None) -> Any:
        resp = self.request("POST", url, json=json)
        return resp.json() if resp.content else None

    def patch(self, url: str, json: Any = None) -> Any:
        resp = self.request("PATCH", url, json=json)
        return resp.json() if resp.content else None

    def put(self, url: str, json: Any = None) -> Any:
        resp = self.request("PUT", url, json=json)
        return resp.json() if resp.content else None

    def delete(self, url: str, *, missing_ok: bool = False) -> bool:
        """DELETE; returns ``False`` when ``missing_ok`` and the resource was already gone."""
        resp = self.request(
            "DELETE", url, ok_statuses=frozenset({404}) if missing_ok else frozenset()
        )
        return resp.status_code != 404

    def paginate(
        self, url: str, params: dict[str, Any] | None = None, *, items_key: str | None = None
    ) -> Iterator[Any]:
        """Yield items across pages, following `Link: rel="next"` (100 per page)."""
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        next_url: str | None = url
        while next_url is not None:
            resp = self.request("GET", next_url, params=query)
            data = resp.json()
            items = data.get(items_key, []) if items_key and isinstance(data, dict) else data
            if not isinstance(items, list):
                raise GitHubError(f"GET {next_url}: expected a list, got {type(items).__name__}")
            yield from items
            m = _LINK_NEXT.search(resp.headers.get("link", ""))
            next_url = m.group("url") if m else None
            query = None  # the next link carries its own query


def _path_only(url: str) -> str:
    return httpx.URL(url).path if url.startswith("http") else url.split("?", 1)[0]


def _message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return resp.reason_phrase


def _error(method: str, url: str, resp: httpx.Response) -> GitHubError:
    status = resp.status_code
    msg = _message(resp)
    where = f"{method} {_path_only(url)}"
    if status == 401:
        return AuthError(
            f"{where}: GitHub rejected the credentials (401 {msg}); check GITHUB_TOKEN",
            status=status,
        )
    if status == 403:
        needs = resp.headers.get("x-accepted-github-permissions")
        hint = f"; the token needs: {needs}" if needs else ""
        return AuthError(f"{where}: forbidden (403 {msg}){hint}", status=status)
    if status == 404:
        return NotFoundError(
            f"{where}: not found (404); the resource does not exist or the token cannot see it",
            status=status,
        )
    if status == 422:
        details = ""
        try:
            errors = resp.json().get("errors")
            if errors:
                details = "; " + "; ".join(_describe(e) for e in errors)[:300]
        except (ValueError, AttributeError):
            pass
        return ValidationFailed(
            f"{where}: GitHub refused the request (422 {msg}){details}", status=status
        )
    return GitHubError(f"{where}: HTTP {status} {msg}", status=status)


def _describe(error: Any) -> str:
    """One entry of a 422's ``errors``: its message, else ``Resource.field code``."""
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    where = ".".join(str(error[k]) for k in ("resource", "field") if error.get(k))
    return f"{where} {error.get('code', 'invalid')}".strip()
