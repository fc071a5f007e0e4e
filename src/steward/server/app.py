"""The ASGI application (Starlette): webhook intake, ``/healthz``, ``/metrics``.

A delivery is acknowledged only once it is committed to the inbox. The commit is a group
commit: one writer thread takes every delivery waiting at that moment and stores them in one
transaction (one sync to disk for all), then wakes each request, so acknowledgement stays fast
under load without giving up durability. Requests are checked in this order: method (405),
the three GitHub headers (400), size (413, over GitHub's 25 MB cap), signature (401), payload
(400); a database that cannot take the delivery is a 503, which GitHub shows as failed and
lets the App redeliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from steward.server import intake
from steward.server.db import describe
from steward.server.inbox import Inbox, Incoming, Recorded
from steward.server.metrics import METRICS, Metrics
from steward.server.processing import WorkerDeps, load_factory
from steward.server.settings import Settings
from steward.server.worker import Wakeup, start_workers

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Bodies above this are verified and parsed off the event loop.
OFFLOAD_BYTES = 1_000_000

_Waiter = tuple[Incoming, "asyncio.Future[Recorded]", asyncio.AbstractEventLoop]


class Writer:
    """The group commit: a thread that stores whatever deliveries are waiting, in one
    transaction, and then answers each waiting request."""

    def __init__(self, inbox: Inbox, wakeup: Wakeup | None = None) -> None:
        self.inbox = inbox
        self.wakeup = wakeup
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="steward-intake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    async def submit(self, item: Incoming) -> Recorded:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        self._queue.put((item, future, loop))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[_Waiter]) -> None:
        try:
            results: Sequence[Recorded | BaseException] = self.inbox.record([b[0] for b in batch])
        except Exception as exc:  # every waiting request gets the error
            log.error("the inbox cannot take %d deliveries: %s", len(batch), exc)
            results = [exc] * len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for (_, future, loop), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, result))
        for loop, answers in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_answer, answers)
        if self.wakeup is not None and any(r == "queued" for r in results):
            self.wakeup.notify()


def _answer(answers: list[tuple[asyncio.Future[Recorded], Recorded | BaseException]]) -> None:
    for future, result in answers:
        if future.done():  # the client went away
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


@dataclass
class Server:
    """The running parts behind the ASGI app."""

    settings: Settings
    engine: Engine
    inbox: Inbox
    metrics: Metrics
    secret: bytes
    deps: WorkerDeps | None = None
    wakeup: Wakeup = field(default_factory=Wakeup)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    writer: Writer | None = None

    def start(self) -> None:
        self.writer = Writer(self.inbox, self.wakeup)
        self.writer.start()
        if self.settings.workers > 0:
            deps = self.deps or load_factory(self.settings.deps_factory)(self.settings, self.engine)
            self.threads = start_workers(
                self.inbox,
                deps,
                self.settings,
                self.settings.workers,
                stop=self.stop,
                metrics=self.metrics,
                wakeup=self.wakeup,
            )
        log.info(
            "steward serve: inbox at %s, %d worker(s)",
            describe(self.engine),
            len(self.threads),
        )

    def shutdown(self, timeout: float = 30.0) -> None:
        if self.writer is not None:
            self.writer.stop()
        self.stop.set()
        self.wakeup.notify()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    metrics: Metrics = METRICS,
    deps: WorkerDeps | None = None,
    inbox: Inbox | None = None,
) -> Starlette:
    """The ASGI app; its lifespan starts the writer and ``settings.workers`` workers (with
    ``deps``, else those of ``settings.deps_factory``)."""
    from steward.server.inbox import Backoff

    inbox = inbox or Inbox(
        engine,
        max_attempts=settings.max_attempts,
        backoff=Backoff(settings.backoff_seconds, settings.backoff_max_seconds),
    )
    server = Server(settings, engine, inbox, metrics, settings.require_secret(), deps)
    metrics.watch_inbox(inbox.counts)
    endpoints = Endpoints(server)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(server.start)
        try:
            yield
        finally:
            await run_in_threadpool(server.shutdown)

    app = Starlette(
        routes=[
            Route(settings.webhook_path, endpoints.webhook, methods=["POST"]),
            Route("/healthz", endpoints.healthz, methods=["GET"]),
            Route("/metrics", endpoints.metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.server = server
    return app


class Endpoints:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.secret = server.secret
        self.bot = server.settings.bot
        self.m = server.metrics

    async def webhook(self, request: Request) -> Response:
        started = time.perf_counter()
        m = self.m
        try:
            head = intake.headers(request.headers)
            body = await _read_body(request)
            data, raw = await self._verified(body, head, request.headers.get("content-type"))
        except intake.Rejected as exc:
            m.rejected.labels(exc.reason).inc()
            return JSONResponse({"error": exc.detail}, status_code=exc.status)
        m.received.labels(head.event).inc()
        if intake.is_from(data, self.bot):
            m.ignored.labels("own_bot").inc()
            m.ack_seconds.observe(time.perf_counter() - started)
            return JSONResponse({"status": "ignored", "reason": "sent by the App's bot"})
        writer = self.server.writer
        assert writer is not None  # started by the lifespan
        try:
            outcome = await writer.submit(intake.incoming(head, data, raw))
        except Exception:  # the writer logged it
            m.rejected.labels("unavailable").inc()
            return JSONResponse({"error": "the inbox is unavailable"}, status_code=503)
        if outcome == "duplicate":
            m.deduplicated.inc()
        elif outcome == "recorded":
            m.ignored.labels("unhandled_event").inc()
        m.ack_seconds.observe(time.perf_counter() - started)
        return JSONResponse(
            {"status": outcome, "delivery": head.delivery},
            status_code=202 if outcome == "queued" else 200,
        )

    async def _verified(
        self, body: bytes, head: intake.Headers, ctype: str | None
    ) -> tuple[dict[str, Any], bytes]:
        """The payload of a body whose signature holds (a large body off the event loop)."""
        if len(body) > OFFLOAD_BYTES:
            return await run_in_threadpool(_check, self.secret, body, head.signature, ctype)
        return _check(self.secret, body, head.signature, ctype)

    async def healthz(self, request: Request) -> Response:
        server = self.server
        problems = []
        try:
            await run_in_threadpool(server.inbox.ping)
        except Exception as exc:  # reported, not raised
            problems.append(f"database: {type(exc).__name__}")
        if server.writer is None or not server.writer.alive:
            problems.append("intake writer stopped")
        dead = [t.name for t in server.threads if not t.is_alive()]
        if dead and not server.stop.is_set():
            problems.append(f"workers stopped: {', '.join(dead)}")
        if problems:
            return JSONResponse({"status": "unhealthy", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ok", "workers": len(server.threads)})

    async def metrics(self, request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        body = await run_in_threadpool(self.m.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _check(
    secret: bytes, body: bytes, signature: str, ctype: str | None
) -> tuple[dict[str, Any], bytes]:
    if not intake.verify(secret, body, signature):
        raise intake.Rejected(401, "signature", "signature does not match")
    return intake.payload(body, ctype)


async def _read_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is over GitHub's 25 MB cap."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > intake.MAX_BODY:
        raise intake.Rejected(413, "size", "payload is over GitHub's 25 MB cap")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > intake.MAX_BODY:
            raise intake.Rejected(413, "size", "payload is over GitHub's 25 MB cap")
        chunks.append(chunk)
    return b"".join(chunks)
