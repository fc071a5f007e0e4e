"""A new installation's first survey runs at once (SQLite and PostgreSQL).

The maintainers' page shows only what the surveys stored, and an installation's survey was
first scheduled at a random time within its first interval (``survey_interval_seconds``, 15
minutes): a maintainer who had just installed the App saw "No survey yet" for up to that
long. The App's ``installation: created`` delivery now schedules the survey due at once, and
the worker that handled it queues it at its next turn (not ``housekeeping_seconds`` later).
Any other first delivery of an installation (one the server knew before a restart, say)
still spreads both first runs over their interval, and the sweep's always.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from steward.config.model import StewardConfig
from steward.github.client import GitHubClient
from steward.server import db, intake
from steward.server.deliveries import Incoming
from steward.server.inbox import Inbox
from steward.server.processing import WorkerDeps
from steward.server.schedules import Schedules
from steward.server.surveys import Surveys
from steward.server.worker import Worker
from tests.server.conftest import make_settings
from tests.support.github_material import base_example

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
NEW = 4242
KNOWN = 4343


def installation_event(installation: int, action: str, guid: str) -> Incoming:
    payload = base_example("installation", "created")
    payload["action"] = action
    payload["installation"]["id"] = installation
    raw = json.dumps(payload).encode()
    return intake.incoming(intake.Headers("installation", guid, "", "42"), payload, raw)


def no_github(installation_id: int) -> GitHubClient:
    raise AssertionError("an installation of no repositories needs no request")


def no_config(installation_id: int, full_name: str) -> StewardConfig:
    raise AssertionError("no repository to read the config of")


# An installation with no repositories: its survey stores the installation, asks nothing.
DEPS = WorkerDeps(
    github_for=no_github,
    config_for=no_config,
    bot_login="repo-steward[bot]",
    repositories_for=lambda installation_id: [],
)


def next_runs(engine: Engine) -> dict[tuple[int, str], datetime]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.schedules)).all()
    out = {}
    for r in rows:
        when = db.aware(r.next_run_at)
        assert when is not None
        out[(int(r.installation_id), str(r.kind))] = when
    return out


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_the_first_run_is_at_once_only_when_asked(engine: Engine) -> None:
    store = Schedules(engine, clock=lambda: NOW, rng=lambda: 0.5)
    assert store.ensure(1, 900, kind="survey", first_now=True)
    assert store.ensure(1, 86_400)  # the sweep: spread over its first hour
    assert store.ensure(2, 900, kind="survey")  # spread over its interval
    assert not store.ensure(2, 900, kind="survey", first_now=True)  # kept as it was
    assert next_runs(engine) == {
        (1, "survey"): NOW,
        (1, "sweep"): NOW + timedelta(seconds=1800),
        (2, "survey"): NOW + timedelta(seconds=450),
    }
    later = Schedules(engine, clock=lambda: NOW + timedelta(seconds=1), rng=lambda: 0.5)
    assert later.enqueue_due() == 1  # installation 1's survey only


def test_a_new_installation_is_surveyed_at_the_workers_next_turn(engine: Engine) -> None:
    # rng near 1: a first run "spread over the interval" is 15 minutes (the survey's) or an
    # hour (the sweep's) away; housekeeping_seconds an hour: only the worker's first round
    # runs by the clock.
    inbox = Inbox(engine, rng=lambda: 0.999)
    settings = make_settings(housekeeping_seconds=3600, survey_interval_seconds=900)
    stop = threading.Event()
    worker = Worker(inbox, DEPS, settings, name="w", stop=stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: worker._next_housekeeping > 0)  # its first round is behind it
        recorded = inbox.deliveries.record(
            [
                installation_event(KNOWN, "new_permissions_accepted", "d-known"),
                installation_event(NEW, "created", "d-new"),
            ]
        )
        assert recorded == ["queued", "queued"]
        surveys = Surveys(engine)
        wait_for(lambda: any(i.installation_id == NEW for i in surveys.latest()))
        wait_for(lambda: inbox.maintenance.counts()["done"] == 3)  # two events, one survey
    finally:
        stop.set()
        thread.join(10)

    (inst,) = surveys.latest()  # the new installation only
    assert inst.installation_id == NEW
    assert inst.repositories == ()
    assert inst.budget is not None
    runs = next_runs(engine)
    assert set(runs) == {(NEW, "survey"), (NEW, "sweep"), (KNOWN, "survey"), (KNOWN, "sweep")}
    with engine.connect() as conn:
        made: dict[Any, Any] = {
            (r.installation_id, r.kind): db.aware(r.last_run_at)
            for r in conn.execute(select(db.schedules)).all()
        }
    assert made[(NEW, "survey")] is not None  # queued by the schedule, not by hand
    assert made[(KNOWN, "survey")] is None
    # The known installation's survey and both sweeps: still a good part of an interval on.
    created = made[(NEW, "survey")]
    assert runs[(KNOWN, "survey")] > created + timedelta(minutes=14)
    assert runs[(NEW, "sweep")] > created + timedelta(minutes=59)
    assert runs[(KNOWN, "sweep")] > created + timedelta(minutes=59)


@pytest.mark.parametrize("action", ["deleted", "suspend"])
def test_only_a_created_installation_is_surveyed_at_once(engine: Engine, action: str) -> None:
    inbox = Inbox(engine, rng=lambda: 0.999)
    worker = Worker(inbox, DEPS, make_settings(), name="w", stop=threading.Event())
    assert inbox.deliveries.record([installation_event(NEW, action, "d-1")]) == ["queued"]
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert worker.run_job(job) == "done"
    surveys = {k: v for k, v in next_runs(engine).items() if k[1] == "survey"}
    if action == "deleted":
        assert surveys == {}
    else:
        assert surveys[(NEW, "survey")] > datetime.now(UTC) + timedelta(minutes=14)
