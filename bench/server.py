"""`steward serve` under load, beside probot receiving the same signed payloads.

Intake: one load generator (asyncio on uvloop, raw HTTP/1.1 over keep-alive connections, in
this process) posts the same signed ``pull_request`` payload (GitHub's own example, ~20 KB),
each with its own ``X-GitHub-Delivery``, to

- ``steward serve --workers 0`` with its default embedded SQLite inbox (WAL, every commit
  synced), and with PostgreSQL (a throwaway cluster, PostgreSQL's default durability);
- probot (npm ``probot``, the version package.json pins), a minimal app that verifies the
  signature and acknowledges: no storage at all.

Each server gets the same two runs: saturation (``CONNECTIONS`` connections, as fast as they
answer: throughput, and the latency that load costs) and a steady ``RATE`` requests a second
(open loop: the acknowledgement latency a busy GitHub App sees). The three servers run side by
side and are measured in turn, ``ROUNDS`` times over, and each figure is the median of the
rounds: the machine's other work (2 shared cores) weighs on all of them alike. Latency is
from the first byte sent to the last byte of the answer. "lost" counts acknowledged
deliveries that are not in the inbox afterwards (read after the server stopped); probot keeps
nothing to count.

Processing: ``JOBS`` deliveries (three events for each of ``JOBS/3`` pull requests) are stored
through the intake in PostgreSQL, then drained by 1 and by 3 ``steward serve worker``
processes against the local GitHub test server, which answers every request after
``GITHUB_RTT`` seconds (GitHub's API is tens of milliseconds away, not microseconds).

Run: `python -m bench server` (needs `make setup`: probot and GitHub's material from npm,
PostgreSQL's binaries).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tests.server.fakes import BOT
from tests.server.postgres import Cluster, free_port
from tests.server.processes import ROOT, Process, Server
from tests.support.github_app_server import app_private_key_pem
from tests.support.github_material import pull_request_event
from tests.support.github_server import GitHubServer

from steward.server import db
from steward.server.inbox import Inbox
from steward.server.intake import sign

SECRET = "bench-webhook-secret"
TOKEN = "bench-token"
CONNECTIONS = 32
SATURATION_REQUESTS = 20_000
RATE = 500  # requests a second, open loop
RATE_SECONDS = 5
ROUNDS = 3
WARMUP = 1_000
JOBS = 600
GITHUB_RTT = 0.03

PROBOT_APP = """
import http from "node:http";
import { Probot, createNodeMiddleware } from "probot";
const probot = new Probot({
  appId: 1,
  privateKey: process.env.BENCH_PRIVATE_KEY,
  secret: process.env.BENCH_SECRET,
  logLevel: "warn",
});
const app = (app) => { app.on("pull_request", async () => {}); };
const middleware = await createNodeMiddleware(app, { probot, webhooksPath: "/webhook" });
http.createServer((req, res) => middleware(req, res, () => { res.writeHead(404).end(); }))
  .listen(Number(process.env.BENCH_PORT), "127.0.0.1", () => console.log("ready"));
"""


# -- load generation --------------------------------------------------------------------------


@dataclass
class Result:
    sent: int
    acked: int
    failed: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def request_bytes(port: int, body: bytes, signature: str, delivery: str) -> bytes:
    head = (
        f"POST /webhook HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "User-Agent: GitHub-Hookshot/bench\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-GitHub-Event: pull_request\r\n"
        f"X-GitHub-Delivery: {delivery}\r\n"
        "X-GitHub-Hook-ID: 1\r\n"
        f"X-Hub-Signature-256: {signature}\r\n"
        "\r\n"
    )
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _load(
    port: int,
    body: bytes,
    prefix: str,
    *,
    total: int | None = None,
    rate: float | None = None,
    seconds: float = 0.0,
    connections: int = CONNECTIONS,
    acked_ids: list[str] | None = None,
) -> Result:
    """Closed loop (``total`` requests over ``connections``) or open loop (``rate`` a second
    for ``seconds``: each request starts on schedule on a free connection)."""
    signature = sign(SECRET.encode(), body)
    latencies: list[float] = []
    acked = failed = 0
    counter = iter(range(10**9))
    queue: asyncio.Queue[float] | None = None
    if rate is not None:
        queue = asyncio.Queue()
        n_total = int(rate * seconds)
    else:
        assert total is not None
        n_total = total

    async def connection() -> None:
        nonlocal acked, failed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                if queue is not None:
                    due = await queue.get()
                    if due < 0:
                        return
                    wait = due - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    start = due  # latency counts from when it was due (no coordinated omission)
                i = next(counter)
                if i >= n_total:
                    return
                if queue is None:
                    start = time.perf_counter()
                guid = f"{prefix}-{i}"
                try:
                    status = await _exchange(
                        reader, writer, request_bytes(port, body, signature, guid)
                    )
                except (OSError, asyncio.IncompleteReadError):
                    failed += 1
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append(time.perf_counter() - start)
                if 200 <= status < 300:
                    acked += 1
                    if acked_ids is not None:
                        acked_ids.append(guid)
                else:
                    failed += 1
        finally:
            writer.close()

    began = time.perf_counter()
    tasks = [asyncio.create_task(connection()) for _ in range(connections)]
    if queue is not None:
        for k in range(n_total):
            queue.put_nowait(began + k / rate)  # type: ignore[operator]
        for _ in range(connections):
            queue.put_nowait(-1.0)
    await asyncio.gather(*tasks)
    return Result(n_total, acked, failed, time.perf_counter() - began, latencies)


def load(port: int, body: bytes, prefix: str, **kw: Any) -> Result:
    import uvloop

    return uvloop.run(_load(port, body, prefix, **kw))


# -- the servers ------------------------------------------------------------------------------


def steward_env(database_url: str, github_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {
        "STEWARD_APP_ID": "1",
        "STEWARD_PRIVATE_KEY": "unused: the bench's deps factory uses a plain token",
        "STEWARD_WEBHOOK_SECRET": SECRET,
        "STEWARD_BOT_LOGIN": BOT,
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_DEPS_FACTORY": "tests.server.fakes:local_github_deps",
        "STEWARD_TEST_GITHUB_URL": github_url,
        "STEWARD_TEST_GITHUB_TOKEN": TOKEN,
        "STEWARD_LOG_LEVEL": "WARNING",
        "STEWARD_POLL_INTERVAL": "0.05",
        "STEWARD_SURVEY_INTERVAL_SECONDS": "0",  # no releases served here
    }


@contextmanager
def probot(tmp: Path) -> Iterator[int]:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "probot").is_dir():
        raise RuntimeError("probot is missing: run `make setup` (npm ci)")
    port = free_port()
    env = {
        **os.environ,
        "BENCH_PRIVATE_KEY": app_private_key_pem(),
        "BENCH_SECRET": SECRET,
        "BENCH_PORT": str(port),
        "NODE_ENV": "production",
    }
    log = (tmp / "probot.log").open("wb")
    proc = subprocess.Popen(
        ["node", "--input-type=module", "-e", PROBOT_APP],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if b"ready" not in line:
            raise RuntimeError(f"probot did not start: {(tmp / 'probot.log').read_text()}")
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def version_of_probot() -> str:
    data = json.loads((ROOT / "node_modules" / "probot" / "package.json").read_text())
    return str(data["version"])


def stored(database_url: str, prefix: str) -> set[str]:
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(db.deliveries.c.delivery_id).where(
                    db.deliveries.c.delivery_id.like(f"{prefix}-%")
                )
            )
            return set(rows.scalars())
    finally:
        engine.dispose()


# -- the benchmarks ---------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    saturation: list[Result]
    steady: list[Result]
    lost: int | None = None

    def median(self, pick: Callable[[Result], float]) -> float:
        return statistics.median(pick(r) for r in self.saturation)

    def steady_median(self, pick: Callable[[Result], float]) -> float:
        return statistics.median(pick(r) for r in self.steady)

    @property
    def failed(self) -> int:
        return sum(r.failed for r in (*self.saturation, *self.steady))


def run_intake(tmp: Path, cluster: Cluster) -> list[Row]:
    """All three servers up at once, measured in turn, ``ROUNDS`` times over: whatever else
    the machine does weighs on each of them alike; each figure is the rounds' median."""
    payload = pull_request_event("opened", head_sha="a" * 40)
    payload["installation"] = {"id": 7}
    body = json.dumps(payload).encode()
    urls = {
        "steward (SQLite)": f"sqlite:///{tmp}/intake.db",
        "steward (PostgreSQL)": cluster.create("intake"),
    }
    servers = {
        name: Server(steward_env(url), tmp / "steward.log", "--workers", "0")
        for name, url in urls.items()
    }
    acked: dict[str, list[str]] = {name: [] for name in urls}
    try:
        with probot(tmp) as probot_port:
            ports = {name: s.port for name, s in servers.items()}
            probot_name = f"probot {version_of_probot()}"
            ports[probot_name] = probot_port
            rows = {name: Row(name, [], []) for name in ports}
            for port in ports.values():
                load(port, body, "warm", total=WARMUP)
            for n in range(ROUNDS):
                for name, port in ports.items():
                    ids = acked.get(name)
                    rows[name].saturation.append(
                        load(port, body, f"sat{n}", total=SATURATION_REQUESTS, acked_ids=ids)
                    )
                    rows[name].steady.append(
                        load(
                            port,
                            body,
                            f"steady{n}",
                            rate=RATE,
                            seconds=RATE_SECONDS,
                            acked_ids=ids,
                        )
                    )
    finally:
        for server in servers.values():
            server.stop()
    for name, url in urls.items():  # counted after the servers stopped: on disk or lost
        held: set[str] = set()
        for n in range(ROUNDS):
            held |= stored(url, f"sat{n}") | stored(url, f"steady{n}")
        rows[name].lost = len(set(acked[name]) - held)
    print(f"payload: {len(body)} bytes, pull_request/opened (GitHub's example)")
    print(
        f"saturation: {SATURATION_REQUESTS} requests over {CONNECTIONS} connections; steady: "
        f"{RATE}/s for {RATE_SECONDS}s, open loop; medians of {ROUNDS} interleaved rounds\n"
    )
    head = (
        f"{'server':<24} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} │ "
        f"{'steady p50':>10} {'p99':>6} │ {'each round req/s':<20} │ {'failed':>6} {'lost':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows.values():
        lost = "-" if r.lost is None else str(r.lost)
        each = " ".join(f"{x.rate:.0f}" for x in r.saturation)
        print(
            f"{r.name:<24} {r.median(lambda x: x.rate):>8.0f} "
            f"{r.median(lambda x: x.pct(0.5)):>7.1f} {r.median(lambda x: x.pct(0.99)):>7.1f} │ "
            f"{r.steady_median(lambda x: x.pct(0.5)):>10.2f} "
            f"{r.steady_median(lambda x: x.pct(0.99)):>6.2f} │ {each:<20} │ "
            f"{r.failed:>6} {lost:>5}"
        )
    peer = rows[probot_name]
    peer_rate = peer.median(lambda x: x.rate)
    for r in rows.values():
        if r is peer:
            continue
        wins = sum(a.rate > b.rate for a, b in zip(r.saturation, peer.saturation, strict=True))
        print(
            f"\n{r.name}: {r.median(lambda x: x.rate) / peer_rate:.2f}x probot's throughput "
            f"(ahead in {wins} of {ROUNDS} rounds); p99 at {RATE}/s "
            f"{r.steady_median(lambda x: x.pct(0.99)):.2f} ms (target < 50 ms); {r.lost} lost"
        )
    return list(rows.values())


class SlowGitHub(GitHubServer):
    """The local GitHub, answering after a network round trip."""

    rtt = GITHUB_RTT

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        time.sleep(self.rtt)
        return super().handle(method, target, headers, raw)


def processing_deliveries() -> list[tuple[str, bytes]]:
    out = []
    prs = JOBS // 3
    for step in ("opened", "edited", "labeled"):
        for n in range(2, 2 + prs):
            if step == "opened":
                p = pull_request_event("opened", number=n, head_sha=f"{n:040x}")
            elif step == "edited":
                p = pull_request_event(
                    "edited",
                    number=n,
                    title="fix(logger): keep the rate",
                    title_from="feat(logger): add a sampling rate",
                    head_sha=f"{n:040x}",
                )
            else:
                p = pull_request_event(
                    "labeled",
                    number=n,
                    labels=("size/XXL",),
                    label="size/XXL",
                    head_sha=f"{n:040x}",
                )
            p["installation"] = {"id": 7}
            out.append((f"{step}-{n}", json.dumps(p).encode()))
    return out


def run_processing(tmp: Path, cluster: Cluster) -> dict[int, float]:
    rates: dict[int, float] = {}
    print(
        f"\nprocessing: {JOBS} deliveries ({JOBS // 3} pull requests x opened, edited, labeled) "
        f"on PostgreSQL; the local GitHub answers after {GITHUB_RTT * 1000:.0f} ms"
    )
    head = (
        f"{'workers':<10} {'events/s':>9} {'seconds':>8} {'API calls':>10} {'done':>5} {'dead':>5}"
    )
    print(head)
    print("-" * len(head))
    for workers in (1, 3):
        with SlowGitHub(token=TOKEN, login=BOT) as gh:
            gh.validate = False  # the GitHub stand-in must not be what is measured
            for n in range(2, 2 + JOBS // 3):
                gh.add_pr(n, "feat(logger): add a sampling rate", files=[("README.md", 40, 5)])
            url = cluster.create(f"processing{workers}")
            env = steward_env(url, gh.url)
            server = Server(env, tmp / "steward.log", "--workers", "0")
            try:
                with _client() as post:
                    for guid, body in processing_deliveries():
                        post(server.port, guid, body)
            finally:
                server.stop()
            engine = db.make_engine(url)
            inbox = Inbox(engine)
            assert inbox.maintenance.counts()["queued"] == JOBS
            gh.reset_calls()
            procs = [
                Process(["serve", "worker", "--concurrency", "1"], env, tmp / "worker.log")
                for _ in range(workers)
            ]
            try:
                while True:
                    counts = inbox.maintenance.counts()
                    if counts["queued"] == counts["running"] == 0:
                        break
                    time.sleep(0.05)
            finally:
                for p in procs:
                    p.stop()
            with engine.connect() as conn:
                n_deliveries = conn.execute(
                    select(func.count()).select_from(db.deliveries)
                ).scalar_one()
                # from the first claim to the last job's end: the workers' start-up is not
                # processing
                first, last = conn.execute(
                    select(func.min(db.jobs.c.started_at), func.max(db.jobs.c.finished_at))
                ).one()
            engine.dispose()
            seconds = (last - first).total_seconds()
            assert n_deliveries == JOBS
            rates[workers] = JOBS / seconds
            print(
                f"{workers:<10} {JOBS / seconds:>9.1f} {seconds:>8.1f} {len(gh.calls):>10} "
                f"{counts['done']:>5} {counts['dead']:>5}"
            )
    print(f"\n3 workers: {rates[3] / rates[1]:.2f}x one worker's throughput")
    return rates


@contextmanager
def _client() -> Iterator[Any]:
    import httpx

    with httpx.Client() as client:

        def post(port: int, guid: str, body: bytes) -> None:
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": guid,
                "X-GitHub-Hook-ID": "1",
                "X-Hub-Signature-256": sign(SECRET.encode(), body),
            }
            r = client.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers)
            r.raise_for_status()

        yield post


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="steward-bench-server-"))
    try:
        with Cluster() as cluster:
            run_intake(tmp, cluster)
            run_processing(tmp, cluster)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
