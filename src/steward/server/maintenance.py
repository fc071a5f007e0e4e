"""Upkeep of the inbox: statistics, retention, health and counts.

`Maintenance.analyze_if_stale` has PostgreSQL's statistics of ``jobs`` refreshed after a
burst; `Maintenance.purge` deletes finished deliveries past their retention;
`Maintenance.ping` is ``/healthz``'s database check and `Maintenance.counts` the jobs per
state (``/metrics``, ``steward serve status``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func, literal, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from steward.github.sansio import one_line
from steward.server.db import deliveries, is_sqlite, jobs
from steward.server.jobs import ACTIVE, STATES

log = logging.getLogger(__name__)

ANALYZE_MIN_ROWS = 500
"""Rows of ``jobs`` changed since the last statistics that make
`Maintenance.analyze_if_stale` run ``ANALYZE`` (or a fifth of the table, when that is more)."""

_STALE = text(
    "SELECT s.n_mod_since_analyze AS changed, s.n_live_tup AS live, "
    "pg_has_role(c.relowner, 'USAGE') AS owner "
    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.relid = CAST(:table AS regclass)"
)
_ANALYZE_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('steward:analyze jobs'))")


class Maintenance:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self._can_analyze = True

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

    def counts(self) -> dict[str, int]:
        """Jobs per state (every state present, 0 when none)."""
        out: dict[str, int] = dict.fromkeys(STATES, 0)
        with self.engine.begin() as conn:
            for state, n in conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)):
                out[state] = int(n)
        return out

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

    def ping(self) -> None:
        with self.engine.connect() as conn:
            _ping(conn)


def _ping(conn: Connection) -> None:
    conn.execute(select(literal(1))).scalar_one()
    conn.rollback()
