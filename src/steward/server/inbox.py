"""The durable inbox: its parts, made together over one database.

Each part is one concern, every operation one short transaction on the tables of `db`:

- `deliveries` (`steward.server.deliveries`): the verified deliveries the intake stores,
  read back by the workers; `known` for ``steward serve reconcile``;
- `jobs` (`steward.server.jobs`): the queue: claims with leases, completion, retries with
  backoff, dead letters;
- `schedules` (`steward.server.schedules`): each installation's sweep, queued when due;
- `maintenance` (`steward.server.maintenance`): ``ANALYZE``, retention, ping, counts.

The intake's writer process (`steward.server.writer`) uses `Deliveries` alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from steward.server.db import utcnow
from steward.server.deliveries import Deliveries
from steward.server.jobs import Backoff, Jobs
from steward.server.maintenance import Maintenance
from steward.server.schedules import Schedules


class Inbox:
    """The inbox's parts over ``engine``, sharing the job settings (attempts, backoff) and
    the clock and randomness (tests pin them)."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_attempts: int = 8,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.deliveries = Deliveries(engine, max_attempts=max_attempts, clock=clock)
        self.jobs = Jobs(engine, max_attempts=max_attempts, backoff=backoff, clock=clock, rng=rng)
        self.schedules = Schedules(engine, max_attempts=max_attempts, clock=clock, rng=rng)
        self.maintenance = Maintenance(engine)
