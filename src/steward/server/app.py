"""The ASGI application (Starlette): webhook intake, ``/healthz``, ``/readyz``; `/metrics` is
served on a listener of its own (`serve_metrics`), never on the webhook's.

A delivery is acknowledged only once it is committed to the inbox. The commit is a group
commit (`server.writer`): a writer process stores every delivery waiting at that moment in one
transaction (one sync to disk for all), then each request is answered, so acknowledgement
stays fast under load without giving up durability. Requests are checked in this order:
method (405), the three GitHub headers (400), size (413, over GitHub's 25 MB cap), signature
(401), payload (400); a database that cannot take the delivery is a 503, which GitHub shows
as failed and lets the App redeliver.

The intake never waits for GitHub: the workers' dependencies (the App's bot login, read from
``GET /app`` when no slug is set) are made by `worker.deps_when_github_answers`, which retries with
backoff and one log line per failure while the intake stores and acknowledges.

Slow clients are cut off by `guarded_protocol` (uvicorn's h11 protocol with a deadline for a
request's headers and one for its body, and a cap on open connections): uvicorn's own
settings bound idle keep-alive connections and header size, not the time a client takes to
send them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from steward.errors import AuthError, ConfigError, UsageError
from steward.github.sansio import one_line
from steward.server import intake
from steward.server.db import describe, probe_write
from steward.server.inbox import Inbox
from steward.server.jobs import Backoff
from steward.server.logs import scrub
from steward.server.metrics import METRICS, Metrics
from steward.server.processing import WorkerDeps
from steward.server.settings import Settings
from steward.server.worker import Wakeup, deps_when_github_answers, start_workers
from steward.server.writer import Writer

if TYPE_CHECKING:
    from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

# Bodies above this are verified and parsed off the event loop.
OFFLOAD_BYTES = 1_000_000
# A write that succeeded this recently is proof enough that the database takes writes.
FRESH_WRITE_SECONDS = 5.0
PROBE_TTL_SECONDS = 1.0  # /readyz writes at most this often
PROBE_BYTES = 65_536  # what a probe writes (more after a larger delivery failed)


@dataclass
class WriteRecord:
    """What the last commits of deliveries (and the last write probe) said."""

    last_ok: float | None = None
    """When a write last succeeded (monotonic)."""
    failed_at: float | None = None
    """When a write last failed, if none succeeded since."""
    error: str | None = None
    size: int = PROBE_BYTES
    """The size of the write that failed: a probe writes as much before it says the
    database takes writes again (a full disk may still take a small one)."""
    probed_at: float = float("-inf")

    def ok(self) -> None:
        self.last_ok = time.monotonic()
        self.failed_at = self.error = None
        self.size = PROBE_BYTES

    def failed(self, error: str, size: int = 0) -> None:
        self.failed_at = time.monotonic()
        self.error = error
        self.size = min(max(self.size, size), intake.MAX_BODY)


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
    writes: WriteRecord = field(default_factory=WriteRecord)
    waiting: str | None = None
    """Why the workers have not started yet (GitHub has not answered)."""
    cannot_start: str | None = None
    """Why the workers will not start (GitHub refused the App's key)."""

    def start_workers(self) -> None:
        """The workers, now when their dependencies are given, else in a thread once GitHub
        answers (`deps_when_github_answers`): the intake never waits for GitHub."""
        if self.settings.workers <= 0:
            log.info("steward serve: inbox at %s, intake only", describe(self.engine))
        elif self.deps is not None:
            self._start(self.deps)
        else:
            self.waiting = "waiting for GitHub"
            threading.Thread(target=self._connect, name="steward-connect", daemon=True).start()

    def _connect(self) -> None:
        try:
            deps = deps_when_github_answers(self.settings, self.engine, self.stop)
        except (ConfigError, UsageError, AuthError) as exc:
            self.waiting = None
            self.cannot_start = scrub(one_line(str(exc), 200), self.settings.secrets())
            log.error("workers cannot start: %s", self.cannot_start)
            return
        if deps is not None:
            self._start(deps)

    def _start(self, deps: WorkerDeps) -> None:
        self.threads = start_workers(
            self.inbox,
            deps,
            self.settings,
            self.settings.workers,
            stop=self.stop,
            metrics=self.metrics,
            wakeup=self.wakeup,
        )
        self.waiting = None
        log.info(
            "steward serve: inbox at %s, %d worker(s)",
            describe(self.engine),
            len(self.threads),
        )

    def stop_workers(self, timeout: float = 30.0) -> None:
        self.stop.set()
        self.wakeup.notify()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class App:
    """The ASGI app: the webhook path is served by `Webhook` directly (plain ASGI: the
    intake is the hot path, and Starlette's request objects and middleware would cost more
    than the work); everything else (health, metrics, lifespan) by Starlette."""

    def __init__(self, webhook_path: str, webhook: Webhook, starlette: Starlette) -> None:
        self.webhook_path = webhook_path
        self.webhook = webhook
        self.starlette = starlette
        self.state = starlette.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.webhook_path:
            await self.webhook(scope, receive, send)
        else:
            await self.starlette(scope, receive, send)


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    metrics: Metrics = METRICS,
    deps: WorkerDeps | None = None,
    inbox: Inbox | None = None,
    metrics_route: bool = True,
) -> App:
    """The ASGI app; its lifespan starts the writer and ``settings.workers`` workers (with
    ``deps``, else those of ``settings.deps_factory``). ``metrics_route`` off: no
    ``/metrics`` here (`steward serve` serves it on its own listener, `serve_metrics`)."""
    inbox = inbox or Inbox(
        engine,
        max_attempts=settings.max_attempts,
        backoff=Backoff(settings.backoff_seconds, settings.backoff_max_seconds),
    )
    server = Server(settings, engine, inbox, metrics, settings.require_secret(), deps)
    metrics.watch_inbox(inbox.maintenance.counts)
    endpoints = Endpoints(server)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server.writer = Writer(
            engine.url.render_as_string(hide_password=False),
            settings.max_attempts,
            server.wakeup if settings.workers > 0 else None,  # no workers here: no one to wake
        )
        await server.writer.start()
        await run_in_threadpool(server.start_workers)
        try:
            yield
        finally:
            await server.writer.stop()
            await run_in_threadpool(server.stop_workers)

    routes = [
        Route("/healthz", endpoints.healthz, methods=["GET"]),
        Route("/readyz", endpoints.readyz, methods=["GET"]),
    ]
    if metrics_route:
        routes.append(Route("/metrics", endpoints.metrics, methods=["GET"]))
    starlette = Starlette(routes=routes, lifespan=lifespan)
    starlette.state.server = server
    return App(settings.webhook_path, Webhook(server), starlette)


def _header_map(scope: Scope) -> dict[str, str]:
    """The request's headers steward reads (ASGI gives names in lower case)."""
    out = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            out[name.decode("latin-1")] = value.decode("latin-1")
    return out


_WANTED = frozenset(
    h.encode() for h in (*intake.REQUIRED, intake.HOOK_ID, "content-type", "content-length")
)


_NO_BODY = (b"content-length", b"0")


class Webhook:
    """``POST <webhook_path>``: verify, store (group commit), acknowledge."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.secret = server.secret
        self.bot = server.settings.bot
        self.m = server.metrics
        self._received: dict[str, Any] = {}  # the counter of each event, looked up once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An acknowledgement is headers alone (``X-Steward-Status``), so the server writes
        it in one go; a refusal says why in a JSON body."""
        started = time.perf_counter()
        status, answer = await self._handle(scope, receive, started)
        if status < 300:
            headers = [(b"x-steward-status", answer["status"].encode()), _NO_BODY]
            body = b""
        else:
            body = json.dumps(answer).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ]
            if status == 405:
                headers.append((b"allow", b"POST"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self, scope: Scope, receive: Receive, started: float
    ) -> tuple[int, dict[str, str]]:
        m = self.m
        try:
            if scope["method"] != "POST":
                raise intake.Rejected(405, "method", "only POST is accepted")
            raw_headers = _header_map(scope)
            head = intake.headers(raw_headers)
            body = await _read_body(raw_headers.get("content-length"), receive)
            data, raw = await self._verified(body, head, raw_headers.get("content-type"))
        except intake.Rejected as exc:
            m.rejected.labels(exc.reason).inc()
            return exc.status, {"error": exc.detail}
        received = self._received.get(head.event)
        if received is None:
            received = self._received[head.event] = m.received.labels(head.event)
        received.inc()
        if intake.is_from(data, self.bot):
            m.ignored.labels("own_bot").inc()
            m.ack_seconds.observe(time.perf_counter() - started)
            return 200, {"status": "ignored", "reason": "sent by the App's bot"}
        writer = self.server.writer
        assert writer is not None  # started by the lifespan
        try:
            outcome = await writer.submit(intake.incoming(head, data, raw))
        except Exception as exc:  # the writer logged it
            self.server.writes.failed(type(exc).__name__, len(raw))
            m.rejected.labels("unavailable").inc()
            return 503, {"error": "the inbox is unavailable"}
        self.server.writes.ok()
        if outcome == "duplicate":
            m.deduplicated.inc()
        elif outcome == "recorded":
            m.ignored.labels("unhandled_event").inc()
        m.ack_seconds.observe(time.perf_counter() - started)
        return (202 if outcome == "queued" else 200), {"status": outcome, "delivery": head.delivery}

    async def _verified(
        self, body: bytes, head: intake.Headers, ctype: str | None
    ) -> tuple[dict[str, Any], bytes]:
        """The payload of a body whose signature holds (a large body off the event loop)."""
        if len(body) > OFFLOAD_BYTES:
            return await run_in_threadpool(_check, self.secret, body, head, ctype)
        return _check(self.secret, body, head, ctype)


class Endpoints:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.m = server.metrics

    async def healthz(self, request: Request) -> Response:
        """200 while the process can do its work: the database answers, the writer runs,
        the last write (a delivery's commit, or the probe that follows a failed one) took,
        no worker stopped; else 503 naming what does not."""
        return await self._report(probe=False)

    async def readyz(self, request: Request) -> Response:
        """For load balancers: 200 only while a delivery sent now would be stored (the
        database takes a write, at most one probe a second, none while deliveries are
        being committed), else 503."""
        return await self._report(probe=True)

    async def _report(self, *, probe: bool) -> Response:
        server = self.server
        problems = []
        try:
            await run_in_threadpool(server.inbox.maintenance.ping)
        except Exception as exc:  # reported, not raised
            problems.append(f"database: {type(exc).__name__}")
        if server.writer is None or not server.writer.alive:
            problems.append("intake writer stopped")
        if not problems:
            problem = await self._writes(probe=probe)
            if problem:
                problems.append(problem)
        dead = [t.name for t in server.threads if not t.is_alive()]
        if dead and not server.stop.is_set():
            problems.append(f"workers stopped: {', '.join(dead)}")
        if server.cannot_start:
            problems.append(f"workers cannot start: {server.cannot_start}")
        if problems:
            return JSONResponse({"status": "unhealthy", "problems": problems}, status_code=503)
        body: dict[str, Any] = {"status": "ok", "workers": len(server.threads)}
        if server.waiting:
            body["waiting"] = server.waiting
        return JSONResponse(body)

    async def _writes(self, *, probe: bool) -> str | None:
        """The last write's failure, unless a probe now shows the database takes writes
        again (probed after a failure, and by /readyz when no write is recent)."""
        writes = self.server.writes
        now = time.monotonic()
        recent = writes.last_ok is not None and now - writes.last_ok < FRESH_WRITE_SECONDS
        if writes.failed_at is None and (recent or not probe):
            return None
        if now - writes.probed_at >= PROBE_TTL_SECONDS:
            writes.probed_at = now
            try:
                await run_in_threadpool(probe_write, self.server.engine, writes.size)
            except Exception as exc:  # reported, not raised
                writes.failed(type(exc).__name__)
            else:
                writes.ok()
        if writes.failed_at is None:
            return None
        return f"database takes no writes: {writes.error}"

    async def metrics(self, request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        body = await run_in_threadpool(self.m.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _check(
    secret: bytes, body: bytes, head: intake.Headers, ctype: str | None
) -> tuple[dict[str, Any], bytes]:
    if not intake.verify(secret, body, head.signature):
        raise intake.Rejected(401, "signature", "signature does not match")
    return intake.payload(body, ctype, full=head.event == "push")


def _ascii_digits(text: str) -> bool:
    """``text`` is a decimal number (``"²"`` and ``"٣"`` are digits to `str.isdigit`)."""
    return text.isascii() and text.isdigit()


async def _read_body(length: str | None, receive: Receive) -> bytes:
    """The body, refused (413) as soon as it is over GitHub's 25 MB cap."""
    if (
        length is not None
        and _ascii_digits(length)
        and (len(length) > 9 or int(length) > intake.MAX_BODY)
    ):
        raise intake.Rejected(413, "size", "payload is over GitHub's 25 MB cap")
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise intake.Rejected(400, "payload", "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > intake.MAX_BODY:
            raise intake.Rejected(413, "size", "payload is over GitHub's 25 MB cap")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def guarded_protocol(settings: Settings, metrics: Metrics = METRICS) -> type[H11Protocol]:
    """uvicorn's h11 protocol, with what uvicorn does not bound: the time a client takes to
    send a request's headers (``header_timeout_seconds``, from the connection or the
    previous response: a byte a second never completes them) and its body
    (``body_timeout_seconds``, from the headers), and the open connections
    (``max_connections``: one more is closed at once). A connection past a deadline is
    closed; its request, if the app had it, sees ``http.disconnect``."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    header_timeout = settings.header_timeout_seconds
    body_timeout = settings.body_timeout_seconds
    limit = settings.max_connections
    timeouts = metrics.rejected.labels("timeout")
    refused = metrics.rejected.labels("connections")

    class Guarded(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._inner = self.app
            self.app = self._guarded_app

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limit:
                refused.inc()
                transport.abort()
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's headers; the app disarms it

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_timeout, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                timeouts.inc()
                self.transport.abort()

        async def _guarded_app(self, scope: Scope, receive: Receive, send: Send) -> None:
            self._disarm()  # the headers are in
            deadline = self.loop.time() + body_timeout
            transport = self.transport

            async def timed() -> Any:
                try:
                    async with asyncio.timeout_at(deadline):
                        return await receive()
                except TimeoutError:
                    timeouts.inc()
                    transport.abort()
                    return {"type": "http.disconnect"}

            await self._inner(scope, timed, send)

    return Guarded
