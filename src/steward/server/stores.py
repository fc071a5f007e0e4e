"""The GitHub side's caches, kept in the server's database (tables ``etags``, ``repo_configs``).

`SqlEtagStore` backs the ETag cache (``get(key) -> (etag, body) | None``, ``put``);
`SqlConfigStore` the repositories' configs (``get(installation_id, full_name) -> (sha, text)
| None``, ``put``, ``invalidate``). Each call is one short transaction, so any number of
workers on any number of machines share them; a ``put`` replaces what was there (upsert).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from steward.server.db import etags, is_sqlite, repo_configs, utcnow

MAX_KEY = 1000


class SqlEtagStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._insert = sqlite_insert if is_sqlite(engine) else pg_insert

    def get(self, key: str) -> tuple[str, bytes] | None:
        if len(key) > MAX_KEY:
            return None
        with self.engine.begin() as conn:
            row = conn.execute(select(etags.c.etag, etags.c.body).where(etags.c.key == key)).first()
        return None if row is None else (row.etag, bytes(row.body))

    def put(self, key: str, etag: str, body: bytes) -> None:
        if len(key) > MAX_KEY or len(etag) > 300:
            return  # not cacheable: the next read is a full one
        now = self.clock()
        stmt = self._insert(etags).values(key=key, etag=etag, body=body, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[etags.c.key],
            set_={"etag": etag, "body": body, "updated_at": now},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)


class SqlConfigStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._insert = sqlite_insert if is_sqlite(engine) else pg_insert

    def get(self, installation_id: int, full_name: str) -> tuple[str, str] | None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(repo_configs.c.sha, repo_configs.c.text).where(
                    repo_configs.c.installation_id == installation_id,
                    repo_configs.c.full_name == full_name,
                )
            ).first()
        return None if row is None else (row.sha, row.text)

    def put(self, installation_id: int, full_name: str, sha: str, text: str) -> None:
        now = self.clock()
        stmt = self._insert(repo_configs).values(
            installation_id=installation_id,
            full_name=full_name,
            sha=sha,
            text=text,
            fetched_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[repo_configs.c.installation_id, repo_configs.c.full_name],
            set_={"sha": sha, "text": text, "fetched_at": now},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def invalidate(self, installation_id: int, full_name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(repo_configs).where(
                    repo_configs.c.installation_id == installation_id,
                    repo_configs.c.full_name == full_name,
                )
            )
