"""The job queue: claims with leases, lease renewal, completion, retries, dead letters.

- `Jobs.claim` hands one job to one worker, for a lease. A job is ready when it is queued and
  due, or running with its lease expired (its worker died mid-job: it is run again, and the
  executor's read-before-write makes the second run write only what the first did not).
  Jobs with the same ``subject`` (one pull request, one issue) run one at a time, oldest
  first: a job waits while an older one of its subject is queued or running. On PostgreSQL
  the candidate row is locked ``FOR UPDATE SKIP LOCKED``, so workers on many machines never
  take the same job nor wait on each other; SQLite takes its one write lock.
- `Jobs.fail` schedules a retry with exponential backoff and full jitter, or moves the job
  to ``dead`` (keeping the last error) once its attempts are spent or the error is
  permanent. `complete`, `fail` and `extend` act only while the caller still holds the lease.
- `Jobs.dead` and `Jobs.retry` are the dead letters, for ``steward serve status`` and
  ``retry``.
- `Instances`: each process that runs workers registers an instance and beats; its workers'
  names start with the instance id, so the jobs of an instance that is gone (its heartbeat
  stale, its pid dead on this host, or a new start in its host/pid slot) are released at
  once (`Instances.reap`) instead of waiting out their lease.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    and_,
    delete,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from steward.server.db import aware, deliveries, instances, is_sqlite, jobs, utcnow

JobState = Literal["queued", "running", "done", "dead"]
STATES: tuple[JobState, ...] = ("queued", "running", "done", "dead")
ACTIVE: tuple[JobState, ...] = ("queued", "running")

RELEASED = datetime(2000, 1, 1, tzinfo=UTC)
"""The lease a released job is left with: long past on every clock, so the next claim
takes it."""

PROGRESS_ALLOWANCE = 4
"""A job's attempts can grow to this many times the configured ones, one per run that got
some writes through (`Jobs.fail`)."""


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    delivery_pk: int | None
    installation_id: int | None
    subject: str
    attempts: int
    """Attempts so far, this one included."""
    max_attempts: int
    worker: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits a random time up to
    ``base * 2**(n-1)``, capped, never less than half of it (so retries do spread out but
    never come back at once)."""

    base: float = 2.0
    cap: float = 3600.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        return float(ceiling / 2 + rng() * ceiling / 2)


def job_row(
    kind: str,
    subject: str,
    installation_id: int | None,
    now: datetime,
    *,
    max_attempts: int,
    delivery_pk: int | None = None,
) -> dict[str, Any]:
    """A new queued job, as a row of ``jobs``."""
    return {
        "kind": kind,
        "delivery_pk": delivery_pk,
        "installation_id": installation_id,
        "subject": subject,
        "state": "queued",
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": now,
        "created_at": now,
    }


class Jobs:
    def __init__(
        self,
        engine: Engine,
        *,
        max_attempts: int = 8,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.rng = rng
        self.sqlite = is_sqlite(engine)

    def claim(self, worker: str, lease_seconds: float) -> Job | None:
        """The oldest ready job whose subject has no older unfinished job, now ``worker``'s
        for ``lease_seconds``; ``None`` when there is nothing to do.

        A job whose worker died more often than its attempts allow is moved to ``dead`` here
        instead of being handed out again.
        """
        while True:
            now = self.clock()
            earlier = jobs.alias("earlier")
            blocked = (
                select(literal(1))
                .select_from(earlier)
                .where(
                    earlier.c.subject == jobs.c.subject,
                    earlier.c.id < jobs.c.id,
                    earlier.c.state.in_([_state(s) for s in ACTIVE]),
                )
                .exists()
            )
            ready = or_(
                and_(jobs.c.state == _state("queued"), jobs.c.run_after <= now),
                and_(jobs.c.state == _state("running"), jobs.c.lease_until < now),
            )
            candidate = select(jobs.c.id).where(ready, ~blocked).order_by(jobs.c.id).limit(1)
            if not self.sqlite:
                candidate = candidate.with_for_update(skip_locked=True)
            stmt = (
                update(jobs)
                .where(jobs.c.id == candidate.scalar_subquery())
                .values(
                    state="running",
                    attempts=jobs.c.attempts + 1,
                    lease_until=now + timedelta(seconds=lease_seconds),
                    worker=worker,
                    started_at=now,
                )
                .returning(
                    jobs.c.id,
                    jobs.c.kind,
                    jobs.c.delivery_pk,
                    jobs.c.installation_id,
                    jobs.c.subject,
                    jobs.c.attempts,
                    jobs.c.max_attempts,
                    jobs.c.created_at,
                    jobs.c.last_error,
                )
            )
            with self.engine.begin() as conn:
                row = conn.execute(stmt).first()
            if row is None:
                return None
            job = Job(
                id=row.id,
                kind=row.kind,
                delivery_pk=row.delivery_pk,
                installation_id=row.installation_id,
                subject=row.subject,
                attempts=row.attempts,
                max_attempts=row.max_attempts,
                worker=worker,
                created_at=aware(row.created_at) or now,
            )
            if job.attempts <= job.max_attempts:
                return job
            self.fail(job, _lease_expired_last(job, row.last_error), permanent=True)

    def _mine(self, job: Job) -> Any:
        return and_(jobs.c.id == job.id, jobs.c.worker == job.worker, jobs.c.state == "running")

    def extend(self, job: Job, lease_seconds: float) -> bool:
        """Keep the lease of a job still running; ``False`` if it is no longer ours."""
        until = self.clock() + timedelta(seconds=lease_seconds)
        with self.engine.begin() as conn:
            done = conn.execute(update(jobs).where(self._mine(job)).values(lease_until=until))
        return done.rowcount == 1

    def complete(self, job: Job) -> bool:
        """Mark ``job`` done; ``False`` if its lease was lost (another worker runs it)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(jobs)
                .where(self._mine(job))
                .values(state="done", finished_at=self.clock(), lease_until=None)
            )
        return done.rowcount == 1

    def fail(
        self, job: Job, error: str, *, permanent: bool = False, progressed: bool = False
    ) -> JobState | None:
        """Retry ``job`` later, or (attempts spent, or a ``permanent`` error) make it dead;
        the state it is left in, ``None`` if its lease was lost.

        A run that ``progressed`` (GitHub accepted some of its writes before one failed) gives
        its attempt back and is retried soon: the next run reads before it writes and resumes
        past those writes, so a long job (a release closing 40 issues) is not buried by a
        few transient faults spread over it. The attempts given back are capped at
        `PROGRESS_ALLOWANCE` times the configured attempts, so a job that keeps writing
        without ever finishing still ends in the dead letters.
        """
        now = self.clock()
        error = error[:4000]
        ceiling = self.max_attempts * PROGRESS_ALLOWANCE
        give_back = progressed and not permanent and job.max_attempts < ceiling
        if not give_back and (permanent or job.attempts >= job.max_attempts):
            state: JobState = "dead"
            values: dict[str, Any] = {
                "state": "dead",
                "last_error": error,
                "finished_at": now,
                "lease_until": None,
            }
        else:
            state = "queued"
            wait = self.backoff.delay(1 if give_back else job.attempts, self.rng)
            values = {
                "state": "queued",
                "last_error": error,
                "run_after": now + timedelta(seconds=wait),
                "lease_until": None,
                "worker": None,
            }
            if give_back:
                values["max_attempts"] = job.max_attempts + 1
        with self.engine.begin() as conn:
            done = conn.execute(update(jobs).where(self._mine(job)).values(**values))
        return state if done.rowcount == 1 else None

    def dead(self, limit: int = 100) -> list[dict[str, Any]]:
        """The dead jobs, newest first, with their last error and when they died."""
        stmt = (
            select(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.subject,
                jobs.c.installation_id,
                jobs.c.attempts,
                jobs.c.last_error,
                jobs.c.finished_at,
                deliveries.c.delivery_id,
                deliveries.c.event,
            )
            .select_from(jobs.outerjoin(deliveries, jobs.c.delivery_pk == deliveries.c.id))
            .where(jobs.c.state == "dead")
            .order_by(jobs.c.id.desc())
            .limit(limit)
        )
        with self.engine.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def retry(self, ids: Iterable[int] | None = None) -> int:
        """Queue dead jobs again (all of them, or ``ids``), with fresh attempts: the
        configured number, whatever earlier runs were given back (`fail`)."""
        cond = jobs.c.state == "dead"
        if ids is not None:
            cond = and_(cond, jobs.c.id.in_(list(ids)))
        with self.engine.begin() as conn:
            done = conn.execute(
                update(jobs)
                .where(cond)
                .values(
                    state="queued",
                    attempts=0,
                    max_attempts=self.max_attempts,
                    run_after=self.clock(),
                    finished_at=None,
                    worker=None,
                )
            )
        return int(done.rowcount)


def _state(name: JobState) -> Any:
    """A job state written into the SQL itself, not bound: a prepared claim must still match
    the partial indexes on unfinished jobs (``state IN ('queued', 'running')``), which a
    generic plan over a parameter cannot."""
    return literal(name, literal_execute=True)


def _lease_expired_last(job: Job, earlier: str | None) -> str:
    """Why a job whose last attempt was cut short is dead: that attempt, and the error of
    the one before (the lease expiry itself leaves none)."""
    spent = job.attempts - 1
    text = f"attempt {spent} of {job.max_attempts}, the last: its worker stopped mid-job"
    text += " (lease expired)"
    return f"{text}; the error before: {earlier}" if earlier else text


# -- worker instances ---------------------------------------------------------------------


def _alive_here(pid: int) -> bool:
    """Whether process ``pid`` of this host is running (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # unknown: leave it to the heartbeat
    return True


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    host: str
    pid: int

    @classmethod
    def new(cls) -> Instance:
        host, pid = socket.gethostname()[:100], os.getpid()
        return cls(f"{host}:{pid}:{secrets.token_hex(6)}", host, pid)

    def worker(self, index: int) -> str:
        """The name of the instance's worker ``index`` (``jobs.worker``)."""
        return f"{self.id}/{index}"


class Instances:
    """Worker processes and their heartbeats; the leases of those that are gone, released.

    An instance is gone when its heartbeat is older than ``dead_after`` seconds, when it
    ran on this host under a pid that no longer runs, or when a new instance starts in its
    host/pid slot (a container's pid 1 restarted). Its jobs still ``running`` get a lease
    long past (`RELEASED`): the next claim takes them, as it takes an expired lease, and
    counts the attempt the dead process spent.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        alive_here: Callable[[int], bool] = _alive_here,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.alive_here = alive_here
        self.host = socket.gethostname()[:100]

    def register(self, me: Instance) -> int:
        """Record ``me`` and release the jobs of the instances that are certainly gone (its
        host/pid slot, dead pids on this host); how many jobs were released."""
        now = self.clock()
        with self.engine.begin() as conn:
            gone = self._certainly_gone(conn, me)
            released = self._release(conn, gone)
            conn.execute(
                insert(instances).values(
                    id=me.id, host=me.host, pid=me.pid, started_at=now, heartbeat_at=now
                )
            )
        return released

    def beat(self, me: Instance) -> None:
        """``me`` is alive (recorded again if an instance took it for gone)."""
        now = self.clock()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(instances).where(instances.c.id == me.id).values(heartbeat_at=now)
            )
            if done.rowcount == 0:
                conn.execute(
                    insert(instances).values(
                        id=me.id, host=me.host, pid=me.pid, started_at=now, heartbeat_at=now
                    )
                )

    def reap(self, me: Instance, dead_after: float | None) -> int:
        """Release the jobs of every instance that is gone: dead pids on this host, and
        (``dead_after`` given) heartbeats older than that; how many jobs were released."""
        now = self.clock()
        with self.engine.begin() as conn:
            gone = self._certainly_gone(conn, me)
            if dead_after is not None:
                stale = now - timedelta(seconds=dead_after)
                gone |= set(
                    conn.execute(
                        select(instances.c.id).where(
                            instances.c.heartbeat_at < stale, instances.c.id != me.id
                        )
                    ).scalars()
                )
            return self._release(conn, gone)

    def forget(self, me: Instance) -> None:
        """``me`` stopped cleanly (its workers finished their jobs)."""
        with self.engine.begin() as conn:
            conn.execute(delete(instances).where(instances.c.id == me.id))

    def _certainly_gone(self, conn: Connection, me: Instance) -> set[str]:
        rows = conn.execute(
            select(instances.c.id, instances.c.pid).where(
                instances.c.host == self.host, instances.c.id != me.id
            )
        ).all()
        return {r.id for r in rows if r.pid == me.pid or not self.alive_here(r.pid)}

    def _release(self, conn: Connection, gone: set[str]) -> int:
        released = 0
        for instance in sorted(gone):
            done = conn.execute(
                update(jobs)
                .where(
                    jobs.c.state == _state("running"),
                    jobs.c.worker.startswith(f"{instance}/", autoescape=True),
                )
                .values(lease_until=RELEASED)
            )
            released += int(done.rowcount)
            conn.execute(delete(instances).where(instances.c.id == instance))
        return released
