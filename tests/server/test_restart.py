"""Kill everything mid-load, restart, and the inbox drains to the same state.

A sender posts signed deliveries one after another (three events for each of 40 pull
requests) to a real `steward serve` process with two worker threads, beside a separate
`steward serve worker` process. Once part of them are acknowledged and processing is under
way, both processes are SIGKILLed. They are started again, the sender posts again every
delivery it had no 2xx for (as GitHub's redelivery or `serve reconcile` would) and a few it
had (redeliveries), and the inbox drains: every delivery stored once, every job done, none
dead, and the local GitHub in exactly the state one clean, in-order pass over the same
deliveries makes (no label, comment or status written twice).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from steward.server import db
from steward.server.inbox import Inbox
from steward.server.processing import Delivery, process_delivery
from tests.server.conftest import SECRET, TOKEN, signed_headers, with_installation
from tests.server.fakes import BOT, local_github_env, token_deps
from tests.server.processes import Process, Server
from tests.support.github_material import pull_request_event
from tests.support.github_server import GitHubServer

PRS = range(2, 42)


def sha(n: int) -> str:
    return f"{n:040x}"


def seed(gh: GitHubServer) -> None:
    for n in PRS:
        files = [("aws_lambda_powertools/logging/logger.py", 40 + n, 5)]
        gh.add_pr(n, "feat(logger): add a sampling rate", files=files)


def deliveries() -> list[tuple[str, str, bytes]]:
    """(guid, event, body) in the order GitHub sends them: opened, edited, labeled, per PR,
    the PRs interleaved."""
    out = []
    for step in ("opened", "edited", "labeled"):
        for n in PRS:
            if step == "opened":
                p = pull_request_event("opened", number=n, head_sha=sha(n))
            elif step == "edited":
                p = pull_request_event(
                    "edited",
                    number=n,
                    title="fix(logger): keep the sampling rate",
                    title_from="feat(logger): add a sampling rate",
                    head_sha=sha(n),
                )
            else:
                p = pull_request_event(
                    "labeled", number=n, labels=("size/XXL",), label="size/XXL", head_sha=sha(n)
                )
            out.append((f"{step}-{n}", "pull_request", json.dumps(with_installation(p)).encode()))
    return out


def state(gh: GitHubServer) -> dict[str, Any]:
    return {
        "issues": {
            n: (sorted(r.labels), r.state, [c["body"] for c in r.comments])
            for n, r in gh.issues.items()
        },
        "statuses": {
            s: sorted((x["context"], x["state"], x["description"]) for x in v)
            for s, v in gh.statuses.items()
        },
    }


class SlowGitHub(GitHubServer):
    """Answers after a few milliseconds, as a remote API does: jobs take long enough that
    the kill finds workers in the middle of them."""

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.01)
        return super().handle(method, target, headers, raw)


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with SlowGitHub(token=TOKEN, login=BOT) as server:
        seed(server)
        yield server


def expected_state() -> dict[str, Any]:
    with GitHubServer(token=TOKEN, login=BOT) as ref:
        seed(ref)
        deps = token_deps(ref.url, TOKEN, repos=(ref.repo,))
        for guid, event, body in deliveries():
            payload = json.loads(body)
            process_delivery(Delivery(guid, "42", event, payload, 7, datetime.now(UTC)), deps)
        ref.assert_clean()
        return state(ref)


def send(client: httpx.Client, url: str, guid: str, event: str, body: bytes) -> bool:
    try:
        r = client.post(url, content=body, headers=signed_headers(event, guid, body), timeout=10)
    except httpx.TransportError:
        return False
    return 200 <= r.status_code < 300


@pytest.mark.slow
def test_killed_mid_load_and_restarted_the_inbox_drains_to_the_same_state(
    database_url: str, gh: GitHubServer, tmp_path: Path
) -> None:
    env = local_github_env(
        database_url,
        gh.url,
        TOKEN,
        SECRET,
        STEWARD_LEASE_SECONDS="2",
        STEWARD_BACKOFF_SECONDS="0.1",
    )
    log = tmp_path / "processes.log"
    todo = deliveries()
    acked: set[str] = set()

    def start() -> tuple[Server, Process]:
        server = Server(env, log, "--workers", "2")
        worker = Process(["serve", "worker", "--concurrency", "2"], env, log)
        return server, worker

    server, worker = start()
    engine = db.make_engine(database_url)
    inbox = Inbox(engine)
    try:
        with httpx.Client() as client:
            hook = f"{server.url}/webhook"
            for guid, event, body in todo:
                if send(client, hook, guid, event, body):
                    acked.add(guid)
                if len(acked) >= 70 and inbox.maintenance.counts()["done"] >= 5:
                    break
        deadline = time.monotonic() + 30
        while inbox.maintenance.counts()["running"] == 0 and time.monotonic() < deadline:
            time.sleep(0.001)  # kill while a worker is in the middle of a job
        before = inbox.maintenance.counts()
        server.kill()  # everything, mid-load: the intake, its workers, the other worker
        worker.kill()
        assert before["queued"] > 0, "the kill came too late to matter"
        assert before["running"] > 0, "no job was under way"
        with httpx.Client() as client:  # nothing answers now: GitHub would see failures
            assert not send(client, hook, *todo[-1])

        server, worker = start()
        with httpx.Client() as client:
            hook = f"{server.url}/webhook"
            for guid, event, body in todo:
                if guid not in acked:  # GitHub's redelivery of what failed
                    assert send(client, hook, guid, event, body), guid
            for guid, event, body in todo[:10]:  # and a few it redelivers anyway
                assert send(client, hook, guid, event, body)
        deadline = time.monotonic() + 120
        while True:
            counts = inbox.maintenance.counts()
            if counts["queued"] == counts["running"] == 0:
                break
            assert time.monotonic() < deadline, (counts, server.tail())
            time.sleep(0.1)
        assert server.stop() in {0, -signal.SIGTERM}  # uvicorn re-raises the signal it handled
        assert worker.stop() == 0
    finally:
        for p in (server, worker):
            if p.alive():
                p.kill()

    assert counts == {"queued": 0, "running": 0, "done": len(todo), "dead": 0}
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(db.deliveries)).scalar_one()
        guids = set(conn.execute(select(db.deliveries.c.delivery_id)).scalars())
    engine.dispose()
    assert stored == len(todo)  # each once, redeliveries included
    assert guids == {guid for guid, _, _ in todo}
    assert state(gh) == expected_state()
    for n in PRS:  # one of each comment, whatever ran twice
        markers = [b.rsplit("<!-- steward:", 1)[1] for b in gh.comment_bodies(n)]
        assert len(markers) == len(set(markers))
    gh.assert_clean()
