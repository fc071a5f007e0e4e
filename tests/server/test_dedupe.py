"""Deduplication does not trust the unsigned hook id, and a replayed body costs no second run.

On a real `steward serve` process (SQLite and PostgreSQL), signed deliveries: a delivery id
seen before is a duplicate whatever ``X-GitHub-Hook-ID`` says (another one, none at all),
and never processed again; the same signed body replayed under a new delivery id while an
identical job is still the newest of its pull request is coalesced into it. Then a `steward
serve worker` process drains the inbox, and the local GitHub has seen exactly the calls of
one run of each event that was not coalesced.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

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

SHA = f"{2:040x}"


def seed(gh: GitHubServer) -> None:
    gh.add_pr(2, "feat(logger): add a sampling rate", files=[("src/app.py", 40, 5)])


def opened() -> bytes:
    return json.dumps(
        with_installation(pull_request_event("opened", number=2, head_sha=SHA))
    ).encode()


def edited() -> bytes:
    payload = pull_request_event(
        "edited",
        number=2,
        title="fix(logger): keep the sampling rate",
        title_from="feat(logger): add a sampling rate",
        head_sha=SHA,
    )
    return json.dumps(with_installation(payload)).encode()


def reference_calls() -> int:
    """The GitHub calls of one clean run of each distinct event."""
    with GitHubServer(token=TOKEN, login=BOT) as ref:
        seed(ref)
        deps = token_deps(ref.url, TOKEN, repos=(ref.repo,))
        for guid, body in (("d-1", opened()), ("d-3", edited()), ("d-4", opened())):
            delivery = Delivery(guid, "42", "pull_request", json.loads(body), 7, datetime.now(UTC))
            process_delivery(delivery, deps)
        return len(ref.all_calls)


def post(client: httpx.Client, url: str, guid: str, body: bytes, hook: str | None) -> str:
    headers = signed_headers("pull_request", guid, body, hook=hook or "")
    if hook is None:
        del headers["X-GitHub-Hook-ID"]
    r = client.post(f"{url}/webhook", content=body, headers=headers, timeout=10)
    assert r.status_code in {200, 202}, r.text
    return r.headers["x-steward-status"]


@pytest.mark.slow
def test_a_delivery_id_seen_before_is_a_duplicate_whatever_the_hook_id(
    database_url: str, tmp_path: Path
) -> None:
    expected_calls = reference_calls()
    with GitHubServer(token=TOKEN, login=BOT) as gh:
        seed(gh)
        env = local_github_env(database_url, gh.url, TOKEN, SECRET)
        log = tmp_path / "processes.log"
        server = Server(env, log, "--workers", "0")  # the intake alone: jobs stay queued
        worker: Process | None = None
        engine = db.make_engine(database_url)
        try:
            with httpx.Client() as client:
                url = server.url
                assert post(client, url, "d-1", opened(), "42") == "queued"
                # the same delivery id: another hook id, none, even another body
                assert post(client, url, "d-1", opened(), "43") == "duplicate"
                assert post(client, url, "d-1", opened(), None) == "duplicate"
                assert post(client, url, "d-1", edited(), "99") == "duplicate"
                # the signed body replayed under new delivery ids while its job is queued
                assert post(client, url, "d-2", opened(), "42") == "duplicate"
                assert post(client, url, "d-2b", opened(), None) == "duplicate"
                # a different event of the same pull request is work of its own
                assert post(client, url, "d-3", edited(), "42") == "queued"
                assert post(client, url, "d-3", edited(), "7") == "duplicate"
                # the first body again, after another event: work again (A, B, A)
                assert post(client, url, "d-4", opened(), "42") == "queued"
            inbox = Inbox(engine)
            assert inbox.maintenance.counts()["queued"] == 3
            worker = Process(["serve", "worker", "--concurrency", "2"], env, log)
            deadline = time.monotonic() + 60
            while True:
                counts = inbox.maintenance.counts()
                if counts["queued"] == counts["running"] == 0:
                    break
                assert time.monotonic() < deadline, (counts, server.tail())
                time.sleep(0.1)
            time.sleep(0.5)  # a job made of a duplicate would be claimed by now
            assert worker.stop() == 0
            server.stop()
        finally:
            for p in (server, worker):
                if p is not None and p.alive():
                    p.kill()
        with engine.connect() as conn:
            guids = sorted(conn.execute(select(db.deliveries.c.delivery_id)).scalars())
            ran = conn.execute(
                select(func.count()).select_from(db.jobs).where(db.jobs.c.attempts > 0)
            ).scalar_one()
        counts = Inbox(engine).maintenance.counts()
        engine.dispose()
        assert guids == ["d-1", "d-2", "d-2b", "d-3", "d-4"]  # each delivery id stored once
        assert counts == {"queued": 0, "running": 0, "done": 5, "dead": 0}
        assert ran == 3  # the coalesced deliveries' jobs never ran
        assert len(gh.all_calls) == expected_calls  # one run of each distinct event
        gh.assert_clean()
