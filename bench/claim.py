"""The cost of a claim on PostgreSQL, before and after the partial indexes on unfinished jobs.

A worker takes its next job with ``Inbox.claim``: the oldest ready job whose subject has no
older unfinished job. Migration 0002 replaced the index over every job's ``(subject, id)``
with two partial indexes over the queued and running jobs only (``ix_jobs_active_id`` and
``ix_jobs_active_subject_id``), so that a claim costs what is in flight, not what is done.
This measures that claim, with its ``complete``, on a real PostgreSQL (a throwaway cluster,
``fsync`` off: the writes are not what is measured), in the state right after a burst: a
fresh database whose ``jobs`` and ``deliveries`` tables never saw an ANALYZE (autovacuum is
off on both), so the planner works from its defaults, not from statistics.

Each scenario builds two databases with the same data: one migrated to 0001 (the peer: the
full-table ``ix_jobs_subject_id``, no partial index) and one to the head. Deliveries are
recorded through ``Inbox.record`` in batches of ``BATCH``, spread round-robin over the
scenario's subjects; the first ``done`` jobs are then marked done with one UPDATE, leaving
``queued`` jobs to claim. ``CLAIMS`` claim + complete cycles are then timed on each, in
``ROUNDS`` rounds that alternate between the two schemas, so that whatever else the machine
does weighs on both alike. The scenarios: many finished jobs over few subjects and over many
(what the partial indexes are for: finished jobs the claim no longer walks past), and no
finished job at all (the same burst with nothing to skip, where the head has no edge to win).

Run: `python -m bench claim` (needs `make setup`: PostgreSQL's binaries).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from tests.server.postgres import Cluster

from steward.server import db
from steward.server.inbox import Inbox, Incoming

CLAIMS = 500
ROUNDS = 5  # rounds of CLAIMS // ROUNDS claims each, alternating between the schemas
BATCH = 1_000
LEASE = 60.0
SCENARIOS = (  # (done, queued, subjects)
    (20_000, 2_000, 10),
    (20_000, 2_000, 300),
    (0, 2_000, 10),
)
SCHEMAS = ("0001", "head")


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


def build(cluster: Cluster, schema: str, done: int, queued: int, subjects: int) -> Measured:
    engine = db.make_engine(cluster.create())
    db.migrate(engine, schema)
    with engine.begin() as conn:
        for table in ("jobs", "deliveries"):
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    inbox = Inbox(engine)
    total = done + queued
    for start in range(0, total, BATCH):
        got = inbox.record([incoming(n, subjects) for n in range(start, min(start + BATCH, total))])
        assert got == ["queued"] * len(got)
    if done:
        with engine.begin() as conn:
            conn.execute(update(db.jobs).where(db.jobs.c.id <= done).values(state="done"))
    counts = inbox.counts()
    assert (counts["done"], counts["queued"]) == (done, queued), counts
    return Measured(schema, engine, inbox)


def run_round(m: Measured, claims: int) -> None:
    start = time.perf_counter()
    for _ in range(claims):
        job = m.inbox.claim("bench", LEASE)
        assert job is not None
        assert m.inbox.complete(job)
    seconds = time.perf_counter() - start
    m.claims += claims
    m.seconds += seconds
    m.rounds.append(seconds / claims * 1000)


def run(cluster: Cluster, done: int, queued: int, subjects: int) -> dict[str, Measured]:
    built = {schema: build(cluster, schema, done, queued, subjects) for schema in SCHEMAS}
    try:
        for n in range(ROUNDS):
            order = SCHEMAS if n % 2 == 0 else SCHEMAS[::-1]
            for schema in order:
                run_round(built[schema], CLAIMS // ROUNDS)
    finally:
        for m in built.values():
            m.engine.dispose()
    return built


def main() -> None:
    print(
        f"{CLAIMS} claim + complete cycles per schema, in {ROUNDS} alternating rounds; fresh "
        "databases, autovacuum off on jobs and deliveries (no ANALYZE: right after a burst)\n"
    )
    head = (
        f"{'done':>7} {'queued':>7} {'subjects':>8} │ {'0001 ms':>8} {'head ms':>8} "
        f"{'0001/head':>9} {'head ahead':>10} │ {'ms per claim, each round: 0001 / head'}"
    )
    print(head)
    print("-" * len(head))
    with Cluster(fsync=False) as cluster:
        for done, queued, subjects in SCENARIOS:
            got = run(cluster, done, queued, subjects)
            old, new = got["0001"], got["head"]
            wins = sum(a > b for a, b in zip(old.rounds, new.rounds, strict=True))
            each = "  ".join(
                f"{a:.2f}/{b:.2f}" for a, b in zip(old.rounds, new.rounds, strict=True)
            )
            print(
                f"{done:>7,} {queued:>7,} {subjects:>8} │ {old.ms:>8.2f} {new.ms:>8.2f} "
                f"{old.ms / new.ms:>8.2f}x {f'{wins} of {ROUNDS}':>10} │ {each}",
                flush=True,
            )


if __name__ == "__main__":
    main()
