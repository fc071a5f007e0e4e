"""Workers on SQLite and PostgreSQL against the local GitHub: draining, retries with
backoff, dead letters, order per pull request, leases, and the scheduled sweep."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from steward.server import intake
from steward.server.db import schedules
from steward.server.inbox import Inbox
from steward.server.jobs import Backoff, Job
from steward.server.metrics import Metrics
from steward.server.processing import Delivery, WorkerDeps, process_delivery
from steward.server.settings import Settings
from steward.server.worker import Worker, start_workers
from tests.server.conftest import TOKEN, make_settings, with_installation
from tests.server.fakes import token_deps
from tests.support.github_material import pull_request_event, release_event
from tests.support.github_server import Fault, GitHubServer

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def enqueue(inbox: Inbox, event: str, payload: dict[str, Any], guid: str) -> None:
    payload = with_installation(payload)
    raw = json.dumps(payload).encode()
    item = intake.incoming(intake.Headers(event, guid, "", "42"), payload, raw)
    assert inbox.deliveries.record([item]) == ["queued"]


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def inbox(engine: Engine) -> Inbox:
    # rng near 1: retries wait their whole (short) backoff, and an installation's first
    # sweep falls about an hour on, so no test but the sweep's sees one (a sweep due at
    # once raced the other workers' first housekeeping and marked test PRs stale).
    return Inbox(engine, max_attempts=3, backoff=Backoff(0.05, 0.2), rng=lambda: 0.999)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def workers(inbox: Inbox, metrics: Metrics) -> Iterator[Callable[..., list[threading.Thread]]]:
    stop = threading.Event()
    started: list[threading.Thread] = []

    def start(deps: WorkerDeps, count: int = 2, settings: Settings | None = None) -> list[Any]:
        threads = start_workers(
            inbox, deps, settings or make_settings(), count, stop=stop, metrics=metrics
        )
        started.extend(threads)
        return threads

    yield start
    stop.set()
    for t in started:
        t.join(30)


def test_workers_drain_the_inbox(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any, engine: Engine
) -> None:
    for n in range(2, 8):
        gh.add_pr(n, "feat: x", files=[("README.md", 3, 1)])
        enqueue(
            inbox, "pull_request", pull_request_event("opened", number=n, head_sha=SHA), f"d{n}"
        )
    workers(token_deps(gh.url, TOKEN, metrics=metrics))
    wait_for(lambda: inbox.maintenance.counts()["done"] == 6)
    # A worker counts a job after recording it done: wait for the count, not just the row.
    wait_for(lambda: metrics.value("steward_jobs_processed_total", kind="event") == 6)
    for n in range(2, 8):
        assert sorted(gh.labels_of(n)) == ["documentation", "feature", "size/XS"]
    assert metrics.value("steward_jobs_processed_total", kind="event") == 6
    with engine.connect() as conn:  # the installation's sweep and survey are now scheduled
        rows = conn.execute(select(schedules.c.installation_id, schedules.c.kind)).all()
        assert sorted(rows) == [(7, "survey"), (7, "sweep")]


def test_a_github_failure_is_retried_and_writes_once(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any
) -> None:
    gh.add_pr(2, "feat: x", files=[("README.md", 3, 1)])
    # A POST is never repeated by the client: the job fails and the worker retries it.
    gh.faults.append(Fault(502, method="POST", path_contains="/labels", times=1))
    enqueue(inbox, "pull_request", pull_request_event("opened", head_sha=SHA), "d1")
    workers(token_deps(gh.url, TOKEN, metrics=metrics))
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1)
    wait_for(lambda: metrics.value("steward_jobs_processed_total", kind="event") == 1)
    assert sorted(gh.labels_of(2)) == ["documentation", "feature", "size/XS"]
    label_posts = [c for c in gh.all_calls if c.method == "POST" and c.path.endswith("/labels")]
    assert [c.status for c in label_posts] == [502, 200]
    assert metrics.value("steward_jobs_failed_total", kind="event") == 1
    assert metrics.value("steward_jobs_processed_total", kind="event") == 1
    gh.violations.clear()  # the injected 502 is not the test server's fault


def test_spent_attempts_and_permanent_errors_are_dead_letters(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any
) -> None:
    gh.add_pr(2, "feat: x", files=[("README.md", 3, 1)])
    gh.faults.append(Fault(502, method="POST", path_contains="/labels", times=100))
    enqueue(inbox, "pull_request", pull_request_event("opened", head_sha=SHA), "d1")
    broken = pull_request_event("opened", number=3)
    del broken["pull_request"]["user"]
    enqueue(inbox, "pull_request", broken, "d2")
    workers(token_deps(gh.url, TOKEN, metrics=metrics))
    wait_for(lambda: inbox.maintenance.counts()["dead"] == 2)
    dead = {d["delivery_id"]: d for d in inbox.jobs.dead()}
    assert dead["d1"]["attempts"] == 3
    assert "HTTP 502" in dead["d1"]["last_error"]
    assert dead["d2"]["attempts"] == 1  # a payload that cannot be read is not retried
    assert dead["d2"]["last_error"].startswith("PayloadError: pull_request.user")
    assert metrics.value("steward_jobs_dead_total", kind="event") == 2
    assert metrics.value("steward_jobs_failed_total", kind="event") == 2
    gh.violations.clear()


def test_a_long_job_hit_by_more_faults_than_attempts_still_finishes(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any
) -> None:
    """Reproduction (chaos run): a release closing many issues makes dozens of writes; each
    write GitHub fails cost one of the job's attempts although every run got further, so five
    faults spread over it (3 attempts here) buried it with issues left unannounced."""
    pending = range(10, 30)
    for n in pending:
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    for n in (27, 22, 17, 12):  # issues are listed newest first: one fault every 5 issues
        gh.faults.append(Fault(502, method="POST", path_contains=f"/issues/{n}/comments"))
    gh.faults.append(Fault(502, method="PATCH", path_contains="/issues/10"))
    enqueue(inbox, "release", release_event("published", tag="v3.2.0"), "r1")
    workers(token_deps(gh.url, TOKEN, metrics=metrics), count=1)
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1)
    for n in pending:
        assert gh.labels_of(n) == ["bug"]
        assert gh.issues[n].state == "closed"
        assert len(gh.comment_bodies(n)) == 1  # told once, whatever the retries
    assert metrics.value("steward_jobs_failed_total", kind="event") == 5
    assert inbox.maintenance.counts()["dead"] == 0
    gh.violations.clear()  # the injected 502s are not the test server's fault


def test_a_worker_survives_an_unexpected_error_between_jobs(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: only database errors were caught around housekeeping and claims;
    anything else ended the worker thread for good."""
    real = inbox.schedules.enqueue_due
    raised: list[int] = []

    def once(*args: Any, **kw: Any) -> int:
        if not raised:
            raised.append(1)
            raise RuntimeError("a bug in housekeeping")
        return real(*args, **kw)

    monkeypatch.setattr(inbox.schedules, "enqueue_due", once)
    gh.add_pr(2, "feat: x", files=[("README.md", 3, 1)])
    enqueue(inbox, "pull_request", pull_request_event("opened", head_sha=SHA), "d1")
    threads = workers(token_deps(gh.url, TOKEN, metrics=metrics), count=1)
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1)
    assert raised == [1]
    assert threads[0].is_alive()


def test_events_of_one_pull_request_run_in_the_order_they_came(
    inbox: Inbox, engine: Engine
) -> None:
    for i in range(40):
        enqueue(inbox, "pull_request", pull_request_event("opened", number=2 + i % 4), f"d{i}")
    ran: list[tuple[str, int]] = []
    running: set[str] = set()
    overlap: list[str] = []
    lock = threading.Lock()

    def job(j: Job) -> None:
        with lock:
            if j.subject in running:
                overlap.append(j.subject)
            running.add(j.subject)
        time.sleep(0.005)
        with lock:
            running.discard(j.subject)
            ran.append((j.subject, j.id))

    stop = threading.Event()
    settings = make_settings()
    deps = token_deps("http://127.0.0.1:9", TOKEN)
    threads = []
    for i in range(4):
        w = Worker(inbox, deps, settings, name=f"w{i}", stop=stop, run_job=job)
        threads.append(threading.Thread(target=w.run))
        threads[-1].start()
    wait_for(lambda: len(ran) == 40)
    stop.set()
    for t in threads:
        t.join(10)
    assert overlap == []
    for subject in {s for s, _ in ran}:
        ids = [i for s, i in ran if s == subject]
        assert ids == sorted(ids)


def test_a_job_of_a_worker_killed_mid_job_is_finished_by_another_without_writing_twice(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any
) -> None:
    gh.add_pr(2, "docs: fix a typo", files=[("README.md", 3, 1)], author="newcomer")
    payload = pull_request_event(
        "opened",
        title="docs: fix a typo",
        body="",
        head_sha=SHA,
        author="newcomer",
        association="FIRST_TIME_CONTRIBUTOR",
    )
    enqueue(inbox, "pull_request", payload, "d1")
    deps = token_deps(gh.url, TOKEN, metrics=metrics)
    # The first worker claims the job, makes every write, and dies before it can say so.
    dying = inbox.jobs.claim("killed-worker", 1.0)
    assert dying is not None
    process_delivery(
        Delivery("d1", "42", "pull_request", with_installation(payload), 7, datetime.now(UTC)),
        deps,
    )
    written = len([c for c in gh.all_calls if c.is_write])
    assert len(gh.comment_bodies(2)) == 3
    workers(deps, settings=make_settings(lease_seconds=1.0))
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1)
    assert len([c for c in gh.all_calls if c.is_write]) == written  # the rerun only read
    assert len(gh.comment_bodies(2)) == 3


def test_a_long_job_keeps_its_lease(inbox: Inbox, engine: Engine) -> None:
    enqueue(inbox, "pull_request", pull_request_event("opened"), "d1")
    runs: list[str] = []

    def slow(name: str) -> Callable[[Job], None]:
        def run(j: Job) -> None:
            runs.append(name)
            time.sleep(3.5)

        return run

    stop = threading.Event()
    settings = make_settings(lease_seconds=2.0)  # renewed every 2/3 s while the job runs
    deps = token_deps("http://127.0.0.1:9", TOKEN)
    ws = [
        Worker(inbox, deps, settings, name=f"w{i}", stop=stop, run_job=slow(f"w{i}"))
        for i in range(2)
    ]
    threads = [threading.Thread(target=w.run) for w in ws]
    for t in threads:
        t.start()
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1, timeout=20)
    stop.set()
    for t in threads:
        t.join(10)
    assert len(runs) == 1  # the other worker never took it over


def test_the_sweep_is_scheduled_and_run_by_the_workers(
    inbox: Inbox, gh: GitHubServer, metrics: Metrics, workers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox.schedules.ensure(7, 3600, kind="survey")  # an hour away (rng near 1): no releases here
    monkeypatch.setattr(inbox.schedules, "rng", lambda: 0.0)  # the first sweep due at once
    old = (datetime.now(UTC) - timedelta(days=70)).strftime("%Y-%m-%dT%H:%M:%SZ")
    gh.add_issue(5, "idle for long")
    gh.issues[5].updated_at = old
    gh.add_pr(2, "feat: x", files=[("README.md", 3, 1)])
    enqueue(inbox, "pull_request", pull_request_event("opened", head_sha=SHA), "d1")
    workers(
        token_deps(gh.url, TOKEN, metrics=metrics),
        count=1,
        settings=make_settings(housekeeping_seconds=0.2),
    )
    # The first delivery of installation 7 schedules its sweep (rng 0: due at once); the
    # next housekeeping round queues it.
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1)
    wait_for(lambda: metrics.value("steward_jobs_processed_total", kind="sweep") == 1)
    assert "stale" in gh.labels_of(5)


def test_an_uninstalled_app_is_no_longer_swept(
    inbox: Inbox, gh: GitHubServer, workers: Any, engine: Engine
) -> None:
    inbox.schedules.ensure(7, 86_400)
    payload = {"action": "deleted", "installation": {"id": 7}, "sender": {"login": "octocat"}}
    raw = json.dumps(payload).encode()
    item = intake.incoming(intake.Headers("installation", "d1", "", "42"), payload, raw)
    assert inbox.deliveries.record([item]) == ["queued"]
    workers(token_deps(gh.url, TOKEN))
    wait_for(lambda: inbox.maintenance.counts()["done"] == 1)
    with engine.connect() as conn:
        assert conn.execute(select(schedules)).all() == []
