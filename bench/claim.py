"""The cost of a claim on PostgreSQL, before and after the partial indexes on unfinished jobs.

A worker takes its next job with ``Inbox.claim``: the oldest ready job whose subject has no
older unfinished job. Migration 0002 replaced the index over every job's ``(subject, id)``
with two partial indexes over the queued and running jobs only (``ix_jobs_active_id`` and
``ix_jobs_active_subject_id``), so that a claim costs what is in flight, not what is done.
This measures that claim, with its ``complete``, on a real PostgreSQL (a throwaway cluster,
``fsync`` off: the writes are not what is measured), in the state right after a burst: a
fresh database whose ``jobs`` and ``deliveries`` tables never saw an ANALYZE (autovacuum is
off on both), so the planner works from its defaults, not from statistics.

Each scenario builds three databases with the same data: one migrated to 0001 (the peer: the
full-table ``ix_jobs_subject_id``, no partial index), one to the head, and one to the head
whose statistics the workers' check (``Inbox.analyze_if_stale``) refreshed after the burst,
as a worker does within seconds. Deliveries are
recorded through ``Inbox.record`` in batches of ``BATCH``, spread round-robin over the
scenario's subjects; the first ``done`` jobs are then marked done with one UPDATE, leaving
``queued`` jobs to claim. ``CLAIMS`` claim + complete cycles are then timed on each, in
``ROUNDS`` rounds that alternate between the variants, so that whatever else the machine
does weighs on both alike. The scenarios: many finished jobs over few subjects and over many
(what the partial indexes are for: finished jobs the claim no longer walks past), and no
finished job at all (the same burst with nothing to skip: there, without statistics,
PostgreSQL's plan rescans every unfinished job per candidate, quadratic in the queue, under
either schema; the analyze is what fixes it).

Run: `python -m bench claim` (needs `make setup`: PostgreSQL's binaries).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from tests.server.postgres import Cluster

from steward.server import db
from steward.server.deliveries import Incoming
from steward.server.inbox import Inbox

CLAIMS = 500
ROUNDS = 5  # rounds of CLAIMS // ROUNDS claims each, alternating between the schemas
BATCH = 1_000
LEASE = 60.0
SCENARIOS = (  # (done, queued, subjects)
    (20_000, 2_000, 10),
    (20_000, 2_000, 300),
    (0, 2_000, 10),
)
# (label, schema, whether the workers' `Inbox.analyze_if_stale` has run after the burst)
VARIANTS = (("0001", "0001", False), ("head", "head", False), ("head+analyze", "head", True))


def incoming(n: int, subjects: int) -> Incoming:
    return Incoming(
        hook_id="42",
        delivery_id=f"d-{n}",
        event="pull_request",
        action="opened",
        installation_id=7,
        repository="octo/app",
        sender="octocat",
        subject=f"octo/app#{n % subjects}",
        body=b'{"action": "opened"}',
        enqueue=True,
    )


@dataclass
class Measured:
    schema: str
    engine: Engine
    inbox: Inbox
    claims: int = 0
    seconds: float = 0.0
    rounds: list[float] = field(default_factory=list)  # ms per claim, each round

    @property
    def ms(self) -> float:
        return self.seconds / self.claims * 1000


def build(
    cluster: Cluster, schema: str, done: int, queued: int, subjects: int, analyze: bool
) -> Measured:
    engine = db.make_engine(cluster.create())
    db.migrate(engine, schema)
    with engine.begin() as conn:
        for table in ("jobs", "deliveries"):
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    inbox = Inbox(engine)
    total = done + queued
    for start in range(0, total, BATCH):
        batch = [incoming(n, subjects) for n in range(start, min(start + BATCH, total))]
        got = inbox.deliveries.record(batch)
        assert got == ["queued"] * len(got)
    if done:
        with engine.begin() as conn:
            conn.execute(update(db.jobs).where(db.jobs.c.id <= done).values(state="done"))
    counts = inbox.maintenance.counts()
    assert (counts["done"], counts["queued"]) == (done, queued), counts
    if analyze:  # what a worker does within ANALYZE_CHECK_SECONDS of the burst
        deadline = time.monotonic() + 30
        while not inbox.maintenance.analyze_if_stale():
            assert time.monotonic() < deadline, "the statistics never went stale"
            time.sleep(0.2)
    return Measured(schema, engine, inbox)


def run_round(m: Measured, claims: int) -> None:
    start = time.perf_counter()
    for _ in range(claims):
        job = m.inbox.jobs.claim("bench", LEASE)
        assert job is not None
        assert m.inbox.jobs.complete(job)
    seconds = time.perf_counter() - start
    m.claims += claims
    m.seconds += seconds
    m.rounds.append(seconds / claims * 1000)


def run(cluster: Cluster, done: int, queued: int, subjects: int) -> dict[str, Measured]:
    built = {
        label: build(cluster, schema, done, queued, subjects, analyze)
        for label, schema, analyze in VARIANTS
    }
    labels = [label for label, _, _ in VARIANTS]
    try:
        for n in range(ROUNDS):
            for label in labels if n % 2 == 0 else labels[::-1]:
                run_round(built[label], CLAIMS // ROUNDS)
    finally:
        for m in built.values():
            m.engine.dispose()
    return built


def main() -> None:
    print(
        f"{CLAIMS} claim + complete cycles per variant, in {ROUNDS} alternating rounds; fresh "
        "databases, autovacuum off on jobs and deliveries (no ANALYZE: right after a burst, "
        "unless the workers' analyze ran)\n"
    )
    head = (
        f"{'done':>7} {'queued':>7} {'subjects':>8} │ {'0001 ms':>8} {'head ms':>8} "
        f"{'+analyze':>8} │ {'0001/head':>9} {'0001/+analyze':>13} │ ms per claim, each round "
        "(0001 / head / +analyze)"
    )
    print(head)
    print("-" * len(head))
    with Cluster(fsync=False) as cluster:
        for done, queued, subjects in SCENARIOS:
            got = run(cluster, done, queued, subjects)
            old, new, fresh = got["0001"], got["head"], got["head+analyze"]
            each = "  ".join(
                f"{a:.1f}/{b:.1f}/{c:.1f}"
                for a, b, c in zip(old.rounds, new.rounds, fresh.rounds, strict=True)
            )
            print(
                f"{done:>7,} {queued:>7,} {subjects:>8} │ {old.ms:>8.2f} {new.ms:>8.2f} "
                f"{fresh.ms:>8.2f} │ {old.ms / new.ms:>8.2f}x {old.ms / fresh.ms:>12.2f}x │ {each}",
                flush=True,
            )


if __name__ == "__main__":
    main()
