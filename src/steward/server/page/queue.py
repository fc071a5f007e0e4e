"""What the Queue view shows, read from the inbox in a few bounded queries.

Per hour of the last `HOURS` hours: deliveries received (``deliveries.received_at``), jobs
done and jobs dead (``jobs.finished_at``), and jobs retried: a job whose latest attempt was
not its first, counted once, in the hour that attempt started (``jobs.started_at``; the
table keeps no history of attempts, so a job tried five times in one hour counts once).
The hour is cut in SQL (``date_trunc`` on PostgreSQL, ``strftime`` on SQLite), so a busy
day is 24 rows per series, not a row per delivery. Deliveries purged after their retention
(`Maintenance.purge`) no longer count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.engine import Engine

from steward.server.db import aware, deliveries, is_sqlite, jobs, utcnow
from steward.server.jobs import Jobs
from steward.server.maintenance import Maintenance

HOURS = 24
DEAD_SHOWN = 50
ERROR_SHOWN = 500
SERIES = ("received", "done", "retried", "dead")


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class Waiting:
    id: int
    kind: str
    subject: str
    installation_id: int | None
    created_at: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    kind: str
    subject: str
    installation_id: int | None
    event: str | None
    delivery_id: str | None
    attempts: int
    finished_at: datetime | None
    last_error: str


@dataclass(frozen=True, slots=True)
class QueueView:
    now: datetime
    states: dict[str, int]
    hours: list[Hour]
    oldest: Waiting | None
    dead: list[DeadLetter]

    @property
    def totals(self) -> dict[str, int]:
        return {s: sum(h.counts[s] for h in self.hours) for s in SERIES}


def read_queue(engine: Engine, now: datetime | None = None) -> QueueView:
    now = now or utcnow()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    buckets = {first + timedelta(hours=k): dict.fromkeys(SERIES, 0) for k in range(HOURS)}
    sqlite = is_sqlite(engine)
    with engine.connect() as conn:
        for series, column, where in (
            ("received", deliveries.c.received_at, None),
            ("done", jobs.c.finished_at, jobs.c.state == "done"),
            ("dead", jobs.c.finished_at, jobs.c.state == "dead"),
            ("retried", jobs.c.started_at, jobs.c.attempts > 1),
        ):
            hour = _hour(column, sqlite)
            cond: ColumnElement[bool] = column >= first
            if where is not None:
                cond = and_(cond, where)
            stmt = select(hour.label("hour"), func.count().label("n")).where(cond).group_by(hour)
            for row in conn.execute(stmt):
                start = _parse_hour(row.hour)
                if start in buckets:
                    buckets[start][series] += int(row.n)
        oldest_row = conn.execute(
            select(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.subject,
                jobs.c.installation_id,
                jobs.c.created_at,
                jobs.c.attempts,
                jobs.c.last_error,
            )
            .where(jobs.c.state == "queued")
            .order_by(jobs.c.created_at, jobs.c.id)
            .limit(1)
        ).first()
        conn.rollback()
    oldest = None
    if oldest_row is not None:
        oldest = Waiting(
            id=oldest_row.id,
            kind=oldest_row.kind,
            subject=oldest_row.subject,
            installation_id=oldest_row.installation_id,
            created_at=aware(oldest_row.created_at) or now,
            attempts=oldest_row.attempts,
            last_error=_cut(oldest_row.last_error),
        )
    dead = [
        DeadLetter(
            id=r["id"],
            kind=r["kind"],
            subject=r["subject"],
            installation_id=r["installation_id"],
            event=r["event"],
            delivery_id=r["delivery_id"],
            attempts=r["attempts"],
            finished_at=aware(r["finished_at"]),
            last_error=_cut(r["last_error"]) or "(no error recorded)",
        )
        for r in Jobs(engine).dead(DEAD_SHOWN)
    ]
    return QueueView(
        now=now,
        states=Maintenance(engine).counts(),
        hours=[Hour(start, counts) for start, counts in buckets.items()],
        oldest=oldest,
        dead=dead,
    )


def owner(
    subject: str, installation_id: int | None, accounts: Mapping[int, str | None]
) -> str | None:
    """The account a job belongs to: the owner in its subject (``OWNER/NAME#N``,
    ``OWNER/NAME!release``), else its installation's account as the surveys know it."""
    if ":" not in subject and "/" in subject:
        return subject.split("/", 1)[0]
    return accounts.get(installation_id) if installation_id is not None else None


def job_of(engine: Engine, job: int) -> tuple[str, int | None] | None:
    """A job's subject and installation (``None``: no such job)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(jobs.c.subject, jobs.c.installation_id).where(jobs.c.id == job)
        ).first()
    return (row.subject, row.installation_id) if row is not None else None


def _hour(column: Any, sqlite: bool) -> Any:
    if sqlite:
        return func.strftime("%Y-%m-%d %H:00:00", column)
    # In UTC whatever the session's time zone (a +05:30 zone would cut other hours).
    return func.date_trunc("hour", func.timezone("UTC", column))


def _parse_hour(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return aware(parsed) or parsed


def _cut(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= ERROR_SHOWN else text[: ERROR_SHOWN - 1] + "…"
