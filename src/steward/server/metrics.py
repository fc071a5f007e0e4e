"""Prometheus metrics of the intake, the workers and the GitHub API calls.

One `Metrics` holds its own registry (tests make their own; the server uses `METRICS`).
Counters and histograms are per process; the inbox gauge (``steward_jobs``) is read from the
database when scraped, so it shows the work of every worker on every machine.

GitHub API calls are counted by `InstrumentedTransport`, the transport of each
installation's `GitHubClient` (`GitHubApp`'s ``transport_for``): it counts each response and
records ``x-ratelimit-remaining`` (the HTTP side is `github.transport.ObservedTransport`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from steward.github.client import Transport
from steward.github.transport import ObservedTransport

# Acknowledgement is the intake's whole job: fine buckets below 50 ms.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
PROCESSING_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._inbox: _InboxCollector | None = None
        r = self.registry
        self.received = Counter(
            "steward_webhooks_received", "Verified deliveries, by event.", ["event"], registry=r
        )
        self.deduplicated = Counter(
            "steward_webhooks_deduplicated",
            "Redeliveries acknowledged and not processed again.",
            registry=r,
        )
        self.ignored = Counter(
            "steward_webhooks_ignored",
            "Deliveries acknowledged without a job (the App's own bot; no policy's event).",
            ["reason"],
            registry=r,
        )
        self.rejected = Counter(
            "steward_webhooks_rejected",
            "Requests refused (headers, signature, size, payload, unavailable).",
            ["reason"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "steward_webhook_ack_seconds",
            "Time from request to acknowledgement (after the inbox commit).",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.processed = Counter(
            "steward_jobs_processed", "Jobs finished, by kind.", ["kind"], registry=r
        )
        self.failed = Counter(
            "steward_jobs_failed",
            "Job attempts that failed and will be retried, by kind.",
            ["kind"],
            registry=r,
        )
        self.dead = Counter(
            "steward_jobs_dead",
            "Jobs moved to the dead-letter state, by kind.",
            ["kind"],
            registry=r,
        )
        self.processing_seconds = Histogram(
            "steward_processing_seconds",
            "Time from receipt (or schedule) to a job's end, by kind.",
            ["kind"],
            buckets=PROCESSING_BUCKETS,
            registry=r,
        )
        self.run_seconds = Histogram(
            "steward_job_run_seconds",
            "Time a worker spent on one attempt, by kind.",
            ["kind"],
            buckets=PROCESSING_BUCKETS,
            registry=r,
        )
        self.api_calls = Counter(
            "steward_github_api_calls",
            "Requests sent to GitHub's API, by method and status class.",
            ["method", "status"],
            registry=r,
        )
        self.rate_limit_remaining = Gauge(
            "steward_github_rate_limit_remaining",
            "x-ratelimit-remaining of the last response, by installation and resource.",
            ["installation", "resource"],
            registry=r,
        )

    def watch_inbox(self, counts: Callable[[], dict[str, int]], ttl: float = 1.0) -> None:
        """Export ``steward_jobs{state}`` from ``counts`` (read at most every ``ttl`` s); a
        second call replaces the first."""
        if self._inbox is not None:
            self.registry.unregister(self._inbox)
        self._inbox = _InboxCollector(counts, ttl)
        self.registry.register(self._inbox)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when absent): for tests and the benchmark."""
        got = self.registry.get_sample_value(name, labels or None)
        return 0.0 if got is None else got


class _InboxCollector(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]], ttl: float) -> None:
        self._counts = counts
        self._ttl = ttl
        self._at = float("-inf")
        self._last: dict[str, int] = {}

    def collect(self) -> Iterable[Any]:
        now = time.monotonic()
        if now - self._at >= self._ttl:
            try:
                self._last = self._counts()
            except Exception:  # a scrape must not fail for a slow database
                self._last = {}
            self._at = now
        family = GaugeMetricFamily("steward_jobs", "Jobs in the inbox, by state.", labels=["state"])
        for state, n in sorted(self._last.items()):
            family.add_metric([state], n)
        yield family

    def describe(self) -> Iterable[Any]:
        return []


METRICS = Metrics()
"""The server process's metrics."""


class InstrumentedTransport(ObservedTransport):
    """Counts every response GitHub sends (``steward_github_api_calls``) and, with an
    ``installation``, keeps its rate limit as a gauge (``steward_github_rate_limit_remaining``).
    `GitHubApp` makes one per installation (``transport_for``); the HTTP side is
    `github.transport.ObservedTransport`."""

    def __init__(
        self,
        installation: int | str | None = None,
        inner: Transport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.installation = None if installation is None else str(installation)
        self.metrics = metrics or METRICS
        super().__init__(self._call, None if self.installation is None else self._rate_limit, inner)

    def _call(self, method: str, outcome: str) -> None:
        self.metrics.api_calls.labels(method, outcome).inc()

    def _rate_limit(self, resource: str, remaining: int) -> None:
        assert self.installation is not None
        self.metrics.rate_limit_remaining.labels(self.installation, resource).set(remaining)
