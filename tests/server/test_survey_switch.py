"""Surveys for installations a server knew before surveys existed, and surveys turned off
(``survey_interval_seconds = 0``), on SQLite and PostgreSQL.

An installation gets its survey schedule with its first delivery; one the server knew
before this version had its sweep schedule already and would get no survey until its next
delivery (days, for a quiet repository): a worker's first housekeeping now schedules it.
An operator who does not use the page turns surveys off: no schedule is made, those made
before are dropped, and a survey job still queued is finished without a request.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from steward.errors import ConfigError
from steward.server import db
from steward.server.inbox import Inbox
from steward.server.jobs import job_row
from steward.server.schedules import Schedules
from steward.server.settings import load_settings
from steward.server.worker import Worker
from tests.server.conftest import make_settings
from tests.server.test_survey_first_run import DEPS, installation_event


def kinds(engine: Engine) -> set[tuple[int, str]]:
    with engine.connect() as conn:
        return {(int(r.installation_id), str(r.kind)) for r in conn.execute(select(db.schedules))}


def test_backfill_schedules_the_missing_surveys_once(engine: Engine) -> None:
    store = Schedules(engine, rng=lambda: 0.5)
    store.ensure(1, 86_400)  # known before surveys: a sweep only
    store.ensure(2, 86_400)
    store.ensure(2, 900, kind="survey")
    assert store.backfill("survey", 900) == 1
    assert kinds(engine) == {(1, "sweep"), (1, "survey"), (2, "sweep"), (2, "survey")}
    assert store.backfill("survey", 900) == 0


def test_a_worker_surveys_installations_it_knew_before(engine: Engine) -> None:
    inbox = Inbox(engine)
    inbox.schedules.ensure(5, 86_400)
    worker = Worker(inbox, DEPS, make_settings(), name="w", stop=threading.Event())
    worker._housekeeping()
    assert (5, "survey") in kinds(engine)


def test_surveys_off(engine: Engine) -> None:
    inbox = Inbox(engine)
    inbox.schedules.ensure(5, 86_400)
    inbox.schedules.ensure(5, 900, kind="survey")  # made while surveys were on
    with engine.begin() as conn:  # and one of its jobs still queued
        conn.execute(
            db.jobs.insert(),
            [job_row("survey", "survey:5", 5, db.utcnow(), max_attempts=3)],
        )
    settings = make_settings(survey_interval_seconds=0)
    worker = Worker(inbox, DEPS, settings, name="w", stop=threading.Event())
    worker._housekeeping()
    assert kinds(engine) == {(5, "sweep")}
    # A new installation: its sweep is scheduled, no survey.
    assert inbox.deliveries.record([installation_event(6, "created", "d-6")]) == ["queued"]
    done = []
    while (job := inbox.jobs.claim("w", 60)) is not None:
        done.append((job.kind, worker.run_job(job)))
    # The queued survey ends without a request (DEPS fails any GitHub call).
    assert sorted(done) == [("event", "done"), ("survey", "done")]
    assert kinds(engine) == {(5, "sweep"), (6, "sweep")}


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("60", True), ("30", False)])
def test_the_setting_is_off_or_a_minute_at_least(value: str, ok: bool) -> None:
    env = {"STEWARD_SURVEY_INTERVAL_SECONDS": value}
    if ok:
        assert load_settings(env=env).survey_interval_seconds == int(value)
    else:
        with pytest.raises(ConfigError, match="0 \\(no survey\\) or at least 60"):
            load_settings(env=env)
