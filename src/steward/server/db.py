"""The server's database: every table, the engine, and the Alembic migrations that make it.

One schema for both back ends:

- **SQLite** (the default, ``sqlite:///steward-server.db``): one file, WAL, every commit
  synced (``synchronous=FULL``), for one machine. SQLite has no row locks, so every write
  transaction is ``BEGIN IMMEDIATE``: writers queue on the file lock (``busy_timeout``)
  instead of failing half way.
- **PostgreSQL** (``postgresql://...``, driver psycopg 3): worker processes on any number of
  machines claim jobs with ``FOR UPDATE SKIP LOCKED`` (the pattern of procrastinate, Oban and
  good_job), so no job is handed out twice and no claim waits on another.

Tables: ``deliveries`` (the inbox: every accepted webhook, raw), ``jobs`` (work for the
workers: one per delivery to process, and the scheduled sweeps and surveys), ``schedules``
(the sweep and the survey of each installation), ``surveys`` and ``survey_budgets`` (what
the maintainers' page shows, `surveys`), and two caches the GitHub side stores through
protocols (`stores`): ``etags`` and ``repo_configs``. The schema is made and changed only by
the migrations in ``steward/server/migrations`` (`migrate`); `metadata` mirrors them, and a
test holds the two equal on both back ends.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from steward.errors import ConfigError

log = logging.getLogger(__name__)

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")
Time = DateTime(timezone=True)

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # GitHub's X-GitHub-Hook-ID ('' when absent) and X-GitHub-Delivery. A delivery id seen
    # before is a duplicate whatever the (unsigned) hook id says; the hook id is kept for
    # the record (`deliveries.Deliveries.record`).
    Column("hook_id", String(32), nullable=False),
    Column("delivery_id", String(100), nullable=False),
    Column("event", String(100), nullable=False),
    Column("action", String(100), nullable=True),
    Column("installation_id", BigInteger, nullable=True),
    Column("repository", String(200), nullable=True),
    Column("sender", String(140), nullable=True),
    Column("received_at", Time, nullable=False),
    # The payload as GitHub sent it (JSON), compressed when ``body_encoding`` is "lz4".
    Column("body_encoding", String(16), nullable=False),
    Column("body", LargeBinary, nullable=False),
    UniqueConstraint("hook_id", "delivery_id", name="uq_deliveries_hook_delivery"),
)
Index("ix_deliveries_received_at", deliveries.c.received_at)
Index("ix_deliveries_delivery_id", deliveries.c.delivery_id)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # "event" | "sweep" | "survey"
    Column(
        "delivery_pk",
        Id,
        ForeignKey("deliveries.id", ondelete="CASCADE", name="fk_jobs_delivery"),
        nullable=True,
    ),
    Column("installation_id", BigInteger, nullable=True),
    # Jobs with the same subject run one at a time, in id order (one PR, one issue).
    Column("subject", String(300), nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | dead
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", Time, nullable=False),
    Column("lease_until", Time, nullable=True),
    Column("worker", String(200), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Time, nullable=False),
    Column("started_at", Time, nullable=True),
    Column("finished_at", Time, nullable=True),
)
Index("ix_jobs_state_run_after", jobs.c.state, jobs.c.run_after)
# The claim's: only unfinished jobs (migration 0002 says why).
_ACTIVE = text("state IN ('queued', 'running')")
Index("ix_jobs_active_id", jobs.c.id, postgresql_where=_ACTIVE, sqlite_where=_ACTIVE)
Index(
    "ix_jobs_active_subject_id",
    jobs.c.subject,
    jobs.c.id,
    postgresql_where=_ACTIVE,
    sqlite_where=_ACTIVE,
)
Index("ix_jobs_delivery_pk", jobs.c.delivery_pk)

instances = Table(
    "instances",
    metadata,
    # HOST:PID:RANDOM; a worker of the instance is named ``ID/N`` (``jobs.worker``).
    Column("id", String(160), primary_key=True),
    Column("host", String(100), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Time, nullable=False),
    Column("heartbeat_at", Time, nullable=False),
)
"""One row per live process that runs workers (migration 0003): a restart releases the
leases of the instances that are gone (`jobs`)."""

schedules = Table(
    "schedules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # "sweep" | "survey"
    Column("interval_seconds", Integer, nullable=False),
    Column("next_run_at", Time, nullable=False),
    Column("last_run_at", Time, nullable=True),
    UniqueConstraint("installation_id", "kind", name="uq_schedules_installation_kind"),
)
Index("ix_schedules_next_run_at", schedules.c.next_run_at)

etags = Table(
    "etags",
    metadata,
    Column("key", String(1000), primary_key=True),
    Column("etag", String(300), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("updated_at", Time, nullable=False),
)

repo_configs = Table(
    "repo_configs",
    metadata,
    Column("installation_id", BigInteger, primary_key=True, autoincrement=False),
    Column("full_name", String(200), primary_key=True),
    Column("sha", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("fetched_at", Time, nullable=False),
)

surveys = Table(
    "surveys",
    metadata,
    Column("installation_id", BigInteger, primary_key=True, autoincrement=False),
    Column("repository", String(200), primary_key=True),
    Column("taken_at", Time, nullable=False),
    Column("body", Text, nullable=False),  # JSON (`surveys.RepositorySurvey.to_json`)
)
"""The last survey of each repository (migration 0004), for the maintainers' page."""

survey_budgets = Table(
    "survey_budgets",
    metadata,
    Column("installation_id", BigInteger, primary_key=True, autoincrement=False),
    Column("taken_at", Time, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("reads", Integer, nullable=False),
    Column("not_modified", Integer, nullable=False),
    Column("rate_resource", String(40), nullable=True),
    Column("rate_limit", Integer, nullable=True),
    Column("rate_remaining", Integer, nullable=True),
    Column("rate_reset_at", Time, nullable=True),
)
"""What each installation's last survey cost, and the rate limit it saw (migration 0004)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A time read back from the database, in UTC (SQLite returns naive values)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- engine -----------------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3; anything but SQLite and
    PostgreSQL is refused (the claim protocol is written for those two)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database URL is not a URL: {_safe(url)}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in {"postgres", "postgresql"}:
        if driver not in {"", "psycopg", "psycopg2"}:
            raise ConfigError(f"PostgreSQL is reached through psycopg 3, not {driver!r}")
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite" or driver not in {"", "pysqlite"}:
        raise ConfigError(f"database must be SQLite or PostgreSQL, not {parsed.drivername!r}")
    return parsed.render_as_string(hide_password=False)


def _safe(url: str) -> str:
    """``url`` for a message: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url``: SQLite in WAL with immediate write transactions, or PostgreSQL
    through psycopg 3."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"application_name": "steward-server"},
    )


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    memory = make_url(url).database in {None, "", ":memory:"}
    if memory:
        raise ConfigError("an in-memory SQLite database cannot be shared: name a file")
    engine = create_engine(
        url,
        poolclass=NullPool if pool_size == 0 else None,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"pool_size": pool_size, "max_overflow": pool_size} if pool_size else {}),
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling is off: `_begin` says BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# -- migrations -------------------------------------------------------------------------------

SCRIPT_LOCATION = "steward.server:migrations"


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        rev: str | None = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return rev


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic ``upgrade``). On PostgreSQL an advisory
    lock makes machines that start together migrate one after another."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base``: no tables)."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)


HEAD_REVISION = "0004"
"""The newest migration's revision (a test holds it to Alembic's head): a process that finds
the schema there starts without importing Alembic, about 0.25 s of CPU each time, which a
fleet whose workers restart often pays again and again."""


def recorded_revision(engine: Engine) -> str | None:
    """The revision in Alembic's version table, read with one query (``None``: no table, or
    more than one row, which only Alembic itself can interpret)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            conn.rollback()
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        conn.rollback()
    return str(rows[0][0]) if len(rows) == 1 else None


def ensure_schema(engine: Engine, *, migrate_if_needed: bool = True) -> None:
    """Migrate to the head, or (``migrate_if_needed=False``) refuse a schema that is not. A
    schema this version does not know (a newer steward's) is a `ConfigError`."""
    if recorded_revision(engine) == HEAD_REVISION:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    current = current_revision(engine)
    if current == head_revision(engine):
        return
    if current is not None:
        try:
            ScriptDirectory.from_config(alembic_config(engine)).get_revision(current)
        except CommandError:
            raise ConfigError(
                f"the server database's schema {current!r} is unknown to this version of "
                "steward (a newer one migrated it): upgrade steward"
            ) from None
    if not migrate_if_needed:
        raise ConfigError(
            "the server database is not at the current schema: run `steward serve migrate`"
        )
    migrate(engine)


def require_existing(url: str) -> None:
    """Refuse a SQLite database file that does not exist (a typo would otherwise create an
    empty one): only `steward serve migrate` and the server itself make it."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    from pathlib import Path

    if parsed.database.startswith("file:") or Path(parsed.database).exists():
        return
    raise ConfigError(
        f"no server database at {parsed.database}: check --database, or create it with "
        "`steward serve migrate`"
    )


def job_states(engine: Engine, ids: list[int]) -> dict[int, str]:
    """The state of each of ``ids`` that names a job."""
    from sqlalchemy import select

    with engine.connect() as conn:
        rows = conn.execute(select(jobs.c.id, jobs.c.state).where(jobs.c.id.in_(ids))).all()
        conn.rollback()
    return {int(r.id): str(r.state) for r in rows}


def probe_write(engine: Engine, size: int = 65_536) -> None:
    """One write transaction of about ``size`` bytes that leaves nothing behind (a row
    inserted and deleted, then committed): it fails as a delivery's commit of that size
    would, on a full disk, a read-only file or a database that is gone. The row's key is
    no cache key (those start with ``installation:``)."""
    import os

    from sqlalchemy import delete, insert

    key = f"steward:probe:{os.urandom(8).hex()}"
    with engine.begin() as conn:
        conn.execute(
            insert(etags).values(key=key, etag="probe", body=os.urandom(size), updated_at=utcnow())
        )
        conn.execute(delete(etags).where(etags.c.key == key))


def describe(engine: Engine) -> str:
    """The database for logs: back end and URL without the password."""
    return engine.url.render_as_string(hide_password=True)
