"""The inbox on SQLite and on a real PostgreSQL: deduplication, claims, order per subject,
leases, retries with backoff, dead letters, schedules."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from steward.server import db
from steward.server.db import jobs
from steward.server.deliveries import Incoming
from steward.server.inbox import Inbox
from steward.server.jobs import Backoff
from steward.server.maintenance import ANALYZE_MIN_ROWS


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def item(
    delivery: str, subject: str = "octo/app#1", *, hook: str = "42", enqueue: bool = True
) -> Incoming:
    return Incoming(
        hook_id=hook,
        delivery_id=delivery,
        event="pull_request",
        action="opened",
        installation_id=7,
        repository="octo/app",
        sender="octocat",
        subject=subject,
        body=b'{"action": "opened"}',
        enqueue=enqueue,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def inbox(engine: Engine, clock: Clock) -> Inbox:
    return Inbox(engine, max_attempts=3, backoff=Backoff(10, 100), clock=clock, rng=lambda: 1.0)


def test_a_redelivery_is_stored_once(inbox: Inbox) -> None:
    assert inbox.deliveries.record([item("a"), item("b", enqueue=False)]) == ["queued", "recorded"]
    # the same delivery again, twice in one batch, and the same GUID from another hook (an
    # unsigned header: a delivery id seen before is a duplicate whatever it says)
    got = inbox.deliveries.record([item("a"), item("c"), item("c"), item("a", hook="43")])
    assert got == ["duplicate", "queued", "duplicate", "duplicate"]
    assert inbox.maintenance.counts() == {"queued": 2, "running": 0, "done": 0, "dead": 0}
    assert inbox.deliveries.known("a")
    assert inbox.deliveries.known("b")
    assert not inbox.deliveries.known("zzz")


def test_a_large_batch_is_one_transaction(inbox: Inbox) -> None:
    got = inbox.deliveries.record([item(f"d-{i}", f"octo/app#{i}") for i in range(450)])
    assert got == ["queued"] * 450
    assert inbox.maintenance.counts()["queued"] == 450


def test_jobs_of_one_subject_run_one_at_a_time_in_order(inbox: Inbox) -> None:
    inbox.deliveries.record(
        [item("a1", "s#1"), item("b1", "s#2"), item("a2", "s#1"), item("b2", "s#2")]
    )
    first = inbox.jobs.claim("w1", 60)
    second = inbox.jobs.claim("w2", 60)
    assert first is not None
    assert second is not None
    assert (first.subject, second.subject) == ("s#1", "s#2")
    assert inbox.jobs.claim("w3", 60) is None  # a2 and b2 wait for a1 and b1
    assert inbox.jobs.complete(first)
    third = inbox.jobs.claim("w3", 60)
    assert third is not None
    assert third.subject == "s#1"
    assert third.id > first.id


def test_a_failure_is_retried_with_backoff_then_dead(inbox: Inbox, clock: Clock) -> None:
    inbox.deliveries.record([item("a"), item("later", "octo/app#1")])
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert job.attempts == 1
    assert inbox.jobs.fail(job, "GitHubError: HTTP 502") == "queued"
    assert inbox.jobs.claim("w", 60) is None  # not due, and the next of its subject waits
    clock.advance(9.9)  # backoff: attempt 1 waits 10 s (rng 1.0: the ceiling)
    assert inbox.jobs.claim("w", 60) is None
    clock.advance(0.2)
    again = inbox.jobs.claim("w", 60)
    assert again is not None
    assert (again.id, again.attempts) == (job.id, 2)
    assert inbox.jobs.fail(again, "GitHubError: HTTP 502") == "queued"
    clock.advance(20.1)
    last = inbox.jobs.claim("w", 60)
    assert last is not None
    assert last.attempts == 3
    assert inbox.jobs.fail(last, "GitHubError: HTTP 503") == "dead"
    [dead] = inbox.jobs.dead()
    assert dead["id"] == job.id
    assert dead["last_error"] == "GitHubError: HTTP 503"
    assert dead["delivery_id"] == "a"
    nxt = inbox.jobs.claim("w", 60)  # a dead job no longer holds its subject back
    assert nxt is not None
    assert nxt.id != job.id


def test_a_permanent_error_is_dead_at_once(inbox: Inbox) -> None:
    inbox.deliveries.record([item("a")])
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert inbox.jobs.fail(job, "PayloadError: no repository", permanent=True) == "dead"
    assert inbox.maintenance.counts()["dead"] == 1
    assert inbox.jobs.retry([job.id]) == 1
    again = inbox.jobs.claim("w", 60)
    assert again is not None
    assert again.attempts == 1  # fresh attempts


def test_backoff_grows_with_full_jitter_and_a_cap() -> None:
    b = Backoff(2, 60)
    assert [b.delay(n, lambda: 1.0) for n in (1, 2, 3, 4, 10)] == [2, 4, 8, 16, 60]
    assert [b.delay(n, lambda: 0.0) for n in (1, 2, 3)] == [1, 2, 4]


def test_an_expired_lease_hands_the_job_to_another_worker(inbox: Inbox, clock: Clock) -> None:
    inbox.deliveries.record([item("a")])
    lost = inbox.jobs.claim("dies", 30)
    assert lost is not None
    assert inbox.jobs.claim("other", 30) is None
    clock.advance(20)
    assert inbox.jobs.extend(lost, 30)  # renewed while alive
    clock.advance(29)
    assert inbox.jobs.claim("other", 30) is None
    clock.advance(2)
    taken = inbox.jobs.claim("other", 30)
    assert taken is not None
    assert (taken.id, taken.attempts, taken.worker) == (lost.id, 2, "other")
    assert not inbox.jobs.complete(lost)  # the first worker's late answer is refused
    assert not inbox.jobs.extend(lost, 30)
    assert inbox.jobs.fail(lost, "late") is None
    assert inbox.jobs.complete(taken)
    assert inbox.maintenance.counts()["done"] == 1


def test_a_job_whose_worker_keeps_dying_is_dead(inbox: Inbox, clock: Clock) -> None:
    inbox.deliveries.record([item("poison")])
    for _ in range(3):
        assert inbox.jobs.claim("w", 10) is not None
        clock.advance(11)
    assert inbox.jobs.claim("w", 10) is None
    [dead] = inbox.jobs.dead()
    assert "lease expired" in dead["last_error"]


def test_a_job_that_dies_on_its_last_attempt_says_so_and_keeps_the_error_before(
    inbox: Inbox, clock: Clock
) -> None:
    """Reproduction (chaos run): a job that failed twice on GitHub and lost its third run to
    a killed worker was reported as "its worker stopped mid-job 3 times", hiding the error."""
    inbox.deliveries.record([item("a")])
    for wait in (10.1, 20.1):
        job = inbox.jobs.claim("w", 60)
        assert job is not None
        assert inbox.jobs.fail(job, "GitHubError: POST /x: HTTP 502") == "queued"
        clock.advance(wait)
    assert inbox.jobs.claim("killed", 10) is not None
    clock.advance(11)
    assert inbox.jobs.claim("w", 60) is None
    [dead] = inbox.jobs.dead()
    assert dead["last_error"] == (
        "attempt 3 of 3, the last: its worker stopped mid-job (lease expired); "
        "the error before: GitHubError: POST /x: HTTP 502"
    )


def test_a_run_that_got_writes_through_gives_its_attempt_back(inbox: Inbox, clock: Clock) -> None:
    """Reproduction (chaos run): a release job with about 90 writes went dead under 5 %
    write faults: each fault cost one of its attempts though every run resumed further on."""
    inbox.deliveries.record([item("release")])
    for run in range(1, 4 * 3):  # up to PROGRESS_ALLOWANCE times the 3 attempts
        job = inbox.jobs.claim("w", 60)
        assert job is not None
        assert (job.attempts, job.max_attempts) == (run, min(run + 2, 12))
        assert inbox.jobs.fail(job, "GitHubError: HTTP 502", progressed=True) == "queued"
        assert inbox.jobs.claim("w", 60) is None
        # given back: the first attempt's backoff; once the allowance is spent, the count's
        clock.advance(10.1 if run < 10 else 100.1)
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert (job.attempts, job.max_attempts) == (12, 12)
    assert inbox.jobs.fail(job, "GitHubError: HTTP 502", progressed=True) == "dead"  # capped
    [dead] = inbox.jobs.dead()
    assert dead["attempts"] == 12
    assert inbox.jobs.retry() == 1  # queued again with the configured attempts, not the 12
    again = inbox.jobs.claim("w", 60)
    assert again is not None
    assert (again.attempts, again.max_attempts) == (1, 3)


def test_a_run_without_progress_spends_its_attempt(inbox: Inbox, clock: Clock) -> None:
    inbox.deliveries.record([item("a")])
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert inbox.jobs.fail(job, "GitHubError: HTTP 502", progressed=True) == "queued"
    clock.advance(10.1)
    for wait in (20.1, 40.1):  # backoff from the attempts spent, as before
        job = inbox.jobs.claim("w", 60)
        assert job is not None
        assert job.max_attempts == 4
        assert inbox.jobs.fail(job, "GitHubError: HTTP 502") == "queued"
        clock.advance(wait)
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert inbox.jobs.fail(job, "GitHubError: HTTP 502") == "dead"
    assert job.attempts == 4


def test_a_burst_gets_the_jobs_table_analyzed(inbox: Inbox, engine: Engine) -> None:
    """PostgreSQL plans the claim from statistics; right after a burst there are none, and
    its guess was quadratic in the queue (`python -m bench claim`)."""
    inbox.deliveries.record(
        [item(f"d{i}", f"octo/app#{i % 10}") for i in range(ANALYZE_MIN_ROWS + 100)]
    )
    if inbox.jobs.sqlite:
        assert not inbox.maintenance.analyze_if_stale()  # SQLite plans without them
        return
    deadline = time.monotonic() + 30  # the inserting session reports its counts within ~10 s
    while not inbox.maintenance.analyze_if_stale():
        assert time.monotonic() < deadline, "the burst never made the statistics stale"
        time.sleep(0.2)
    with engine.connect() as conn:
        when = conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'jobs'")
        ).scalar()
    assert when is not None
    assert not inbox.maintenance.analyze_if_stale()  # fresh now: not again


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_role_that_does_not_own_the_jobs_table_leaves_it_to_autovacuum(
    inbox: Inbox, engine: Engine
) -> None:
    """Found in review: PostgreSQL skips a table its caller does not own with a warning,
    not an error, so the check ran a useless ANALYZE every few seconds, forever."""
    role = f"worker_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
    other = db.make_engine(engine.url.set(username=role).render_as_string(hide_password=False))
    try:
        tenant = Inbox(other)
        inbox.deliveries.record(
            [item(f"d{i}", f"octo/app#{i % 10}") for i in range(ANALYZE_MIN_ROWS + 100)]
        )
        deadline = time.monotonic() + 30
        stale = text("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'jobs'")
        while True:  # the inserting session reports its counts within ~10 s
            with engine.connect() as conn:
                if conn.execute(stale).scalar_one() >= ANALYZE_MIN_ROWS:
                    break
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert not tenant.maintenance.analyze_if_stale()
        assert not tenant.maintenance._can_analyze  # checked once, then no more
        assert inbox.maintenance.analyze_if_stale()  # the owner still can
    finally:
        other.dispose()


def test_sweeps_are_scheduled_per_installation(inbox: Inbox, clock: Clock) -> None:
    assert inbox.schedules.ensure(7, 86_400)
    assert not inbox.schedules.ensure(7, 86_400)
    assert inbox.schedules.ensure(8, 86_400)
    assert inbox.schedules.enqueue_due() == 0
    clock.advance(3600)  # the first sweep falls within the first hour
    assert inbox.schedules.enqueue_due() == 2
    assert inbox.schedules.enqueue_due() == 0
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert (job.kind, job.installation_id, job.subject) == ("sweep", 7, "sweep:7")
    assert inbox.jobs.complete(job)
    clock.advance(86_400)
    assert inbox.schedules.enqueue_due() == 1  # installation 8's sweep has not run yet: not twice
    inbox.schedules.drop(7)
    inbox.schedules.drop(8)
    clock.advance(86_400)
    assert inbox.schedules.enqueue_due() == 0


def test_purge_keeps_unfinished_work(inbox: Inbox, clock: Clock, engine: Engine) -> None:
    inbox.deliveries.record(
        [item("done"), item("waiting", "octo/app#2"), item("noted", enqueue=False)]
    )
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    inbox.jobs.complete(job)
    clock.advance(86_400 * 15)
    assert inbox.maintenance.purge(clock.now - timedelta(days=14)) == 2
    assert not inbox.deliveries.known("done")
    assert inbox.deliveries.known("waiting")
    assert inbox.maintenance.counts() == {"queued": 1, "running": 0, "done": 0, "dead": 0}


def test_concurrent_workers_never_share_a_job_and_keep_each_subject_in_order(
    engine: Engine,
) -> None:
    """Eight threads claim 300 jobs over 30 subjects at once: every job runs exactly once,
    and within a subject they run in the order they arrived."""
    inbox = Inbox(engine, max_attempts=3)
    inbox.deliveries.record([item(f"d-{i}", f"s#{i % 30}") for i in range(300)])
    with engine.begin() as conn:
        ids = {r.id: r.subject for r in conn.execute(select(jobs.c.id, jobs.c.subject))}
    ran: list[int] = []
    lock = threading.Lock()
    active: dict[str, int] = {}
    overlaps: list[str] = []

    def work(name: str) -> None:
        idle = 0
        while idle < 20:
            job = inbox.jobs.claim(name, 60)
            if job is None:
                idle += 1
                threading.Event().wait(0.01)
                continue
            idle = 0
            with lock:
                if job.subject in active:
                    overlaps.append(job.subject)
                active[job.subject] = job.id
                ran.append(job.id)
            with lock:
                del active[job.subject]
            assert inbox.jobs.complete(job)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(ran) == sorted(ids)
    assert overlaps == []
    per_subject: dict[str, list[int]] = defaultdict(list)
    for job_id in ran:
        per_subject[ids[job_id]].append(job_id)
    for order in per_subject.values():
        assert order == sorted(order)
    assert inbox.maintenance.counts()["done"] == 300


def test_a_job_row_left_running_by_a_dead_process_is_taken_again(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.deliveries.record([item("a")])
    with engine.begin() as conn:  # what a killed worker leaves: running, lease in the past
        conn.execute(
            update(jobs).values(
                state="running", attempts=1, worker="gone", lease_until=clock.now - timedelta(1)
            )
        )
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert job.attempts == 2


def test_payloads_are_stored_compressed_and_read_back_as_sent(inbox: Inbox) -> None:
    import json as _json

    from steward.errors import PayloadError
    from steward.server.deliveries import decode_body, encode_body

    big = _json.dumps({"action": "opened", "body": "text " * 4000}).encode()
    small = b'{"action": "created"}'
    assert encode_body(small) == ("identity", small)
    encoding, stored = encode_body(big)
    assert encoding == "lz4"
    assert len(stored) < len(big) // 5
    assert decode_body(encoding, stored) == big
    with pytest.raises(PayloadError):
        decode_body("brotli", stored)
    inbox.deliveries.record([item("small")])
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert job.delivery_pk is not None
    got = inbox.deliveries.delivery(job.delivery_pk)
    assert got is not None
    assert got.body == b'{"action": "opened"}'


def test_a_delivery_crosses_to_the_writer_process_whole() -> None:
    import dataclasses
    from datetime import UTC, datetime

    from steward.server.deliveries import decode_body

    got = item("a")
    big = b'{"body": "' + b"x" * 5000 + b'"}'
    got = dataclasses.replace(got, received_at=datetime(2026, 1, 1, tzinfo=UTC), body=big)
    crossed = Incoming(*got.wire())
    assert len(got.wire()) == len(dataclasses.fields(Incoming))
    assert crossed.body_encoding == "lz4"
    assert len(crossed.body) < len(big) // 5
    assert decode_body(crossed.body_encoding, crossed.body) == big
    assert dataclasses.replace(crossed, body=big, body_encoding=None) == got
    assert Incoming(*crossed.wire()) == crossed  # already stored form: as it is
