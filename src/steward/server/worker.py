"""Workers: claim a job, run it (`processing`), finish, retry or bury it; keep the schedules.

A worker is a thread with a loop; `steward serve` runs ``--workers N`` of them beside the
intake, and ``steward serve worker`` runs them in a process of their own, on any machine that
reaches the database (PostgreSQL for more than one machine). While a job runs, a keeper
thread renews its lease, so only a worker that stopped (killed, machine lost) loses its job
to another. Each process that runs workers is an instance (`jobs.Instances`) with a heartbeat
thread, which also releases at once the jobs of instances that are gone (a server killed and
started again does not leave its jobs to their lease), and a worker that cannot record how
its job ended (the database restarting) tries again, with backoff, for
`FINISH_RETRY_SECONDS`, holding the job meanwhile. Every ``housekeeping_seconds`` a worker
also queues the due sweeps and surveys (`survey`: what the maintainers' page shows) and,
hourly, deletes finished deliveries past their retention; every few seconds it has
PostgreSQL's statistics of the jobs table refreshed when a burst made them stale
(`Maintenance.analyze_if_stale`).

An installation's first delivery schedules its sweep and its survey, each first run at a
random time within its first interval (`Schedules.ensure`), except a new installation's
(``installation: created``, the App just installed) survey: that one is queued at the
worker's next turn, so the maintainers' page shows the installation within seconds rather
than up to ``survey_interval_seconds`` (15 minutes) later.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from steward.errors import AuthError, ConfigError, PayloadError, UsageError
from steward.github.client import counting_writes
from steward.github.sansio import one_line
from steward.server.db import utcnow
from steward.server.inbox import Inbox
from steward.server.jobs import Instance, Instances, Job, JobState
from steward.server.logs import scrub
from steward.server.metrics import METRICS, Metrics
from steward.server.processing import (
    Delivery,
    WorkerDeps,
    is_permanent,
    load_factory,
    process_delivery,
    process_sweep,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from steward.server.settings import Settings

log = logging.getLogger(__name__)

PURGE_SECONDS = 3600.0
ANALYZE_CHECK_SECONDS = 5.0  # how often a worker looks at the jobs table's statistics
HEARTBEAT_SECONDS = 5.0
"""How often a worker process records that it is alive, and looks for instances gone."""
DEAD_AFTER_BEATS = 3
"""An instance whose heartbeat is this many intervals old is gone: its jobs are released."""
FINISH_RETRY_SECONDS = 120.0
"""How long a worker keeps trying to record how its job ended while the database is away."""

T = TypeVar("T")

GITHUB_RETRY_MAX_SECONDS = 60.0


def deps_when_github_answers(
    settings: Settings, engine: Engine, stop: threading.Event
) -> WorkerDeps | None:
    """The workers' dependencies from ``settings.deps_factory``, tried again with backoff
    (one log line per failure, no traceback) until GitHub answers; ``None`` once ``stop``
    is set. What a retry cannot mend is raised: a setting (`ConfigError`, `UsageError`), or
    GitHub refusing the App's key (`AuthError`: a wrong App id or key)."""
    factory = load_factory(settings.deps_factory)
    failures = 0
    while not stop.is_set():
        try:
            return factory(settings, engine)
        except (ConfigError, UsageError, AuthError):
            raise
        except Exception as exc:  # GitHub unreachable, 5xx, rate limited: it will answer
            failures += 1
            wait = min(
                GITHUB_RETRY_MAX_SECONDS,
                settings.backoff_max_seconds,
                settings.backoff_seconds * 2 ** (failures - 1),
            )
            reason = scrub(one_line(f"{type(exc).__name__}: {exc}", 200), settings.secrets())
            log.warning(
                "workers wait for GitHub (attempt %d: %s); again in %.1fs",
                failures,
                reason,
                wait,
            )
            stop.wait(wait)
    return None


class Wakeup:
    """Lets the intake tell the workers of its own process that jobs are waiting, so they
    need not wait out their poll interval."""

    def __init__(self) -> None:
        self._cond = threading.Condition()

    def notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait(timeout)


def worker_name(index: int, instance: Instance | None = None) -> str:
    if instance is not None:
        return instance.worker(index)
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class Worker:
    def __init__(
        self,
        inbox: Inbox,
        deps: WorkerDeps,
        settings: Settings,
        *,
        name: str,
        stop: threading.Event,
        metrics: Metrics = METRICS,
        wakeup: Wakeup | None = None,
        run_job: Callable[[Job], None] | None = None,
    ) -> None:
        self.inbox = inbox
        self.deps = deps
        self.settings = settings
        self.name = name
        self.stop = stop
        self.metrics = metrics
        self.wakeup = wakeup or Wakeup()
        self.secrets = settings.secrets()
        self._run = run_job or self._process
        self._current: Job | None = None
        self._lock = threading.Lock()
        self._known_installations: set[int] = set()
        self._next_housekeeping = 0.0
        self._surveys_checked = False
        self._next_analyze_check = 0.0
        self._next_purge = time.monotonic() + PURGE_SECONDS

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        keeper = threading.Thread(target=self._keep_lease, name=f"{self.name}-lease", daemon=True)
        keeper.start()
        failures = 0
        while not self.stop.is_set():
            try:
                self._housekeeping()
                busy = self.run_once()
                failures = 0
            except Exception as exc:  # a worker thread must not end on one bad turn
                failures += 1
                wait = min(30.0, 0.5 * 2**failures)
                what = "database error" if isinstance(exc, SQLAlchemyError) else "error"
                log.error(
                    "worker %s: %s (%s); again in %.1fs",
                    self.name,
                    what,
                    scrub(one_line(f"{type(exc).__name__}: {exc}", 200), self.secrets),
                    wait,
                    exc_info=not isinstance(exc, SQLAlchemyError),
                )
                self.stop.wait(wait)
                continue
            if not busy:
                self.wakeup.wait(self.settings.poll_interval)

    def run_once(self) -> bool:
        """Claim and run one job; ``False`` when there was none."""
        job = self.inbox.jobs.claim(self.name, self.settings.lease_seconds)
        if job is None:
            return False
        with self._lock:
            self._current = job
        try:
            self.run_job(job)
        finally:
            with self._lock:
                self._current = None
        return True

    def _keep_lease(self) -> None:
        period = max(0.5, self.settings.lease_seconds / 3)
        while not self.stop.wait(period):
            with self._lock:
                job = self._current
            if job is None:
                continue
            try:
                if not self.inbox.jobs.extend(job, self.settings.lease_seconds):
                    log.warning("job %d: lease lost to another worker", job.id)
            except SQLAlchemyError as exc:
                log.warning("job %d: cannot renew the lease: %s", job.id, one_line(str(exc)))

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next_analyze_check:
            self._next_analyze_check = now + ANALYZE_CHECK_SECONDS
            if self.inbox.maintenance.analyze_if_stale():
                log.info("analyzed the jobs table (many rows changed)")
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + self.settings.housekeeping_seconds
        if not self._surveys_checked:
            self._surveys_checked = True
            self._check_surveys()
        queued = self.inbox.schedules.enqueue_due()
        if queued:
            log.info("queued %d scheduled job(s)", queued)
        if now >= self._next_purge:
            self._next_purge = now + PURGE_SECONDS
            before = utcnow() - timedelta(days=self.settings.retention_days)
            gone = self.inbox.maintenance.purge(before)
            if gone:
                log.info("deleted %d finished deliveries older than %s", gone, before.date())

    def _check_surveys(self) -> None:
        """Once per worker: survey schedules for the installations this server knew before
        surveys existed, or none at all when they are off (``survey_interval_seconds`` 0)."""
        interval = self.settings.survey_interval_seconds
        if interval:
            made = self.inbox.schedules.backfill("survey", interval)
            if made:
                log.info("survey scheduled for %d installation(s) known before", made)
        elif self.inbox.schedules.drop_kind("survey"):
            log.info("surveys are off (survey_interval_seconds 0): their schedules dropped")

    # -- one job --------------------------------------------------------------------------

    def run_job(self, job: Job) -> JobState | None:
        """Run ``job`` and record how it ended: the state it is left in."""
        started = time.perf_counter()
        where = {"job": job.id, "kind": job.kind, "subject": job.subject, "attempt": job.attempts}
        with counting_writes() as writes:
            try:
                self._run(job)
            except Exception as exc:  # every failure is recorded on the job
                self.metrics.run_seconds.labels(job.kind).observe(time.perf_counter() - started)
                permanent = is_permanent(exc)
                error = scrub(one_line(f"{type(exc).__name__}: {exc}", 2000), self.secrets)
                progressed = writes.accepted > 0  # the next attempt resumes past them
                state = self._finish(
                    job,
                    lambda: self.inbox.jobs.fail(
                        job, error, permanent=permanent, progressed=progressed
                    ),
                )
                if state == "dead":
                    self.metrics.dead.labels(job.kind).inc()
                    log.error(
                        "job %d is dead: %s", job.id, error, extra=where, exc_info=not permanent
                    )
                elif state == "queued":
                    self.metrics.failed.labels(job.kind).inc()
                    log.warning("job %d failed, will retry: %s", job.id, error, extra=where)
                return state
        self.metrics.run_seconds.labels(job.kind).observe(time.perf_counter() - started)
        if not self._finish(job, lambda: self.inbox.jobs.complete(job)):
            log.warning("job %d finished after its lease was lost", job.id, extra=where)
            return None
        self.metrics.processed.labels(job.kind).inc()
        return "done"

    def _finish(self, job: Job, write: Callable[[], T]) -> T:
        """``write`` (how ``job`` ended), tried again with backoff while the database is
        away, for up to `FINISH_RETRY_SECONDS`: a worker that gave up would leave the job
        ``running`` (and every later job of its subject waiting) until its lease expired.
        The lease keeper renews the lease meanwhile; a late write is refused if another
        worker took the job."""
        deadline = time.monotonic() + FINISH_RETRY_SECONDS
        wait = 0.25
        while True:
            try:
                return write()
            except SQLAlchemyError as exc:
                if time.monotonic() + wait > deadline:
                    raise
                log.warning(
                    "job %d: cannot record its end (%s); again in %.2fs",
                    job.id,
                    one_line(str(exc), 200),
                    wait,
                    extra={"job": job.id},
                )
                time.sleep(wait)
                wait = min(5.0, wait * 2)

    def _process(self, job: Job) -> None:
        if job.kind == "sweep":
            if job.installation_id is None:
                raise PayloadError("a sweep job without an installation")
            process_sweep(job.installation_id, self.deps)
            self._observe_latency(job, None)
            return
        if job.kind == "survey":
            from steward.server.survey import process_survey
            from steward.server.surveys import Surveys

            if job.installation_id is None:
                raise PayloadError("a survey job without an installation")
            if not self.settings.survey_interval_seconds:
                log.info("job %d: surveys are off; not surveyed", job.id)
                return
            process_survey(job.installation_id, self.deps, Surveys(self.inbox.jobs.engine))
            self._observe_latency(job, None)
            return
        if job.kind != "event" or job.delivery_pk is None:
            raise PayloadError(f"unknown job kind {job.kind!r}")
        stored = self.inbox.deliveries.delivery(job.delivery_pk)
        if stored is None:
            log.warning("job %d: its delivery is gone", job.id)
            return
        try:
            payload = json.loads(stored.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise PayloadError("the stored payload is not JSON") from None
        if not isinstance(payload, dict):
            raise PayloadError("the stored payload is not a JSON object")
        self._bookkeeping(stored.event, stored.action, stored.installation_id)
        process_delivery(
            Delivery(
                delivery_id=stored.delivery_id,
                hook_id=stored.hook_id,
                event=stored.event,
                payload=payload,
                installation_id=stored.installation_id,
                received_at=stored.received_at,
                attempt=job.attempts,
            ),
            self.deps,
        )
        self._observe_latency(job, stored.received_at)

    def _observe_latency(self, job: Job, received: datetime | None) -> None:
        start = received or job.created_at
        seconds = (utcnow() - start).total_seconds()
        self.metrics.processing_seconds.labels(job.kind).observe(max(0.0, seconds))

    def _bookkeeping(self, event: str, action: str | None, installation: int | None) -> None:
        """Keep each installation's sweep and survey scheduled while the App is installed."""
        if installation is None:
            return
        if event == "installation" and action == "deleted":
            from steward.server.surveys import Surveys

            self.inbox.schedules.drop(installation)
            Surveys(self.inbox.jobs.engine).drop(installation)
            self._known_installations.discard(installation)
            return
        if installation not in self._known_installations:
            if self.inbox.schedules.ensure(installation, self.settings.sweep_interval_seconds):
                log.info("installation %d: sweep scheduled", installation)
            interval = self.settings.survey_interval_seconds
            installed = event == "installation" and action == "created"
            if interval and self.inbox.schedules.ensure(
                installation, interval, kind="survey", first_now=installed
            ):
                log.info("installation %d: survey scheduled", installation)
                if installed:  # due now: queued at this worker's next turn
                    self._next_housekeeping = 0.0
            self._known_installations.add(installation)


def start_workers(
    inbox: Inbox,
    deps: WorkerDeps,
    settings: Settings,
    count: int,
    *,
    stop: threading.Event,
    metrics: Metrics = METRICS,
    wakeup: Wakeup | None = None,
) -> list[threading.Thread]:
    """``count`` worker threads, started, as one instance with its heartbeat (which first
    releases the jobs of instances that are gone); they end once ``stop`` is set and their
    job is done."""
    instance = Instance.new()
    registry = Instances(inbox.jobs.engine, clock=inbox.jobs.clock)
    try:
        released = registry.register(instance)
    except SQLAlchemyError as exc:  # the heartbeat registers it once the database answers
        log.warning("cannot register the worker instance yet: %s", one_line(str(exc), 200))
    else:
        if released:
            log.warning("released %d job(s) of worker processes that are gone", released)
    threads = []
    for i in range(count):
        worker = Worker(
            inbox,
            deps,
            settings,
            name=worker_name(i, instance),
            stop=stop,
            metrics=metrics,
            wakeup=wakeup,
        )
        thread = threading.Thread(target=worker.run, name=f"steward-worker-{i}", daemon=True)
        thread.start()
        threads.append(thread)
    beat = Heartbeat(registry, instance, stop, threads, wakeup)
    threading.Thread(target=beat.run, name="steward-heartbeat", daemon=True).start()
    return threads


class Heartbeat:
    """A worker process's heartbeat: every `HEARTBEAT_SECONDS` it records that the instance
    is alive and releases the jobs of instances that are gone. A stale heartbeat counts only
    once this one has beaten for `DEAD_AFTER_BEATS` intervals in a row: after the database
    was away, every instance's heartbeat is stale, and none is taken for gone until each had
    the time to beat again."""

    def __init__(
        self,
        registry: Instances,
        instance: Instance,
        stop: threading.Event,
        threads: list[threading.Thread],
        wakeup: Wakeup | None,
        *,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.registry = registry
        self.instance = instance
        self.stop = stop
        self.threads = threads
        self.wakeup = wakeup
        self.interval = interval
        self.dead_after = interval * DEAD_AFTER_BEATS

    def run(self) -> None:
        healthy_since: float | None = None
        while not self.stop.wait(self.interval):
            try:
                self.registry.beat(self.instance)
                now = time.monotonic()
                healthy_since = now if healthy_since is None else healthy_since
                trusted = now - healthy_since >= self.dead_after
                released = self.registry.reap(self.instance, self.dead_after if trusted else None)
            except SQLAlchemyError as exc:
                healthy_since = None
                log.warning("worker heartbeat: database error: %s", one_line(str(exc), 200))
                continue
            if released:
                log.warning("released %d job(s) of worker processes that are gone", released)
                if self.wakeup is not None:
                    self.wakeup.notify()
        for thread in self.threads:  # stopping: once the workers finished their jobs
            thread.join()
        with contextlib.suppress(SQLAlchemyError):  # else its row goes stale: gone
            self.registry.forget(self.instance)
