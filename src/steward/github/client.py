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

Optional hooks for the App server (without them nothing changes): ``etags``, a store
shared by every worker, makes GETs conditional (``If-None-Match``; a 304 is answered from
the store and costs no rate limit); ``pacer``, one per installation, spaces and serialises
writes and waits out rate-limit pauses that another request ran into (both `github.budget`);
``token_source`` gives the token for each request, so a long-lived client follows an
installation token that is renewed every hour; ``on_token_rejected`` is told of a 401 (a token
revoked early, an App reinstalled), and the request goes once more on the next token.

Release assets: `upload` sends bytes to the upload URL GitHub named for a release, the one
request that may carry the token off the API's origin, and only to an allowed upload base
(`sansio.upload_bases`: ``uploads.github.com`` for github.com, ``/api/uploads`` on GHES, or
``uploads_url`` given explicitly); `download` asks the API for an asset's bytes and follows
its redirect to the storage host with a client that has no token at all.

Bounds (`steward.limits`): every body is streamed and stops past ``max_body`` bytes
(decoded: a small gzip stream that inflates without end stops too), one line and no retry;
`paginate` stops on a page it read already (a ``Link`` that loops) and past ``max_pages``
pages, one line naming the endpoint.

`counting_writes` is a block that tallies the writes GitHub accepts inside it, on the calling
thread (or task), by every client made with ``counts_writes`` (the default; not the App's own
client, whose token requests are not a job's work): a server worker runs each job in one, to
tell a failed run that got some of its writes through (the next run resumes past them) from
one that got nowhere. Clients are shared between workers, so the tally is the block's, not
the client's. `counting_reads` is the same for what a block cost: the answers GitHub sent,
the GETs among them, those the ETag store answered (a 304), and the rate limit the last
answer reported (the server's survey records them for the maintainers' page).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote, urljoin

import httpx

from steward import __version__, limits
from steward.errors import GitHubError, RateLimitError
from steward.github import budget, sansio

log = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_API_URL = "https://api.github.com"

Transport = httpx.BaseTransport
"""What a `GitHubClient` sends its requests through (``transport=``): callers outside the
adapter name it by this, not by httpx."""


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every client uses: httpx's defaults (certifi's CAs, certificates and
    host names verified, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured), made once. Making it
    loads the CA bundle: about 0.2 s of CPU, which a new client per App token or per
    installation (and per worker process started) paid each time."""
    return httpx.create_ssl_context()


@dataclass(slots=True)
class WriteTally:
    """The writes GitHub accepted (2xx/3xx) inside one `counting_writes` block."""

    accepted: int = 0


_tally: ContextVar[WriteTally | None] = ContextVar("steward_write_tally", default=None)


def counting_writes() -> AbstractContextManager[WriteTally]:
    """A tally of the writes GitHub accepts inside the block, on this thread or task, by
    any client that ``counts_writes`` (another thread's writes are not the block's)."""
    return _counting(_tally, WriteTally())


@contextmanager
def _counting(var: ContextVar[_T | None], tally: _T) -> Iterator[_T]:
    """``tally`` as ``var``'s value inside the block (this thread or task only)."""
    token = var.set(tally)
    try:
        yield tally
    finally:
        var.reset(token)


@dataclass(slots=True)
class ReadTally:
    """What GitHub answered inside one `counting_reads` block (every method)."""

    requests: int = 0
    """Answers GitHub sent (each attempt of a retried request counts)."""
    reads: int = 0
    """...of which to GETs."""
    not_modified: int = 0
    """...of which ``304 Not Modified``, answered from the ETag store (no rate limit)."""
    rate: budget.RateBudget | None = None
    """The primary rate limit the last answer carried."""


_reads: ContextVar[ReadTally | None] = ContextVar("steward_read_tally", default=None)


def counting_reads() -> AbstractContextManager[ReadTally]:
    """A tally of the answers GitHub sends inside the block, on this thread or task, to
    any client that ``counts_writes`` (the App's own client does not: its token requests
    are not a job's work)."""
    return _counting(_reads, ReadTally())


IDEMPOTENT = sansio.IDEMPOTENT
MAX_REDIRECTS = 5
# headers of a 304 that describe its own (empty) body, not the stored one
_FRAMING = frozenset({"content-length", "content-encoding", "transfer-encoding", "content-type"})


@dataclass(slots=True)
class CallLog:
    """Every request the client sent, for tests and the API-call benchmark."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    # GETs answered 304 Not Modified and served from the ETag store (no rate limit spent)
    not_modified: list[tuple[str, str]] = field(default_factory=list)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] not in {"GET", "HEAD"}]

    @property
    def reads(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in {"GET", "HEAD"}]


def path(template: str, **parts: str | int) -> str:
    """Fill ``{name}`` placeholders, percent-encoding each part as one path segment.

    ``/`` and every other reserved character are encoded (label names contain spaces and
    ``/``), and so are the dot segments ``.`` and ``..``, which a URL parser would otherwise
    resolve (``/repos/../evil`` is ``/evil``).
    """
    return template.format(**{k: segment(v) for k, v in parts.items()})


def segment(value: str | int) -> str:
    """One path segment, percent-encoded; never a dot segment."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in {".", ".."} else text


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
        etags: budget.EtagStore | None = None,
        etag_scope: str = "",
        pacer: budget.WritePacer | None = None,
        token_source: Callable[[], str] | None = None,
        on_token_rejected: Callable[[str | None], None] | None = None,
        counts_writes: bool = True,
        max_pages: int = limits.MAX_PAGES,
        max_body: int = limits.MAX_API_BODY,
        uploads_url: str | None = None,
        body_seconds: float = limits.HTTP_BODY_SECONDS,
    ) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"repo-steward/{__version__}",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.upload_bases = sansio.upload_bases(self.base_url, [uploads_url or ""])
        self._transport = transport
        self._timeout = timeout
        self._token = token
        self._token_source = token_source
        self._on_token_rejected = on_token_rejected
        self._counts_writes = counts_writes
        self._current: str | None = None  # the token_source's latest token
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            verify=tls_context(),
            transport=transport,
            follow_redirects=False,  # redirects are followed here, same origin only
        )
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._etags = etags
        self._etag_scope = etag_scope
        self._pacer = pacer
        self.max_pages = max_pages
        self.max_body = max_body
        self.body_seconds = body_seconds
        """How long an answer's whole body may take to arrive (each read has ``timeout``;
        a server that trickles bytes is stopped by this)."""
        self.log = CallLog()
        self._plain: httpx.Client | None = None  # no token: for storage hosts

    def _tokenless(self) -> httpx.Client:
        """A client that never sends a token, for hosts the API redirects to."""
        if self._plain is None:
            self._plain = httpx.Client(
                headers={"User-Agent": f"repo-steward/{__version__}"},
                timeout=self._timeout,
                verify=tls_context(),
                transport=self._transport,
                follow_redirects=False,
            )
        return self._plain

    @property
    def _secrets(self) -> tuple[str, ...]:
        """The credentials to redact from messages: the token, and the current one when a
        ``token_source`` hands them out."""
        return tuple(t for t in (self._token, self._current) if t)

    def close(self) -> None:
        self._http.close()
        if self._plain is not None and self._transport is None:  # an injected one is shared
            self._plain.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _absolute(self, url: str) -> str:
        return url if "://" in url else f"{self.base_url}{url}"

    # -- core -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        ok_statuses: frozenset[int] = frozenset(),
        conditional: bool = True,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        upload: bool = False,
        follow_redirects: bool = True,
    ) -> httpx.Response:
        """Send one request, retrying where safe; raise a `GitHubError` on failure.

        ``url`` is a path under the API URL, or an absolute URL on the API's origin (a
        pagination link); any other origin is refused before a byte is sent, since every
        request carries the token. ``upload=True`` is the one exception: ``url`` must then
        be under one of `upload_bases` instead (a release's upload URL). ``ok_statuses``
        are error statuses the caller handles itself (e.g. 404 on delete).
        ``conditional=False`` keeps a GET out of the ETag store (a reader that trusts
        ``rel="last"``, which a stored page may have stale). ``follow_redirects=False``
        hands a redirect back to the caller, who decides how it may be followed (an asset
        download's storage host, without the token).
        """
        method = method.upper()
        target = self._absolute(url)
        self._check_target(method, target, upload=upload)
        attempt = 0
        redirects = 0
        waited = 0.0
        renewed = False
        while True:
            at = sansio.where(method, target)
            self.log.calls.append((method, _path_only(target)))
            try:
                resp = self._send(
                    method, target, params, json, conditional, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt < self.max_retries and (
                    method in IDEMPOTENT or isinstance(exc, httpx.ConnectError)
                ):
                    delay = self.backoff * 2**attempt
                    log.warning("%s: %s; retrying in %.1fs", at, _exc_text(exc), delay)
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise GitHubError(f"{at}: cannot reach GitHub: {_exc_text(exc)}") from None
            self._tally_answer(method, resp)
            status = resp.status_code
            if status in sansio.REDIRECTS and not follow_redirects:
                return self._accepted(method, resp)
            if status in sansio.REDIRECTS:
                if redirects >= MAX_REDIRECTS:
                    raise GitHubError(f"{at}: more than {MAX_REDIRECTS} redirects", status=status)
                target = sansio.redirect_target(method, status, resp.headers, target, self.base_url)
                redirects += 1
                params = None  # the Location carries its own query
                continue
            if status < 400 or status in ok_statuses:
                return self._accepted(method, resp)
            if status == 401 and not renewed and self._renew_token(at, resp):
                renewed = True  # GitHub did not act on it: any method may go again, once
                continue
            wait = self._rate_limit_wait(at, resp, waited, attempt)
            if wait is not None:
                log.warning("%s: rate limited; waiting %.0fs", at, wait)
                self._sleep(wait)
                waited += wait
                attempt += 1
                continue
            if sansio.retryable(method, status) and attempt < self.max_retries:
                delay = self.backoff * 2**attempt
                log.warning("%s: HTTP %d; retrying in %.1fs", at, status, delay)
                self._sleep(delay)
                attempt += 1
                continue
            raise sansio.error_for(
                method,
                target,
                status,
                resp.headers,
                resp.content,
                reason=resp.reason_phrase,
                secrets=self._secrets,
            )

    def _check_target(self, method: str, target: str, *, upload: bool) -> None:
        """Refuse, before a byte is sent, a target the token must not go to: anything off
        the API's origin, or for an upload anything outside `upload_bases`."""
        if upload and not sansio.upload_allowed(target, self.upload_bases):
            raise GitHubError(
                f"{sansio.where(method, target)}: refusing to send the token to "
                f"{sansio.origin(target).host}, which is not an allowed upload host "
                f"({', '.join(self.upload_bases) or 'none for this API URL'})"
            )
        if not upload and not sansio.same_origin(target, self.base_url):
            raise GitHubError(
                f"{sansio.where(method, target)}: refusing to send the token to "
                f"{sansio.origin(target).host}, which is not the API's host"
            )

    def _accepted(self, method: str, resp: httpx.Response) -> httpx.Response:
        """``resp``, tallied by the enclosing `counting_writes` block when it is a write
        GitHub accepted."""
        tally = _tally.get()
        if (
            tally is not None
            and self._counts_writes
            and method not in {"GET", "HEAD"}
            and resp.status_code < 400
        ):
            tally.accepted += 1
        return resp

    def _read_tally(self) -> ReadTally | None:
        """The enclosing `counting_reads` block's tally, when this client counts."""
        return _reads.get() if self._counts_writes else None

    def _tally_answer(self, method: str, resp: httpx.Response) -> None:
        """Count an answer in the enclosing `counting_reads` block (a 304 the store answered
        is counted where it is turned into the stored answer, in `_send`)."""
        tally = self._read_tally()
        if tally is None:
            return
        tally.requests += 1
        if method in {"GET", "HEAD"}:
            tally.reads += 1
        tally.rate = budget.rate_budget(resp.headers) or tally.rate

    def _renew_token(self, at: str, resp: httpx.Response) -> bool:
        """Tell ``on_token_rejected`` which token a 401 refused (the one this request
        carried, whatever other threads sent since); ``False`` without the hook."""
        if self._on_token_rejected is None:
            return False
        try:
            sent = resp.request.headers.get("authorization", "")
        except RuntimeError:  # a response made without its request (never sent)
            sent = ""
        log.warning("%s: token rejected (401); getting a new one", at)
        self._on_token_rejected(sent.removeprefix("Bearer ").strip() or None)
        return True

    def _rate_limit_wait(
        self, at: str, resp: httpx.Response, waited: float, attempt: int
    ) -> float | None:
        """How long a rate limit asks to wait (``None``: not a rate limit); a
        `RateLimitError` when that would outlast the wait budget or the retries."""
        status = resp.status_code
        wait = sansio.rate_limit_wait(status, resp.headers, resp.content, self._clock())
        if wait is not None and (waited + wait > self.max_wait or attempt >= self.max_retries):
            msg = sansio.message(resp.content, resp.reason_phrase, self._secrets)
            raise RateLimitError(
                f"{at}: rate limited by GitHub ({msg}); would need to wait {wait:.0f}s more",
                status=status,
            )
        return wait

    def _send(
        self,
        method: str,
        target: str,
        params: dict[str, Any] | None,
        json: Any,
        conditional: bool = True,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One HTTP exchange, through the hooks when there are any."""
        etags = self._etags if conditional else None
        request = self._http.build_request(
            method, target, params=params, json=json, content=content, headers=headers
        )
        if etags is None and self._pacer is None and self._token_source is None:
            return self._exchange(request)
        if self._token_source is not None:
            self._current = self._token_source()
            request.headers["Authorization"] = f"Bearer {self._current}"
        key = None
        stored = None
        if etags is not None:
            key = budget.cache_key(self._etag_scope, method, str(request.url))
            stored = etags.get(key) if key is not None else None
            if stored is not None:
                request.headers["If-None-Match"] = stored[0]
        if self._pacer is not None:
            with self._pacer.slot(method):
                resp = self._exchange(request)
            self._pacer.observe(resp.status_code, resp.headers, resp.content)
        else:
            resp = self._exchange(request)
        if key is None or etags is None:
            return resp
        if resp.status_code == 304 and stored is not None:
            self.log.not_modified.append((method, _path_only(target)))
            tally = self._read_tally()
            if tally is not None:
                tally.not_modified += 1
            kept, body = budget.unpack(stored[1])
            fresh = {  # the 304's own headers (rate limit, date), but not its framing
                k: v for k, v in resp.headers.items() if k.lower() not in _FRAMING
            }
            return httpx.Response(200, headers={**fresh, **kept}, content=body, request=request)
        etag = budget.etag_to_store(resp.status_code, resp.headers, resp.content, str(request.url))
        if etag is not None:
            etags.put(key, etag, budget.pack(resp.headers, resp.content))
        return resp

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read its body as it streams in, decoded, stopping with a
        `GitHubError` past `max_body` bytes (`limits.read_capped`)."""
        resp = self._http.send(request, stream=True)
        try:
            what = f"{sansio.where(request.method, str(request.url))}: the answer"
            body = limits.read_capped(
                resp.iter_bytes(),
                self.max_body,
                what,
                lambda message: GitHubError(message, status=resp.status_code),
                seconds=self.body_seconds,
            )
        finally:
            resp.close()
        resp._content = body  # what `Response.read` keeps; read here with a cap instead
        return resp

    def _json(self, method: str, url: str, resp: httpx.Response) -> Any:
        return sansio.decode_json(
            resp.status_code, resp.headers, resp.content, sansio.where(method, url)
        )

    # -- conveniences ---------------------------------------------------------------------

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self._json("GET", url, self.request("GET", url, params=params))

    def get_object(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON object; a list, text or HTML instead is one clear error."""
        return sansio.expect_object(self.get(url, params), sansio.where("GET", url))

    def post(self, url: str, json: Any = None) -> Any:
        return self._json("POST", url, self.request("POST", url, json=json))

    def patch(self, url: str, json: Any = None) -> Any:
        return self._json("PATCH", url, self.request("PATCH", url, json=json))

    def put(self, url: str, json: Any = None) -> Any:
        return self._json("PUT", url, self.request("PUT", url, json=json))

    def delete(self, url: str, *, missing_ok: bool = False) -> bool:
        """DELETE; returns ``False`` when ``missing_ok`` and the resource was already gone."""
        resp = self.request(
            "DELETE", url, ok_statuses=frozenset({404}) if missing_ok else frozenset()
        )
        return resp.status_code != 404

    def upload(self, url: str, data: bytes, content_type: str, params: dict[str, Any]) -> Any:
        """POST ``data`` to a release's upload URL, which must be under `upload_bases`
        (refused before a byte is sent otherwise); the JSON answer. A POST: a 5xx is not
        sent again (the caller lists the assets to see whether it arrived)."""
        resp = self.request(
            "POST",
            url,
            params=params,
            content=data,
            headers={"Content-Type": content_type},
            upload=True,
        )
        return self._json("POST", url, resp)

    def download(self, url: str, max_bytes: int) -> bytes:
        """The bytes of an API resource asked for as ``application/octet-stream`` (a release
        asset), at most ``max_bytes``. GitHub answers with a redirect to a storage host,
        whose URL carries its own short-lived signature: it is followed by a client without
        the token (`_tokenless`), never downgraded from https, retried like a GET."""
        at = sansio.where("GET", self._absolute(url))
        resp = self.request(
            "GET",
            url,
            headers={"Accept": "application/octet-stream"},
            conditional=False,
            follow_redirects=False,
        )
        if resp.status_code not in sansio.REDIRECTS:
            return _within(resp.content, max_bytes, at)
        return self._fetch_tokenless(str(resp.request.url), resp.headers, max_bytes, at)

    def _fetch_tokenless(
        self, current: str, headers: httpx.Headers, max_bytes: int, at: str
    ) -> bytes:
        """Follow a redirect chain from ``current`` without any token, read capped."""
        hops = 0
        attempt = 0
        while True:
            location = headers.get("location")
            if not location:
                raise GitHubError(f"{at}: a redirect without a Location")
            target = urljoin(current, location)
            scheme = sansio.origin(target).scheme
            if scheme not in {"https", "http"} or (
                scheme == "http" and sansio.origin(current).scheme == "https"
            ):
                raise GitHubError(f"{at}: refusing a redirect to a {scheme or 'relative'} URL")
            hops += 1
            if hops > MAX_REDIRECTS:
                raise GitHubError(f"{at}: more than {MAX_REDIRECTS} redirects")
            host = sansio.origin(target).host
            while True:
                try:
                    with self._tokenless().stream("GET", target) as resp:
                        status = resp.status_code
                        if status in sansio.REDIRECTS:
                            headers = resp.headers
                            break
                        if status >= 500 and attempt < self.max_retries:
                            self._sleep(self.backoff * 2**attempt)
                            attempt += 1
                            continue
                        if status >= 400:
                            raise GitHubError(
                                f"{at}: the storage host {host} answered HTTP {status}",
                                status=status,
                            )
                        return limits.read_capped(
                            resp.iter_bytes(),
                            max_bytes,
                            f"{at}: the asset from {host}",
                            _status_error(status),
                            seconds=self.body_seconds,
                        )
                except httpx.TransportError as exc:
                    if attempt >= self.max_retries:
                        raise GitHubError(f"{at}: cannot reach {host}: {_exc_text(exc)}") from None
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
            current = target

    def paginate(
        self, url: str, params: dict[str, Any] | None = None, *, items_key: str | None = None
    ) -> Iterator[Any]:
        """Yield items across pages, following `Link: rel="next"` (100 per page) on the API's
        own origin only: a link elsewhere stops with a `GitHubError` before any request, and
        so does a next page read already or one past `max_pages` (`limits.PageWalk`)."""
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        walk = limits.PageWalk(
            sansio.where("GET", self._absolute(url)), GitHubError, self.max_pages
        )
        next_url: str | None = url
        while next_url is not None:
            at = sansio.where("GET", next_url)
            walk.visit(_with_params(self._absolute(next_url), query))
            resp = self.request("GET", next_url, params=query)
            data = self._json("GET", next_url, resp)
            yield from sansio.page_items(data, items_key, at)
            next_url = sansio.next_page(
                resp.headers.get("link"), str(resp.request.url), self.base_url, at
            )
            query = None  # the next link carries its own query


def _status_error(status: int) -> Callable[[str], Exception]:
    return lambda message: GitHubError(message, status=status)


def _within(body: bytes, cap: int, at: str) -> bytes:
    if len(body) > cap:
        raise GitHubError(f"{at}: the asset is over the limit of {limits.size_text(cap)}")
    return body


def _with_params(url: str, params: dict[str, Any] | None) -> str:
    target = httpx.URL(url)
    return str(target.copy_merge_params(params) if params else target)


def _path_only(url: str) -> str:
    return httpx.URL(url).path if "://" in url else url.split("?", 1)[0]


def _exc_text(exc: Exception) -> str:
    return sansio.one_line(str(exc) or type(exc).__name__)
