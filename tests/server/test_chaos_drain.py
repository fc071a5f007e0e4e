"""The chaos run's drain check tells a stuck queue from a slow one: it fails only when no job
finishes and no request reaches GitHub for its ``stall`` seconds."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.server import chaos


class Counts:
    """An inbox whose counts come from a script, one entry per poll (the last repeats)."""

    def __init__(self, script: list[dict[str, int]]) -> None:
        self._script = iter(script)
        self._last = script[0]
        self.maintenance = self

    def counts(self) -> dict[str, int]:
        self._last = next(self._script, self._last)
        return self._last


class Tail:
    def tail(self) -> str:
        return "(log)"


def state(queued: int, done: int) -> dict[str, int]:
    return {"queued": queued, "running": 1 if queued else 0, "done": done, "dead": 0}


def test_a_queue_that_never_moves_is_stuck() -> None:
    inbox: Any = Counts([state(5, 10)])
    with pytest.raises(AssertionError, match=r"stuck: no job finished .* for 1s"):
        chaos.wait_drained(inbox, 60, Tail(), stall=1.0)


def test_a_long_job_making_requests_is_not_stuck() -> None:
    # No job finishes for 2 s (ten polls of 0.2 s) while GitHub keeps being called.
    script = [state(1, 10)] * 10 + [state(0, 11)]
    requests = itertools.count()
    inbox: Any = Counts(script)
    counts = chaos.wait_drained(inbox, 60, Tail(), stall=1.0, activity=lambda: next(requests))
    assert counts == state(0, 11)


def test_a_crawling_run_still_ends_at_the_backstop() -> None:
    done = itertools.count()
    inbox: Any = Counts([state(5, next(done)) for _ in range(1000)])
    with pytest.raises(AssertionError, match="not drained within 1s"):
        chaos.wait_drained(inbox, 1.0, Tail(), stall=60.0)
