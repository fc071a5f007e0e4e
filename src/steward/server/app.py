"""The ASGI application (Starlette): webhook intake, ``/healthz``, ``/metrics``.

A delivery is acknowledged only once it is committed to the inbox. The commit is a group
commit (`server.writer`): a writer process stores every delivery waiting at that moment in one
transaction (one sync to disk for all), then each request is answered, so acknowledgement
stays fast under load without giving up durability. Requests are checked in this order:
method (405), the three GitHub headers (400), size (413, over GitHub's 25 MB cap), signature
(401), payload (400); a database that cannot take the delivery is a 503, which GitHub shows
as failed and lets the App redeliver.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from steward.server import intake
from steward.server.db import describe
from steward.server.inbox import Inbox
from steward.server.jobs import Backoff
from steward.server.metrics import METRICS, Metrics
from steward.server.processing import WorkerDeps, load_factory
from steward.server.settings import Settings
from steward.server.worker import Wakeup, start_workers
from steward.server.writer import Writer

log = logging.getLogger(__name__)

# Bodies above this are verified and parsed off the event loop.
OFFLOAD_BYTES = 1_000_000


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

    def start_workers(self) -> None:
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
) -> App:
    """The ASGI app; its lifespan starts the writer and ``settings.workers`` workers (with
    ``deps``, else those of ``settings.deps_factory``)."""
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

    starlette = Starlette(
        routes=[
            Route("/healthz", endpoints.healthz, methods=["GET"]),
            Route("/metrics", endpoints.metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
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
        except Exception:  # the writer logged it
            m.rejected.labels("unavailable").inc()
            return 503, {"error": "the inbox is unavailable"}
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
        server = self.server
        problems = []
        try:
            await run_in_threadpool(server.inbox.maintenance.ping)
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
