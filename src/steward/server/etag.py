"""The ETag store behind conditional GETs (`github.budget`), and an in-memory one for tests.

The server backs `EtagStore` with a database table shared by every worker, so a read that
one worker made once costs every other worker a 304 (no rate limit) until the resource
changes. Keys are ``"v1 <scope> GET <path>?<sorted query>"`` with the scope
``installation:<id>`` (`github_app.GitHubApp`); they never hold a token. Values are opaque
bytes (`github.budget.pack`: the response's body and its ``Link`` and ``Content-Type``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from steward.github.budget import EtagStore

__all__ = ["EtagStore", "MemoryEtagStore"]


class MemoryEtagStore:
    """A bounded, thread-safe `EtagStore`: the least recently used entries go first."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[str, bytes] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: str, etag: str, body: bytes) -> None:
        with self._lock:
            self._items[key] = (etag, body)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
