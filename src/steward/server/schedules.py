"""Schedules: each installation's sweep and survey, turned into jobs when due.

`Schedules.ensure` keeps an installation's job of a kind (`KINDS`: the ``sweep``, and the
``survey`` that feeds the maintainers' page) scheduled, one per (installation, kind), its
first run at a random time within the first interval, or at once when asked (a new
installation's survey: its page is empty until then); `Schedules.drop` forgets an
uninstalled App's, and `Schedules.enqueue_due` turns the due schedules into jobs (subject
``KIND:INSTALLATION``) for the same workers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from steward.server.db import is_sqlite, jobs, schedules, utcnow
from steward.server.jobs import ACTIVE, job_row

KINDS = ("sweep", "survey")


class Schedules:
    def __init__(
        self,
        engine: Engine,
        *,
        max_attempts: int = 8,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        """The attempts of the jobs `enqueue_due` makes."""
        self.clock = clock
        self.rng = rng
        self.sqlite = is_sqlite(engine)

    def ensure(
        self,
        installation_id: int,
        interval_seconds: int,
        kind: str = "sweep",
        *,
        first_now: bool = False,
    ) -> bool:
        """Run ``kind`` (`KINDS`) for ``installation_id`` every ``interval_seconds``; the
        first run falls at a random time within the first interval (at most an hour), so
        installations seen together are not all swept together, or with ``first_now`` at
        once. ``True`` if the schedule is new (an existing one is left as it is)."""
        if kind not in KINDS:
            raise ValueError(f"no scheduled job of kind {kind!r}")
        now = self.clock()
        spread = 0.0 if first_now else self.rng() * min(interval_seconds, 3600)
        first = now + timedelta(seconds=spread)
        ins = (sqlite_insert if self.sqlite else pg_insert)(schedules)
        stmt = ins.values(
            installation_id=installation_id,
            kind=kind,
            interval_seconds=interval_seconds,
            next_run_at=first,
        ).on_conflict_do_nothing(index_elements=[schedules.c.installation_id, schedules.c.kind])
        with self.engine.begin() as conn:
            made = conn.execute(stmt.returning(schedules.c.id)).first()
        return made is not None

    def backfill(self, kind: str, interval_seconds: int, like: str = "sweep") -> int:
        """Schedule ``kind`` for each installation that has a ``like`` schedule and none of
        ``kind`` (first runs spread as in `ensure`): installations a server knew before
        ``kind`` existed get one without waiting for their next delivery. How many were
        made; at most 1,000 a call."""
        theirs = schedules.alias("theirs")
        missing = (
            select(schedules.c.installation_id)
            .where(
                schedules.c.kind == like,
                ~select(literal(1))
                .where(
                    theirs.c.installation_id == schedules.c.installation_id,
                    theirs.c.kind == kind,
                )
                .exists(),
            )
            .limit(1000)
        )
        with self.engine.connect() as conn:
            installations = [row[0] for row in conn.execute(missing)]
        return sum(self.ensure(i, interval_seconds, kind) for i in installations)

    def drop_kind(self, kind: str) -> int:
        """Forget every schedule of ``kind`` (the survey, turned off); how many went."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(schedules).where(schedules.c.kind == kind))
        return int(gone.rowcount)

    def drop(self, installation_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(schedules).where(schedules.c.installation_id == installation_id))

    def enqueue_due(self, limit: int = 100) -> int:
        """A job for each due schedule (unless one of its kind is still waiting for the
        installation); the schedules move on by their interval. Any worker may call it: on
        PostgreSQL a schedule row is taken by one caller (SKIP LOCKED), so a job is queued
        once."""
        now = self.clock()
        due = (
            select(
                schedules.c.id,
                schedules.c.installation_id,
                schedules.c.kind,
                schedules.c.interval_seconds,
            )
            .where(schedules.c.next_run_at <= now)
            .order_by(schedules.c.next_run_at)
            .limit(limit)
        )
        if not self.sqlite:
            due = due.with_for_update(skip_locked=True)
        made = 0
        with self.engine.begin() as conn:
            for sid, inst, kind, interval in conn.execute(due).all():
                subject = f"{kind}:{inst}"
                waiting = conn.execute(
                    select(literal(1)).where(jobs.c.subject == subject, jobs.c.state.in_(ACTIVE))
                ).first()
                if waiting is None:
                    row = job_row(kind, subject, inst, now, max_attempts=self.max_attempts)
                    conn.execute(insert(jobs), [row])
                    made += 1
                conn.execute(
                    update(schedules)
                    .where(schedules.c.id == sid)
                    .values(next_run_at=now + timedelta(seconds=interval), last_run_at=now)
                )
        return made
