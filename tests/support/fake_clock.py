"""Fake epoch time for the App server's tests and benchmarks: ``sleep`` moves it on at once,
so write pacing and token lifetimes cost no real time."""

from __future__ import annotations

import threading


class FakeClock:
    """``clock()`` is the time; ``clock.sleep(s)`` records ``s`` and moves the time on."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
