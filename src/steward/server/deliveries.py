"""Deliveries: the verified webhooks the intake stores, read back by the workers.

- `Deliveries.record` stores a batch of verified deliveries and their jobs (group commit:
  the intake's writer hands over every delivery waiting for the disk at once). A
  delivery id seen before is answered ``duplicate`` and makes no job, whatever its
  (unsigned) ``X-GitHub-Hook-ID``; a new delivery repeating a job still queued (same event,
  subject and payload) is coalesced into it.
- `Deliveries.delivery` reads one back, its payload decoded; `Deliveries.known` says
  whether a delivery GUID is held (`steward serve reconcile`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import lz4.block  # type: ignore[import-untyped]
from sqlalchemy import literal, select
from sqlalchemy.engine import Connection, Engine

from steward.errors import PayloadError
from steward.server.db import aware, deliveries, is_sqlite, utcnow

Recorded = Literal["queued", "recorded", "duplicate"]
"""``queued``: stored with a job; ``recorded``: stored, nothing to do (an event no policy
handles); ``duplicate``: a delivery id already stored (not stored again), or a new one
coalesced into an identical job still queued (stored, no run of its own)."""


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
    "finished_at",
    "last_error",
)
_IDS_PER_SELECT = 500
# Transaction-scoped advisory locks on the batch's delivery ids, in one order (no deadlock):
# two intakes given the same delivery id at once store it once.
_LOCK_GUIDS = (
    "SELECT pg_advisory_xact_lock(1465078866, hashtext(g)) "
    "FROM (SELECT unnest(CAST(%s AS text[])) AS g ORDER BY 1) AS ids"
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


class Deliveries:
    def __init__(
        self,
        engine: Engine,
        *,
        max_attempts: int = 8,
        clock: Callable[[], datetime] = utcnow,
        coalesce: bool = False,
    ) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        """The attempts of the jobs `record` makes."""
        self.coalesce = coalesce
        """Whether `record` coalesces a new delivery into an identical job still queued
        (the intake's writer process does: `steward.server.writer`)."""
        self.clock = clock
        self.sqlite = is_sqlite(engine)

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
        """Store ``items`` in one transaction; what became of each, in order.

        A delivery id seen before (in the inbox, or earlier in ``items``) is a duplicate
        whatever ``X-GitHub-Hook-ID`` says: that header is not signed, so it cannot make a
        delivery new. With `coalesce`, a new delivery whose event, subject and payload are
        those of a job still queued is stored and coalesced into that job (`_coalesce`): it
        is answered ``duplicate`` too, and its own job is recorded as done without running.
        """
        if not items:
            return []
        now = self.clock()
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            first.setdefault(item.delivery_id, i)
        stamp = self._stamp
        at = stamp(now)  # one formatting for the batch: most deliveries are received now
        with self.engine.begin() as conn:
            guids = sorted(first)
            if not self.sqlite:  # concurrent intakes: one of them takes a delivery id
                conn.exec_driver_sql(_LOCK_GUIDS, (guids,))
            seen = self._seen(conn, guids)
            unique = [items[i] for i in sorted(first.values()) if items[i].delivery_id not in seen]
            stored = [
                (
                    it,
                    encode_body(it.body)
                    if it.body_encoding is None
                    else (it.body_encoding, it.body),
                )
                for it in unique
            ]
            new: dict[str, int] = {}
            for start in range(0, len(stored), _ROWS_PER_INSERT):
                chunk = stored[start : start + _ROWS_PER_INSERT]
                params: list[Any] = []
                for it, (encoding, body) in chunk:
                    params += (
                        it.hook_id,
                        it.delivery_id,
                        it.event,
                        it.action,
                        it.installation_id,
                        it.repository,
                        it.sender,
                        at if it.received_at is None else stamp(it.received_at),
                        encoding,
                        body,
                    )
                sql = self._insert_deliveries(len(chunk))
                for pk, _hook, guid in conn.exec_driver_sql(sql, tuple(params)):
                    new[guid] = pk
            todo = [(it, enc) for it, enc in stored if it.enqueue and it.delivery_id in new]
            merged = self._coalesce(conn, todo) if self.coalesce else {}
            job_rows = [
                (
                    "event",
                    new[it.delivery_id],
                    it.installation_id,
                    it.subject,
                    "done" if it.delivery_id in merged else "queued",
                    0,
                    self.max_attempts,
                    at,
                    at,
                    at if it.delivery_id in merged else None,
                    merged.get(it.delivery_id),
                )
                for it, _ in todo
            ]
            if job_rows:
                conn.exec_driver_sql(self._insert_jobs(), job_rows)
        out: list[Recorded] = []
        for i, item in enumerate(items):
            guid = item.delivery_id
            if first[guid] != i or guid not in new or guid in merged:
                out.append("duplicate")
            else:
                out.append("queued" if item.enqueue else "recorded")
        return out

    def _seen(self, conn: Connection, guids: list[str]) -> set[str]:
        """Which of ``guids`` the inbox holds already (from any hook)."""
        mark = "?" if self.sqlite else "%s"
        seen: set[str] = set()
        for start in range(0, len(guids), _IDS_PER_SELECT):
            chunk = guids[start : start + _IDS_PER_SELECT]
            marks = ", ".join([mark] * len(chunk))
            sql = f"SELECT delivery_id FROM deliveries WHERE delivery_id IN ({marks})"  # noqa: S608
            seen.update(r[0] for r in conn.exec_driver_sql(sql, tuple(chunk)))
        return seen

    def _coalesce(
        self, conn: Connection, todo: list[tuple[Incoming, tuple[str, bytes]]]
    ) -> dict[str, str]:
        """The deliveries of ``todo`` that repeat the newest job of their subject while it is
        still queued (the same event and stored payload, byte for byte; earlier in ``todo``
        counts too), each with a note naming what it joined. Only the newest: the events of
        a subject are processed in order, and a payload repeated after another event is
        work again (A, B, A must end as A did). A replayed body under a new delivery id then
        costs no run of its own, however fast it comes."""
        merged: dict[str, str] = {}
        if not todo:
            return merged
        mark = "?" if self.sqlite else "%s"
        newest: dict[int, int] = {}  # position in todo -> the identical newest queued job
        for start in range(0, len(todo), _ROWS_PER_INSERT):
            chunk = todo[start : start + _ROWS_PER_INSERT]
            rows = ", ".join([f"({mark}, {mark}, {mark}, {mark}, {mark})"] * len(chunk))
            params: list[Any] = []
            for i, (it, (encoding, body)) in enumerate(chunk):
                params += (start + i, it.subject, it.event, encoding, body)
            sql = (
                f"WITH batch (i, subject, event, encoding, body) AS (VALUES {rows}) "  # noqa: S608
                "SELECT b.i, j.id FROM batch b "
                "JOIN jobs j ON j.subject = b.subject AND j.kind = 'event' "
                "AND j.state IN ('queued', 'running') AND j.state = 'queued' "
                "JOIN deliveries d ON d.id = j.delivery_pk AND d.event = b.event "
                "AND d.body_encoding = b.encoding AND d.body = b.body "
                "WHERE NOT EXISTS (SELECT 1 FROM jobs later WHERE later.subject = j.subject "
                "AND later.id > j.id AND later.state IN ('queued', 'running'))"
            )
            for i, job_id in conn.exec_driver_sql(sql, tuple(params)):
                newest[int(i)] = int(job_id)
        last: dict[str, tuple[tuple[str, str, bytes], str]] = {}  # subject -> key, delivery
        for i, (it, (encoding, body)) in enumerate(todo):
            key = (it.event, encoding, body)
            if it.subject in last:
                same, guid = last[it.subject]
                if same == key:
                    merged[it.delivery_id] = f"coalesced with delivery {guid}, still queued"
                    continue
            elif i in newest:
                merged[it.delivery_id] = f"coalesced into job {newest[i]}, still queued"
                last[it.subject] = (key, it.delivery_id)
                continue
            last[it.subject] = (key, it.delivery_id)
        return merged

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

    def known(self, delivery_id: str) -> bool:
        """Whether the inbox holds the delivery ``X-GitHub-Delivery: delivery_id`` (from any
        hook): `steward serve reconcile` asks before requesting a redelivery."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(literal(1)).where(deliveries.c.delivery_id == delivery_id).limit(1)
            ).first()
        return row is not None
