"""The schema is made by the Alembic migrations only, and they match `db.metadata` on both
back ends; the wheel carries them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from steward.server import db

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_make_exactly_the_models_schema(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert db.current_revision(engine) is None
        assert not db.is_current(engine)
        db.ensure_schema(engine)
        assert db.is_current(engine)
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
        assert diff == []
        tables = set(inspect(engine).get_table_names())
        assert {"deliveries", "jobs", "schedules", "etags", "repo_configs"} <= tables
        db.migrate(engine)  # again: nothing to do
        db.downgrade(engine, "base")  # downgrade all the way, then up again
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        db.migrate(engine)
        assert db.is_current(engine)
    finally:
        engine.dispose()


def test_a_schema_behind_is_refused_without_migrating(tmp_path: Path) -> None:
    from steward.errors import ConfigError

    engine = db.make_engine(f"sqlite:///{tmp_path}/old.db")
    with pytest.raises(ConfigError, match="steward serve migrate"):
        db.ensure_schema(engine, migrate_if_needed=False)
    engine.dispose()


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/steward", "SQLite or PostgreSQL"),
        ("postgresql+asyncpg://db/steward", "psycopg 3"),
        ("sqlite://", "in-memory"),
        ("::", "not a URL"),
    ],
)
def test_other_databases_are_refused(url: str, message: str) -> None:
    from steward.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        db.make_engine(url)


def test_postgres_urls_mean_psycopg_3() -> None:
    assert db.normalise_url("postgres://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert db.normalise_url("postgresql://h/d") == "postgresql+psycopg://h/d"


@pytest.mark.slow
def test_the_wheel_carries_the_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "steward/server/migrations/env.py" in names
    assert "steward/server/migrations/script.py.mako" in names
    assert "steward/server/migrations/versions/v0001_inbox.py" in names


def test_0003_adds_worker_instances_beside_the_jobs_it_finds(database_url: str) -> None:
    from sqlalchemy import insert, select

    from steward.server.jobs import instances

    engine = db.make_engine(database_url)
    try:
        db.migrate(engine, "0002")
        assert "instances" not in inspect(engine).get_table_names()
        now = db.utcnow()
        with engine.begin() as conn:
            conn.execute(
                insert(db.jobs).values(
                    kind="sweep",
                    installation_id=7,
                    subject="installation:7",
                    state="running",
                    max_attempts=8,
                    run_after=now,
                    lease_until=now,
                    worker="host:1:0",
                    created_at=now,
                )
            )
        db.migrate(engine, "0003")
        assert db.current_revision(engine) == "0003"
        with engine.begin() as conn:
            conn.execute(
                insert(instances).values(
                    id="host:1:abc", host="host", pid=1, started_at=now, heartbeat_at=now
                )
            )
            assert conn.execute(select(db.jobs.c.worker)).scalars().all() == ["host:1:0"]
        db.downgrade(engine, "0002")
        assert "instances" not in inspect(engine).get_table_names()
        assert "jobs" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_head_revision_constant_is_alembics_head(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert db.head_revision(engine) == db.HEAD_REVISION
        assert db.recorded_revision(engine) is None  # no version table yet
        for revision in ("0001", "0003", "head"):
            db.migrate(engine, revision)
            assert db.recorded_revision(engine) == db.current_revision(engine)
        db.ensure_schema(engine, migrate_if_needed=False)  # current: nothing to refuse
    finally:
        engine.dispose()


def test_a_current_schema_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    """A worker process that finds the schema current starts without Alembic (~0.25 s of
    CPU per start, paid on every restart of a worker)."""
    url = f"sqlite:///{tmp_path}/current.db"
    engine = db.make_engine(url)
    db.migrate(engine)
    engine.dispose()
    code = (
        "import sys\n"
        "from steward.server import db\n"
        f"engine = db.make_engine({url!r})\n"
        "db.ensure_schema(engine, migrate_if_needed=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
