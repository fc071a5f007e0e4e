"""Alembic's environment for steward's server database.

Run through `steward.server.db.migrate` (``steward serve migrate``), which hands over the
engine in ``config.attributes["engine"]``; there is no ``alembic.ini``. Offline SQL
(``--sql``) is not supported: the schema is small and migrations run against a database.
On PostgreSQL a transaction-scoped advisory lock serialises machines that migrate at once.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Engine

from steward.server.db import metadata

# Any 64-bit number unique to steward: pg_advisory_xact_lock's key for migrations.
LOCK_KEY = 0x5744_5352_5645_5201


def run() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through `steward serve migrate`")
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            if not sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("steward's migrations run online only")
run()
