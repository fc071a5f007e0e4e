"""A restart does not leave a pull request stuck for the lease time.

Real `steward serve` processes with the default 300 s lease, a local GitHub that holds
requests at a gate (so a job is certainly in the middle of its run), three events of one pull
request queued behind each other:

- the server is SIGKILLed while its worker holds the first job, and started again: the
  restarted server releases the jobs of the process that is gone at once, and the pull
  request's queue drains within 30 s (SQLite and PostgreSQL);
- PostgreSQL stops under a live worker, which then cannot record that its job is done, and
  comes back: the worker retries that write instead of abandoning the lease, and the queue
  drains within 30 s of the database's restart.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from steward.server import db
from steward.server.inbox import Inbox
from tests.server.conftest import SECRET, TOKEN, signed_headers, with_installation
from tests.server.fakes import BOT, local_github_env
from tests.server.postgres import Cluster
from tests.server.processes import Server
from tests.support.github_material import pull_request_event
from tests.support.github_server import GitHubServer

PR = 2
SHA = f"{PR:040x}"
GOAL = 30.0  # seconds from the restart until the pull request's queue has moved


class GatedGitHub(GitHubServer):
    """Holds every request while the gate is shut; once it opens, a held request is answered
    502 unanswered (``drop``: its sender was killed, and a write it made must not land after
    the restarted server read the state) or served as usual."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.gate = threading.Event()
        self.gate.set()
        self.held = 0
        self.drop = True

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if not self.gate.is_set():
            self.held += 1
            self.gate.wait()
            if self.drop:
                return 502, {"content-type": "application/json"}, b'{"message":"held"}'
        return super().handle(method, target, headers, raw)


@pytest.fixture
def gh() -> Iterator[GatedGitHub]:
    with GatedGitHub(token=TOKEN, login=BOT) as server:
        server.add_pr(PR, "feat(logger): add a sampling rate", files=[("src/app.py", 40, 5)])
        yield server


def events() -> list[tuple[str, bytes]]:
    opened = pull_request_event("opened", number=PR, head_sha=SHA)
    edited = pull_request_event(
        "edited",
        number=PR,
        title="fix(logger): keep the sampling rate",
        title_from="feat(logger): add a sampling rate",
        head_sha=SHA,
    )
    labeled = pull_request_event(
        "labeled", number=PR, labels=("size/XXL",), label="size/XXL", head_sha=SHA
    )
    return [
        (f"{p['action']}-{PR}", json.dumps(with_installation(p)).encode())
        for p in (opened, edited, labeled)
    ]


def env_for(database_url: str, gh: GitHubServer) -> dict[str, str]:
    # no STEWARD_LEASE_SECONDS: the default 300 s lease
    return local_github_env(database_url, gh.url, TOKEN, SECRET, STEWARD_BACKOFF_SECONDS="0.1")


def queue_and_hold(server: Server, gh: GatedGitHub, inbox: Inbox) -> None:
    """The pull request's three events queued, its first job running and held at GitHub."""
    gh.gate.clear()
    with httpx.Client() as client:
        for guid, body in events():
            r = client.post(
                f"{server.url}/webhook",
                content=body,
                headers=signed_headers("pull_request", guid, body),
                timeout=10,
            )
            assert r.status_code == 202, r.text
    wait_until(lambda: gh.held > 0, 30, server)
    assert inbox.maintenance.counts() == {"queued": 2, "running": 1, "done": 0, "dead": 0}


def wait_until(ready: Any, seconds: float, server: Server) -> float:
    started = time.monotonic()
    while not ready():
        assert time.monotonic() - started < seconds, server.tail()
        time.sleep(0.05)
    return time.monotonic() - started


def drained(inbox: Inbox) -> bool:
    return inbox.maintenance.counts() == {"queued": 0, "running": 0, "done": 3, "dead": 0}


@pytest.mark.slow
def test_a_server_killed_mid_job_and_restarted_moves_the_queue_at_once(
    database_url: str, gh: GatedGitHub, tmp_path: Path
) -> None:
    env = env_for(database_url, gh)
    log = tmp_path / "processes.log"
    engine = db.make_engine(database_url)
    inbox = Inbox(engine)
    server = Server(env, log, "--workers", "1")
    try:
        queue_and_hold(server, gh, inbox)
        server.kill()  # mid-job: its lease has 300 s to run
        gh.gate.set()  # the killed worker's held request is dropped unanswered
        server = Server(env, log, "--workers", "1")
        took = wait_until(lambda: drained(inbox), GOAL, server)
        assert server.stop() in {0, -15}
    finally:
        if server.alive():
            server.kill()
        engine.dispose()
    assert took < GOAL
    assert "released 1 job(s)" in log.read_text()
    gh.assert_clean()


@pytest.mark.slow
def test_a_worker_that_lost_postgresql_mid_job_finishes_it_once_it_is_back(
    gh: GatedGitHub, tmp_path: Path
) -> None:
    with Cluster(max_connections=50) as pg:  # durable: an immediate stop keeps commits
        url = pg.create()
        env = env_for(url, gh)
        log = tmp_path / "processes.log"
        server = Server(env, log, "--workers", "1")
        try:
            engine = db.make_engine(url)
            inbox = Inbox(engine)
            queue_and_hold(server, gh, inbox)
            engine.dispose()
            pg.pause("immediate")  # under the live worker: its "done" write will fail
            gh.drop = False
            gh.gate.set()  # the job runs to its end, and cannot record it
            time.sleep(3)  # its GitHub calls are done by now, its "done" write failed
            pg.resume()
            engine = db.make_engine(url)
            inbox = Inbox(engine)
            took = wait_until(lambda: drained(inbox), GOAL, server)
            engine.dispose()
            server.stop()
        finally:
            if server.alive():
                server.kill()
    assert took < GOAL
    gh.assert_clean()


# -- the instances on their own (SQLite and PostgreSQL) --------------------------------------


def running_job(inbox: Inbox, worker: str, subject: str) -> int:
    from steward.server.deliveries import Incoming

    body = json.dumps({"subject": subject}).encode()
    item = Incoming("42", subject, "issues", "opened", 7, "o/r", "u", subject, body, True)
    inbox.deliveries.record([item])
    job = inbox.jobs.claim(worker, 300)
    assert job is not None
    return job.id


def test_the_jobs_of_instances_that_are_gone_are_released_and_only_those(
    engine: Engine,
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from steward.server.jobs import RELEASED, Instance, Instances, instances

    inbox = Inbox(engine)
    alive_pids = {100, 101, 102}
    registry = Instances(engine, alive_here=lambda pid: pid in alive_pids)
    host = registry.host
    dead = Instance(f"{host}:100:aaa", host, 100)  # its pid is about to end
    live = Instance(f"{host}:101:bbb", host, 101)
    far = Instance("elsewhere:5:ccc", "elsewhere", 5)  # another machine: only its heartbeat
    slot = Instance(f"{host}:102:ddd", host, 102)  # its slot is about to start again
    for i, inst in enumerate((dead, live, far, slot)):
        registry.register(inst)
        running_job(inbox, inst.worker(0), f"o/r#{i}")
    with engine.begin() as conn:  # the far one stopped beating a minute ago
        stale = db.utcnow() - timedelta(seconds=60)
        conn.execute(update(instances).where(instances.c.id == far.id).values(heartbeat_at=stale))

    alive_pids.discard(100)
    again = Instance(f"{host}:102:eee", host, 102)  # a new start in the same host/pid slot
    assert registry.register(again) == 2  # the dead pid's job and the slot's
    assert registry.reap(again, None) == 0  # a stale heartbeat counts only when trusted
    assert registry.reap(again, 15.0) == 1  # the far machine's
    with engine.begin() as conn:
        rows = {r.worker: r.lease_until for r in conn.execute(select(db.jobs))}
        ids = set(conn.execute(select(instances.c.id)).scalars())
    released = {w for w, lease in rows.items() if db.aware(lease) == RELEASED}
    assert released == {dead.worker(0), far.worker(0), slot.worker(0)}
    assert ids == {live.id, again.id}
    job = inbox.jobs.claim(again.worker(0), 300)  # released: the next claim takes it
    assert job is not None
    assert job.attempts == 2
