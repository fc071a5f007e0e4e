"""The durable inbox: deliveries in, jobs claimed, retried, finished or dead.

Every operation is one short transaction on the tables of `db`:

- `Inbox.record` stores a batch of verified deliveries and their jobs (group commit: the
  intake's writer hands over every delivery waiting for the disk at once). A redelivery (the
  same ``X-GitHub-Delivery`` for the same hook) is answered ``duplicate`` and makes no job.
- `Inbox.claim` hands one job to one worker, for a lease. A job is ready when it is queued and
  due, or running with its lease expired (its worker died mid-job: it is run again, and the
  executor's read-before-write makes the second run write only what the first did not).
  Jobs with the same ``subject`` (one pull request, one issue) run one at a time, oldest
  first: a job waits while an older one of its subject is queued or running. On PostgreSQL
  the candidate row is locked ``FOR UPDATE SKIP LOCKED``, so workers on many machines never
  take the same job nor wait on each other; SQLite takes its one write lock.
- `Inbox.fail` schedules a retry with exponential backoff and full jitter, or moves the job
  to ``dead`` (keeping the last error) once its attempts are spent or the error is
  permanent. `complete`, `fail` and `extend` act only while the caller still holds the lease.
- `Inbox.enqueue_due` turns due schedules (each installation's sweep) into jobs, for the same
  workers.
"""

from __future__ import annotations

import logging
import pickle
import random
import socket
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import lz4.block  # type: ignore[import-untyped]
from sqlalchemy import and_, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from steward.errors import PayloadError
from steward.github.sansio import one_line
from steward.server.db import aware, deliveries, is_sqlite, jobs, schedules, utcnow

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "dead"]
STATES: tuple[JobState, ...] = ("queued", "running", "done", "dead")
ACTIVE: tuple[JobState, ...] = ("queued", "running")
Recorded = Literal["queued", "recorded", "duplicate"]
"""``queued``: stored with a job; ``recorded``: stored, nothing to do (an event no policy
handles); ``duplicate``: a redelivery, already stored."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified delivery, as the intake stores it."""

    hook_id: str
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    sender: str | None
    subject: str
    """Jobs of one subject run in order (``OWNER/NAME#N`` for a pull request or issue)."""
    body: bytes
    enqueue: bool
    """Whether the delivery needs processing (else it is only recorded)."""
    received_at: datetime | None = None
    body_encoding: str | None = None
    """``None``: ``body`` is the payload as sent; else it is stored form already
    (`encode_body`), as the intake hands it to its writer process."""

    def wire(self) -> tuple[Any, ...]:
        """The fields in order, the body in its stored form, as the intake hands them to its
        writer process: compressed there, so a payload crosses the socket at an eighth of
        its size; a tuple, which pickles some fifty times faster than a slotted dataclass."""
        encoding, body = (
            encode_body(self.body)
            if self.body_encoding is None
            else (self.body_encoding, self.body)
        )
        return (
            self.hook_id,
            self.delivery_id,
            self.event,
            self.action,
            self.installation_id,
            self.repository,
            self.sender,
            self.subject,
            body,
            self.enqueue,
            self.received_at,
            encoding,
        )


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
class StoredDelivery:
    pk: int
    hook_id: str
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    received_at: datetime
    body: bytes


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


ANALYZE_MIN_ROWS = 500
"""Rows of ``jobs`` changed since the last statistics that make `Inbox.analyze_if_stale`
run ``ANALYZE`` (or a fifth of the table, when that is more)."""

_STALE = text(
    "SELECT s.n_mod_since_analyze AS changed, s.n_live_tup AS live, "
    "pg_has_role(c.relowner, 'USAGE') AS owner "
    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.relid = CAST(:table AS regclass)"
)
_ANALYZE_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('steward:analyze jobs'))")

PROGRESS_ALLOWANCE = 4
"""A job's attempts can grow to this many times the configured ones, one per run that got
some writes through (`Inbox.fail`)."""

_ROWS_PER_INSERT = 100  # 900 parameters: well under SQLite's limit
_DELIVERY_COLUMNS = (
    "hook_id",
    "delivery_id",
    "event",
    "action",
    "installation_id",
    "repository",
    "sender",
    "received_at",
    "body_encoding",
    "body",
)
_RETURNING = "id, hook_id, delivery_id"
_JOB_COLUMNS = (
    "kind",
    "delivery_pk",
    "installation_id",
    "subject",
    "state",
    "attempts",
    "max_attempts",
    "run_after",
    "created_at",
)


COMPRESS_FROM = 1024  # bytes: smaller payloads are stored as they came


def encode_body(body: bytes) -> tuple[str, bytes]:
    """How a payload is stored: LZ4 cuts GitHub's JSON about eight times (a 24 KB pull
    request event to 3 KB, in some 5 us), so the inbox writes, syncs and checkpoints an
    eighth of the bytes, and a row fits in one page."""
    if len(body) < COMPRESS_FROM:
        return "identity", body
    return "lz4", bytes(lz4.block.compress(body))


def decode_body(encoding: str, stored: bytes) -> bytes:
    if encoding == "lz4":
        return bytes(lz4.block.decompress(stored))
    if encoding == "identity":
        return stored
    raise PayloadError(f"stored payload has an unknown encoding {encoding!r}")


class Inbox:
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
        self._can_analyze = True

    # -- intake ---------------------------------------------------------------------------
    #
    # The intake's one statement is written out for the driver (both back ends take the
    # same SQL, only the placeholder differs): built once per batch size, with no per-row
    # work in between, it costs a fraction of what the same insert does through the SQL
    # expression language. The tables are `db`'s; a test holds the two in step.

    def _stamp(self, value: datetime) -> Any:
        """A time as the driver takes it: SQLite stores SQLAlchemy's text form, in UTC."""
        if not self.sqlite:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def _insert_deliveries(self, n: int) -> str:
        mark = "?" if self.sqlite else "%s"
        row = "(" + ", ".join([mark] * len(_DELIVERY_COLUMNS)) + ")"
        columns, values = ", ".join(_DELIVERY_COLUMNS), ", ".join([row] * n)
        # Constants and placeholders only: every value goes in as a parameter.
        head = f"INSERT INTO deliveries ({columns}) VALUES {values}"  # noqa: S608
        return f"{head} ON CONFLICT (hook_id, delivery_id) DO NOTHING RETURNING {_RETURNING}"

    def _insert_jobs(self) -> str:
        mark = "?" if self.sqlite else "%s"
        columns, values = ", ".join(_JOB_COLUMNS), ", ".join([mark] * len(_JOB_COLUMNS))
        return f"INSERT INTO jobs ({columns}) VALUES ({values})"  # noqa: S608

    def record(self, items: Sequence[Incoming]) -> list[Recorded]:
        """Store ``items`` in one transaction; what became of each, in order."""
        if not items:
            return []
        now = self.clock()
        first: dict[tuple[str, str], int] = {}
        for i, item in enumerate(items):
            first.setdefault((item.hook_id, item.delivery_id), i)
        unique = [items[i] for i in sorted(first.values())]
        stamp = self._stamp
        at = stamp(now)  # one formatting for the batch: most deliveries are received now
        with self.engine.begin() as conn:
            new: dict[tuple[str, str], int] = {}
            for start in range(0, len(unique), _ROWS_PER_INSERT):
                chunk = unique[start : start + _ROWS_PER_INSERT]
                params: list[Any] = []
                for it in chunk:
                    params += (
                        it.hook_id,
                        it.delivery_id,
                        it.event,
                        it.action,
                        it.installation_id,
                        it.repository,
                        it.sender,
                        at if it.received_at is None else stamp(it.received_at),
                        *(
                            encode_body(it.body)
                            if it.body_encoding is None
                            else (it.body_encoding, it.body)
                        ),
                    )
                sql = self._insert_deliveries(len(chunk))
                for pk, hook, guid in conn.exec_driver_sql(sql, tuple(params)):
                    new[(hook, guid)] = pk
            job_rows = [
                (
                    "event",
                    new[key],
                    it.installation_id,
                    it.subject,
                    "queued",
                    0,
                    self.max_attempts,
                    at,
                    at,
                )
                for it in unique
                if it.enqueue and (key := (it.hook_id, it.delivery_id)) in new
            ]
            if job_rows:
                conn.exec_driver_sql(self._insert_jobs(), job_rows)
        out: list[Recorded] = []
        for i, item in enumerate(items):
            key = (item.hook_id, item.delivery_id)
            if first[key] != i or key not in new:
                out.append("duplicate")
            else:
                out.append("queued" if item.enqueue else "recorded")
        return out

    def _job_row(
        self,
        kind: str,
        subject: str,
        installation_id: int | None,
        now: datetime,
        delivery_pk: int | None = None,
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "delivery_pk": delivery_pk,
            "installation_id": installation_id,
            "subject": subject,
            "state": "queued",
            "attempts": 0,
            "max_attempts": self.max_attempts,
            "run_after": now,
            "created_at": now,
        }

    # -- workers --------------------------------------------------------------------------

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

    def delivery(self, pk: int) -> StoredDelivery | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == pk)).first()
        if row is None:
            return None
        return StoredDelivery(
            pk=row.id,
            hook_id=row.hook_id,
            delivery_id=row.delivery_id,
            event=row.event,
            action=row.action,
            installation_id=row.installation_id,
            repository=row.repository,
            received_at=aware(row.received_at) or self.clock(),
            body=decode_body(row.body_encoding, bytes(row.body)),
        )

    # -- schedules ------------------------------------------------------------------------

    def ensure_schedule(self, installation_id: int, interval_seconds: int) -> bool:
        """Sweep ``installation_id`` every ``interval_seconds``; the first run falls at a
        random time within the first interval (at most an hour), so installations seen
        together are not all swept together. ``True`` if the schedule is new."""
        now = self.clock()
        first = now + timedelta(seconds=self.rng() * min(interval_seconds, 3600))
        ins = (sqlite_insert if self.sqlite else pg_insert)(schedules)
        stmt = ins.values(
            installation_id=installation_id,
            kind="sweep",
            interval_seconds=interval_seconds,
            next_run_at=first,
        ).on_conflict_do_nothing(index_elements=[schedules.c.installation_id, schedules.c.kind])
        with self.engine.begin() as conn:
            made = conn.execute(stmt.returning(schedules.c.id)).first()
        return made is not None

    def drop_schedules(self, installation_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(schedules).where(schedules.c.installation_id == installation_id))

    def analyze_if_stale(self) -> bool:
        """On PostgreSQL, ``ANALYZE jobs`` when many rows changed since its statistics were
        taken (`ANALYZE_MIN_ROWS`, or a fifth of the table); whether it ran.

        Right after a burst on a fresh or quiet database, the claim query is planned without
        statistics, and PostgreSQL's guess can be quadratic in the queue (50 ms a claim with
        2,000 jobs queued, 1.7 ms once analysed; `python -m bench claim`). Autovacuum gets
        there within a minute or so; the workers check every few seconds.
        """
        if self.sqlite or not self._can_analyze:
            return False
        try:
            with self.engine.begin() as conn:
                row = conn.execute(_STALE, {"table": jobs.name}).first()
                if row is None or row.changed < max(ANALYZE_MIN_ROWS, row.live // 5):
                    return False
                if not row.owner:  # PostgreSQL would skip the table with a mere warning
                    self._can_analyze = False
                    log.warning("the jobs table is not this role's to analyze: left to autovacuum")
                    return False
                # One worker at a time (the others would queue behind its lock and redo it),
                # and never stuck behind a lock someone else holds on the table.
                if not conn.execute(_ANALYZE_LOCK).scalar():
                    return False
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                conn.execute(text(f"ANALYZE {jobs.name}"))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient privilege
                self._can_analyze = False
            log.warning("cannot analyze the jobs table now: %s", one_line(str(exc.orig), 200))
            return False
        return True

    def enqueue_due(self, limit: int = 100) -> int:
        """A sweep job for each due schedule (unless one is still waiting); the schedules move
        on by their interval. Any worker may call it: on PostgreSQL a schedule row is taken
        by one caller (SKIP LOCKED), so a sweep is queued once."""
        now = self.clock()
        due = (
            select(schedules.c.id, schedules.c.installation_id, schedules.c.interval_seconds)
            .where(schedules.c.next_run_at <= now)
            .order_by(schedules.c.next_run_at)
            .limit(limit)
        )
        if not self.sqlite:
            due = due.with_for_update(skip_locked=True)
        made = 0
        with self.engine.begin() as conn:
            for sid, inst, interval in conn.execute(due).all():
                subject = f"sweep:{inst}"
                waiting = conn.execute(
                    select(literal(1)).where(jobs.c.subject == subject, jobs.c.state.in_(ACTIVE))
                ).first()
                if waiting is None:
                    conn.execute(insert(jobs), [self._job_row("sweep", subject, inst, now)])
                    made += 1
                conn.execute(
                    update(schedules)
                    .where(schedules.c.id == sid)
                    .values(next_run_at=now + timedelta(seconds=interval), last_run_at=now)
                )
        return made

    # -- operations -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Jobs per state (every state present, 0 when none)."""
        out: dict[str, int] = dict.fromkeys(STATES, 0)
        with self.engine.begin() as conn:
            for state, n in conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)):
                out[state] = int(n)
        return out

    def dead(self, limit: int = 100) -> list[dict[str, Any]]:
        """The dead jobs, newest first, with their last error."""
        stmt = (
            select(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.subject,
                jobs.c.attempts,
                jobs.c.last_error,
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

    def purge(self, before: datetime) -> int:
        """Delete deliveries received before ``before`` whose jobs are all finished (and
        finished jobs of their own, such as sweeps); how many deliveries went."""
        unfinished = (
            select(literal(1))
            .where(jobs.c.delivery_pk == deliveries.c.id, jobs.c.state.in_(ACTIVE))
            .exists()
        )
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(deliveries).where(deliveries.c.received_at < before, ~unfinished)
            )
            conn.execute(
                delete(jobs).where(
                    jobs.c.delivery_pk.is_(None),
                    jobs.c.state.in_(("done", "dead")),
                    jobs.c.finished_at < before,
                )
            )
        return int(gone.rowcount)

    def known(self, delivery_id: str) -> bool:
        """Whether the inbox holds the delivery ``X-GitHub-Delivery: delivery_id`` (from any
        hook): `steward serve reconcile` asks before requesting a redelivery."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(literal(1)).where(deliveries.c.delivery_id == delivery_id).limit(1)
            ).first()
        return row is not None

    def ping(self) -> None:
        with self.engine.connect() as conn:
            _ping(conn)


def _ping(conn: Connection) -> None:
    conn.execute(select(literal(1))).scalar_one()
    conn.rollback()


# -- the intake's writer process (`steward.server.app.Writer`) --------------------------------

FRAME = struct.Struct("!I")
"""A frame's length, before each pickled frame on the writer's socket."""


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


def writer_main(sock: socket.socket, database_url: str, max_attempts: int) -> None:
    """The writer process: frames in, one transaction for all that are waiting, answers out
    in the same order. Ends when the intake closes its end."""
    import signal

    from steward.server.db import make_engine

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's shutdown closes the socket
    engine = make_engine(database_url, pool_size=1)
    inbox = Inbox(engine, max_attempts=max_attempts)
    checkpoint = _Checkpoints(engine) if inbox.sqlite else None
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
                results = inbox.record(items)
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
