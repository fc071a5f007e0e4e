"""The GitHub side's caches in the server's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from steward.server.repo_config import ConfigCacheStore
from steward.server.stores import SqlConfigStore, SqlEtagStore


def test_etag_store_round_trip_and_replace(engine: Engine) -> None:
    store = SqlEtagStore(engine)
    key = "installation:7 GET /repos/octo/app/issues/2"
    assert store.get(key) is None
    store.put(key, 'W/"abc"', b'{"number": 2}')
    assert store.get(key) == ('W/"abc"', b'{"number": 2}')
    store.put(key, 'W/"def"', b"\x00binary\xff")
    assert store.get(key) == ('W/"def"', b"\x00binary\xff")
    other = SqlEtagStore(engine)  # another worker sees the same
    assert other.get(key) == ('W/"def"', b"\x00binary\xff")
    store.put("k" * 1001, "e", b"x")  # too long a key: not cached, no error
    assert store.get("k" * 1001) is None


def test_config_store_round_trip_replace_and_invalidate(engine: Engine) -> None:
    store: ConfigCacheStore = SqlConfigStore(engine)
    assert store.get(7, "octo/app") is None
    store.put(7, "octo/app", "", "")  # "no config file" is cached too
    assert store.get(7, "octo/app") == ("", "")
    store.put(7, "octo/app", "3d21ec5", "size:\n  enabled: false\n")
    store.put(8, "octo/app", "aaaaaaa", "other installation")
    assert store.get(7, "octo/app") == ("3d21ec5", "size:\n  enabled: false\n")
    store.invalidate(7, "octo/app")
    assert store.get(7, "octo/app") is None
    assert store.get(8, "octo/app") == ("aaaaaaa", "other installation")
    store.invalidate(9, "absent/repo")  # nothing there: no error
