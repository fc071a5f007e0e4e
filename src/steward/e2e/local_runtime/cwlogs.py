"""CloudWatch Logs for a local invoke, laid out as Lambda writes them.

Stream `YYYY/MM/DD/[<version>]<32 hex>` in `/aws/lambda/<name>`: START, each line the
handler wrote, END and REPORT, so `data_fetcher.get_logs` reads a local invoke as it reads
a real one. Best effort: a logging failure never fails the invoke.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_000_000  # PutLogEvents: 1,048,576 bytes, 26 of overhead per event


class LogWriter:
    """Creates each group and stream once (existing is fine) and puts an invoke's events."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._groups: set[str] = set()
        self._lock = threading.Lock()

    def _ensure_group(self, group: str) -> None:
        with self._lock:
            if group in self._groups:
                return
        with contextlib.suppress(self.client.exceptions.ResourceAlreadyExistsException):
            self.client.create_log_group(logGroupName=group)
        with self._lock:
            self._groups.add(group)

    def write(self, group: str, stream: str, events: Sequence[tuple[int, str]]) -> None:
        try:
            self._ensure_group(group)
            with contextlib.suppress(self.client.exceptions.ResourceAlreadyExistsException):
                self.client.create_log_stream(logGroupName=group, logStreamName=stream)
            for batch in _batches(sorted(events, key=lambda e: e[0])):
                self.client.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=[{"timestamp": t, "message": m} for t, m in batch],
                )
        except Exception as exc:  # the invoke's result matters more than its logs
            log.warning("could not write the logs of %s to %s: %s", stream, group, exc)


def _batches(events: Sequence[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    batches: list[list[tuple[int, str]]] = [[]]
    size = 0
    for event in events:
        cost = len(event[1].encode()) + 26
        if batches[-1] and (size + cost > MAX_BATCH_BYTES or len(batches[-1]) >= MAX_BATCH_EVENTS):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += cost
    return [b for b in batches if b]
