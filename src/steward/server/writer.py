"""The single writer: the intake's group commit, both ends of it.

The intake (`steward.server.app`) hands every delivery that arrived in one turn of its event
loop to `Writer`, which sends them as one frame over a socket to the writer process
(`writer_main`); that process stores all the frames waiting for it in one transaction (one
sync to disk for all of them, `Deliveries.record`) and answers each frame, in order.

The framing: each frame is a 4-byte length (`FRAME`) and a pickle. The intake's frame is a
list of `Incoming.wire` tuples; the answer is the list of what became of each (`Recorded`),
or a string saying why the batch could not be stored.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import pickle
import socket
import struct
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from steward.server.deliveries import Deliveries, Incoming, Recorded

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from steward.server.worker import Wakeup

log = logging.getLogger(__name__)

FRAME = struct.Struct("!I")
"""A frame's length, before each pickled frame on the writer's socket."""


class Writer:
    """The group commit, in a process of its own: the intake hands over every delivery that
    arrived in one turn of its event loop as one frame; the writer process stores all the
    frames waiting for it in one transaction (one sync to disk for all of them) and answers
    each frame, in order.

    A process, not a thread: the database driver lets go of the interpreter lock around
    every call, and a writer thread would have to win it back from the event loop each time
    (Python hands it over only every few milliseconds), which would put milliseconds into
    every acknowledgement under load. If the writer process dies, every waiting request gets
    a 503 and the next delivery starts a new one.
    """

    def __init__(self, database_url: str, max_attempts: int, wakeup: Wakeup | None = None) -> None:
        self.database_url = database_url
        self.max_attempts = max_attempts
        self.wakeup = wakeup
        self._proc: BaseProcess | None = None
        self._stream: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: list[tuple[Incoming, asyncio.Future[Recorded]]] = []
        self._inflight: collections.deque[list[asyncio.Future[Recorded]]] = collections.deque()
        self._starting: asyncio.Lock | None = None

    @property
    def alive(self) -> bool:
        """Whether the writer process is there (its socket closes when it ends)."""
        return self._stream is not None and not self._stream.is_closing()

    async def start(self) -> None:
        import multiprocessing

        parent, child = socket.socketpair()
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(
            target=writer_main,
            args=(child, self.database_url, self.max_attempts),
            name="steward-inbox-writer",
            daemon=True,
        )
        await asyncio.get_running_loop().run_in_executor(None, proc.start)
        child.close()
        reader, stream = await asyncio.open_unix_connection(sock=parent)
        ready = await reader.readexactly(1)
        if ready != b"R":  # pragma: no cover - the child says R or nothing
            raise RuntimeError("the inbox writer did not start")
        self._proc, self._stream = proc, stream
        self._reader_task = asyncio.create_task(self._read(reader))
        log.info("inbox writer started (pid %s)", proc.pid)

    async def stop(self, timeout: float = 10.0) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader_task, timeout)
        if self._proc is not None:
            proc = self._proc
            await asyncio.get_running_loop().run_in_executor(None, proc.join, timeout)
            if proc.is_alive():
                proc.kill()

    async def submit(self, item: Incoming) -> Recorded:
        """Store ``item`` (with whatever else arrives in this turn of the loop)."""
        if self._stream is None or self._stream.is_closing():
            await self._restart()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((item, future))
        return await future

    async def _restart(self) -> None:
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.alive:
                return
            log.error("the inbox writer is gone; starting a new one")
            await self.stop(1.0)
            await self.start()

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        stream = self._stream
        if stream is None or stream.is_closing():
            _fail([f for _, f in batch], ConnectionError("the inbox writer is gone"))
            return
        frame = pickle.dumps([item.wire() for item, _ in batch], protocol=pickle.HIGHEST_PROTOCOL)
        stream.write(FRAME.pack(len(frame)) + frame)
        self._inflight.append([f for _, f in batch])

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size = FRAME.unpack(await reader.readexactly(FRAME.size))[0]
                data = await reader.readexactly(size)
                results: list[Recorded] | str = pickle.loads(data)  # noqa: S301 (our own child)
                futures = self._inflight.popleft()
                if isinstance(results, str):
                    log.error("the inbox cannot take %d deliveries: %s", len(futures), results)
                    _fail(futures, ConnectionError(results))
                    continue
                for future, result in zip(futures, results, strict=True):
                    if not future.done():  # else the client went away
                        future.set_result(result)
                if self.wakeup is not None and "queued" in results:
                    self.wakeup.notify()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._stream = None
            while self._inflight:
                _fail(self._inflight.popleft(), ConnectionError("the inbox writer is gone"))


def _fail(futures: list[asyncio.Future[Recorded]], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)


# -- the writer process -------------------------------------------------------------------


def writer_main(sock: socket.socket, database_url: str, max_attempts: int) -> None:
    """The writer process: frames in, one transaction for all that are waiting, answers out
    in the same order. Ends when the intake closes its end."""
    import signal

    from steward.server.db import make_engine

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's shutdown closes the socket
    engine = make_engine(database_url, pool_size=1)
    store = Deliveries(engine, max_attempts=max_attempts, coalesce=True)
    checkpoint = _Checkpoints(engine) if store.sqlite else None
    sock.setblocking(True)
    sock.sendall(b"R")
    buf = bytearray()
    try:
        while True:
            if checkpoint is not None and not buf:
                checkpoint.when_idle(sock)
            frames = _frames(sock, buf)
            if frames is None:
                return
            # Frames come from the server that started this process, over a socketpair.
            batches = [[Incoming(*t) for t in pickle.loads(f)] for f in frames]  # noqa: S301
            items = [item for batch in batches for item in batch]
            answers: list[bytes] = []
            try:
                results = store.record(items)
            except Exception as exc:  # each waiting request is told
                text = f"{type(exc).__name__}: {exc}"[:500]
                answers = [pickle.dumps(text)] * len(batches)
            else:
                start = 0
                for batch in batches:
                    answers.append(pickle.dumps(results[start : start + len(batch)]))
                    start += len(batch)
            sock.sendall(b"".join(FRAME.pack(len(a)) + a for a in answers))
            if checkpoint is not None:
                checkpoint.wrote(len(items))
    except (ConnectionError, OSError):
        return
    finally:
        engine.dispose()


class _Checkpoints:
    """SQLite's WAL is copied into the database file by checkpoints, which SQLite runs
    inside a commit once the WAL passes 1000 pages. The writer turns that off for its own
    connection and checkpoints when no delivery is waiting (or, under a load that never
    pauses, every ``every`` deliveries), so a commit that acknowledges deliveries seldom
    pays for one. Workers' connections keep SQLite's default."""

    def __init__(self, engine: Engine, every: int = 4000) -> None:
        from sqlalchemy import event

        self.engine = engine
        self.every = every
        self.pending = 0

        @event.listens_for(engine, "connect")
        def _no_auto(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

    def wrote(self, rows: int) -> None:
        self.pending += rows
        if self.pending >= self.every:
            self.run()

    def when_idle(self, sock: socket.socket) -> None:
        import select

        if self.pending and not select.select([sock], [], [], 0)[0]:
            self.run()

    def run(self) -> None:
        self.pending = 0
        raw = self.engine.raw_connection()  # outside any transaction (driver autocommit)
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            raw.close()


def _frames(sock: socket.socket, buf: bytearray) -> list[bytes] | None:
    """Every complete frame available: waits for the first, takes the rest that arrived
    meanwhile. ``None`` when the intake closed its end."""
    frames: list[bytes] = []
    while not frames:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return None
        buf.extend(chunk)
        sock.setblocking(False)
        try:
            while True:
                more = sock.recv(1 << 20)
                if not more:
                    break
                buf.extend(more)
        except BlockingIOError:
            pass
        finally:
            sock.setblocking(True)
        while len(buf) >= FRAME.size:
            size = FRAME.unpack_from(buf)[0]
            if len(buf) < FRAME.size + size:
                break
            frames.append(bytes(buf[FRAME.size : FRAME.size + size]))
            del buf[: FRAME.size + size]
    return frames
