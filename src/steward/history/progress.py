"""A one-line progress counter on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Count work done; redraw at most ten times a second, and only on a TTY."""

    def __init__(self, label: str, stream: TextIO | None = None, total: int | None = None):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._drawn = False

    def update(self, count: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        of = f"/{self.total}" if self.total else ""
        self.stream.write(f"\r{self.label}: {count}{of} commits")
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
