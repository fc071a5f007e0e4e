"""The API budget: conditional reads and paced writes, decided by pure functions.

What Prow's ghproxy does for Prow, in two small parts the `GitHubClient` takes as optional
hooks (without them it behaves exactly as before):

- **Conditional reads.** A GET whose last answer carried an ``ETag`` is sent again with
  ``If-None-Match``; GitHub answers ``304 Not Modified`` when nothing changed, and a 304
  sent with valid credentials does not count against the rate limit. The stored answer (body
  plus the headers a caller reads: ``Link`` for pagination, ``Content-Type``) lives in an
  `EtagStore` shared by every worker (the server backs it with a database table). Keys carry
  a scope (the installation), never a token: tokens rotate hourly and must not be stored.
- **Paced writes.** GitHub's secondary rate limits punish bursts of content-creating
  requests (POST, PATCH, PUT, DELETE): at most 80 a minute and 500 an hour, one at a time
  and a second apart, and a `retry-after` must be honoured by everything that writes on the
  same credentials, not only by the request that received it. `WritePacer` (one per
  installation) spaces the writes, serialises them, pauses after a secondary-limit answer
  and publishes the remaining budget (`Budget`) for metrics.

The decisions (is it cacheable, what to store, how long to wait, what the headers say about
the budget) are pure functions of plain values; `WritePacer` is the only stateful part, with
its clock and sleep injected.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from steward.domain.refs import number
from steward.github import sansio

WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MAX_CACHED_BODY = 2_000_000  # larger answers are not kept (a page of 100 issues is ~500 kB)
KEPT_HEADERS = ("content-type", "link")  # what callers read from a response besides its body
MINUTE = 60.0
HOUR = 3600.0


class EtagStore(Protocol):
    """Where conditional reads keep their last answers: key -> (etag, stored answer).

    The stored answer is opaque bytes (`pack`); ``put`` replaces any earlier value.
    """

    def get(self, key: str) -> tuple[str, bytes] | None: ...

    def put(self, key: str, etag: str, body: bytes) -> None: ...


# -- conditional reads ------------------------------------------------------------------------


def is_write(method: str) -> bool:
    """A content-creating request, which the secondary rate limits count and pacing spaces."""
    return method.upper() in WRITES


def cache_key(scope: str, method: str, url: str) -> str | None:
    """The store key of a request, or ``None`` when it must never be answered from the store.

    Only GET is conditional. ``url`` is the full URL with its query (the client merges the
    parameters first); the query is sorted so the same request always has the same key.
    The key holds the scope (whose view of GitHub this is), the path and the query: never
    credentials.
    """
    if method.upper() != "GET":
        return None
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    normal = urlunsplit(("", "", parts.path or "/", query, ""))
    return f"v2 {scope} GET {normal}"  # v2: lists that may have grown are no longer kept


def etag_to_store(
    status: int, headers: Mapping[str, str], body: bytes, url: str = ""
) -> str | None:
    """The ETag under which a response may be stored, or ``None`` (not a 200, no ETag,
    too large, marked ``no-store``, or the last page of a list that may have grown).

    A bare JSON list is the one answer whose ETag can stay while what the reader learns from
    it changes: on a list GitHub appends to (comments, a timeline), a full page keeps its
    body (and ETag) when a new page comes behind it; answered from the store, it would bring
    back the old ``Link``, which did not point to the new page. So a full page without a
    ``rel="next"`` is not stored. A page with one is: its next page's URL does not change.
    (A wrapped list, such as ``/installation/repositories``, carries its ``total_count`` in
    the body, so its ETag changes with it. Readers that go by ``rel="last"`` make their
    requests unconditional: `GitHubClient.request` ``conditional=False``.)
    """
    if status != 200 or len(body) > MAX_CACHED_BODY:
        return None
    cache_control = (sansio.header(headers, "cache-control") or "").lower()
    if "no-store" in cache_control:
        return None
    if _may_have_grown(headers, body, url):
        return None
    etag = (sansio.header(headers, "etag") or "").strip()
    return etag or None


DEFAULT_PER_PAGE = 30  # GitHub's page size when the request names none
MAX_PER_PAGE = 100  # and the most it gives, whatever the request asks


def _may_have_grown(headers: Mapping[str, str], body: bytes, url: str) -> bool:
    """A bare list that fills its page and has no next page (yet)."""
    if not body.lstrip().startswith(b"["):
        return False
    if "next" in sansio.links(sansio.header(headers, "link")):
        return False
    try:
        items = json.loads(body)
    except (ValueError, RecursionError):
        return False
    asked = dict(parse_qsl(urlsplit(url).query)).get("per_page", "")
    # Whole ASCII digits or the default (#16): `²`, `٣` or 5000 digits are not read.
    n = number(asked)
    per_page = min(n, MAX_PER_PAGE) if n is not None else 0
    return isinstance(items, list) and len(items) >= (per_page or DEFAULT_PER_PAGE)


def pack(headers: Mapping[str, str], body: bytes) -> bytes:
    """A response's kept headers and body as one value for the store."""
    lines = []
    for name in KEPT_HEADERS:
        value = sansio.header(headers, name)
        if value is not None:
            flat = " ".join(value.split())  # a header value never holds a newline
            lines.append(f"{name}: {flat}")
    head = "\n".join(lines).encode("utf-8")
    return head + b"\n\n" + body


def unpack(stored: bytes) -> tuple[dict[str, str], bytes]:
    """The (headers, body) that `pack` stored."""
    head, sep, body = stored.partition(b"\n\n")
    if not sep:
        return {}, stored
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        name, colon, value = line.partition(": ")
        if colon and name in KEPT_HEADERS:
            headers[name] = value
    return headers, body


# -- the rate budget ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What GitHub's ``x-ratelimit-*`` headers said on the last response."""

    resource: str
    limit: int
    remaining: int
    used: int
    reset_at: float  # epoch seconds


def rate_budget(headers: Mapping[str, str]) -> RateBudget | None:
    """The primary rate limit from a response's headers, ``None`` if they are absent."""
    try:
        limit = int(sansio.header(headers, "x-ratelimit-limit") or "")
        remaining = int(sansio.header(headers, "x-ratelimit-remaining") or "")
    except ValueError:
        return None
    try:
        used = int(sansio.header(headers, "x-ratelimit-used") or "")
    except ValueError:
        used = max(0, limit - remaining)
    try:
        reset = float(sansio.header(headers, "x-ratelimit-reset") or "0")
    except ValueError:
        reset = 0.0
    if reset > 1e11:  # milliseconds
        reset /= 1000.0
    resource = sansio.header(headers, "x-ratelimit-resource") or "core"
    return RateBudget(resource, limit, remaining, used, reset)


# -- write pacing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """GitHub's published limits for content-creating requests (REST, per credentials)."""

    min_interval: float = 1.0  # "wait at least one second between each request"
    per_minute: int = 80
    per_hour: int = 500


@dataclass(frozen=True, slots=True)
class PacingState:
    """When the recent writes went out (last hour, oldest first) and any pause in force."""

    writes: tuple[float, ...] = ()
    paused_until: float = 0.0


def write_delay(state: PacingState, now: float, policy: PacingPolicy) -> float:
    """Seconds to wait before the next write may go out (0 when it may go now)."""
    due = [state.paused_until]
    if state.writes:
        due.append(state.writes[-1] + policy.min_interval)
    for window, allowed in ((MINUTE, policy.per_minute), (HOUR, policy.per_hour)):
        recent = [t for t in state.writes if t > now - window]
        if allowed > 0 and len(recent) >= allowed:
            # the oldest write that keeps the window full must leave it first
            due.append(recent[len(recent) - allowed] + window)
    return max(0.0, max(due) - now)


def read_delay(state: PacingState, now: float) -> float:
    """Seconds a read must wait: only a pause (a rate limit) holds reads back."""
    return max(0.0, state.paused_until - now)


def after_write(state: PacingState, now: float) -> PacingState:
    """The state once a write went out at ``now`` (writes older than an hour forgotten)."""
    kept = tuple(t for t in state.writes if t > now - HOUR)
    return replace(state, writes=(*kept, now))


def after_response(
    state: PacingState, status: int, headers: Mapping[str, str], body: bytes, now: float
) -> PacingState:
    """The state once a response arrived: a primary or secondary rate limit pauses every
    request on these credentials for as long as GitHub asked (``retry-after``, the reset
    time, else a minute); so does a successful answer that spent the last of the primary
    limit (the next request would be refused until the reset)."""
    wait = sansio.rate_limit_wait(status, headers, body, now)
    if wait is None:
        rate = rate_budget(headers)
        if rate is None or rate.remaining > 0 or rate.reset_at <= now:
            return state
        wait = rate.reset_at - now + 1.0
    return replace(state, paused_until=max(state.paused_until, now + wait))


@dataclass(frozen=True, slots=True)
class Budget:
    """What one installation has left, for metrics."""

    rate: RateBudget | None
    writes_last_minute: int
    writes_last_hour: int
    writes_left_minute: int
    writes_left_hour: int
    paused_for: float  # seconds until a rate-limit pause ends (0: none)
    not_modified: int  # reads answered by a 304 from the store (no rate limit spent)


def budget_of(
    state: PacingState,
    rate: RateBudget | None,
    not_modified: int,
    now: float,
    policy: PacingPolicy,
) -> Budget:
    minute = sum(1 for t in state.writes if t > now - MINUTE)
    hour = sum(1 for t in state.writes if t > now - HOUR)
    return Budget(
        rate=rate,
        writes_last_minute=minute,
        writes_last_hour=hour,
        writes_left_minute=max(0, policy.per_minute - minute),
        writes_left_hour=max(0, policy.per_hour - hour),
        paused_for=read_delay(state, now),
        not_modified=not_modified,
    )


class WritePacer:
    """Paces one installation's requests; share one per installation across clients and
    threads (all of its state is under one lock).

    Writes go out one at a time (``slot`` holds a lock for the write), spaced by
    `write_delay`; any request waits out a rate-limit pause another request ran into.
    ``on_budget`` is called with the new `Budget` after every response.
    """

    def __init__(
        self,
        policy: PacingPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_budget: Callable[[Budget], None] | None = None,
    ) -> None:
        self.policy = policy or PacingPolicy()
        self._clock = clock
        self._sleep = sleep
        self._on_budget = on_budget
        self._state = PacingState()
        self._rate: RateBudget | None = None
        self._not_modified = 0
        self._lock = threading.Lock()  # guards the state
        self._writing = threading.Lock()  # one write at a time
        self.waited = 0.0  # total seconds slept for pacing (for tests and logs)

    @contextmanager
    def slot(self, method: str) -> Iterator[None]:
        """Hold the request until it may go; a write holds the write lock while it runs."""
        if not is_write(method):
            self._wait(lambda now: read_delay(self._state, now))
            yield
            return
        with self._writing:
            self._wait(lambda now: write_delay(self._state, now, self.policy))
            try:
                yield
            finally:
                with self._lock:
                    self._state = after_write(self._state, self._clock())

    def _wait(self, delay_at: Callable[[float], float]) -> None:
        """Sleep until ``delay_at`` allows; again only if a later deadline came up meanwhile
        (another thread ran into a limit), never twice for the same one."""
        slept_until = float("-inf")
        while True:
            with self._lock:
                now = self._clock()
                delay = delay_at(now)
            if delay <= 0 or now + delay <= slept_until:
                return
            slept_until = now + delay
            self.waited += delay
            self._sleep(delay)

    def observe(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """Take note of a response: its rate-limit headers, a limit it ran into, a 304."""
        with self._lock:
            now = self._clock()
            self._state = after_response(self._state, status, headers, body, now)
            self._rate = rate_budget(headers) or self._rate
            if status == 304:
                self._not_modified += 1
            snapshot = self._snapshot(now)
        if self._on_budget is not None:
            self._on_budget(snapshot)

    def budget(self) -> Budget:
        with self._lock:
            return self._snapshot(self._clock())

    def _snapshot(self, now: float) -> Budget:
        return budget_of(self._state, self._rate, self._not_modified, now, self.policy)
