"""A transport that tells an observer of every exchange with GitHub (for metrics).

`ObservedTransport` wraps the transport a `GitHubClient` sends through and, after each
exchange, calls ``on_call(method, outcome)`` (``outcome``: the status class, ``"2xx"`` ..
``"5xx"``, or ``"error"`` when no answer came) and, when the answer carries a rate-limit
count, ``on_rate_limit(resource, remaining)`` (``x-ratelimit-resource``, ``core`` when
absent, at most 40 characters). What the calls are counted in is the caller's business
(`server.metrics` keeps Prometheus counters); here is only the HTTP side.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx


def rate_limit_count(text: str) -> int | None:
    """``text`` as a count GitHub would send: 1-9 ASCII digits (``"²"`` is none)."""
    if 0 < len(text) < 10 and text.isascii() and text.isdigit():
        return int(text)
    return None


class ObservedTransport(httpx.BaseTransport):
    def __init__(
        self,
        on_call: Callable[[str, str], None],
        on_rate_limit: Callable[[str, int], None] | None = None,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.on_call = on_call
        self.on_rate_limit = on_rate_limit
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError:
            self.on_call(request.method, "error")
            raise
        self.on_call(request.method, f"{response.status_code // 100}xx")
        remaining = response.headers.get("x-ratelimit-remaining")
        count = None if remaining is None else rate_limit_count(remaining)
        if self.on_rate_limit is not None and count is not None:
            resource = response.headers.get("x-ratelimit-resource", "core")[:40]
            self.on_rate_limit(resource, count)
        return response

    def close(self) -> None:
        self.inner.close()
