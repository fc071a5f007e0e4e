"""The Queue view's numbers (`server.page.queue`) on SQLite and PostgreSQL: deliveries and
jobs made by the inbox's own code at known times, counted back per hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from steward.server.deliveries import Deliveries, Incoming
from steward.server.jobs import Jobs
from steward.server.page import charts
from steward.server.page.queue import HOURS, SERIES, read_queue

NOW = datetime(2026, 12, 6, 15, 40, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def incoming(n: int, at: datetime, subject: str) -> Incoming:
    return Incoming(
        hook_id="1",
        delivery_id=f"d-{n}",
        event="issues",
        action="opened",
        installation_id=7,
        repository="octo/repo",
        sender="someone",
        subject=subject,
        body=b'{"action": "opened"}',
        enqueue=True,
        received_at=at,
    )


def test_hours_count_what_happened_in_them(engine: Engine) -> None:
    clock = Clock(NOW - timedelta(hours=3))
    store = Deliveries(engine, max_attempts=2, clock=clock)
    jobs = Jobs(engine, max_attempts=2, clock=clock)
    # Three hours ago: three deliveries on three subjects.
    store.record([incoming(k, clock.at, f"octo/repo#{k}") for k in range(3)])
    # Two hours ago: one job done, one failed once (retried later), one dead at once.
    clock.at = NOW - timedelta(hours=2)
    done, retried, dead = (jobs.claim("w", 60) for _ in range(3))
    assert done
    assert retried
    assert dead
    assert jobs.complete(done)
    assert jobs.fail(retried, "502 from GitHub") == "queued"
    assert jobs.fail(dead, "422: Validation Failed", permanent=True) == "dead"
    # Now: the retried job's second attempt fails for good.
    clock.at = NOW
    again = jobs.claim("w", 60)
    assert again is not None
    assert again.id == retried.id
    assert again.attempts == 2
    assert jobs.fail(again, "502 from GitHub again") == "dead"
    # And one delivery older than the window, not counted.
    store.record([incoming(9, NOW - timedelta(hours=HOURS + 2), "octo/repo#9")])

    view = read_queue(engine, NOW)

    assert len(view.hours) == HOURS
    assert view.hours[-1].start == datetime(2026, 12, 6, 15, tzinfo=UTC)
    by_hour = {h.start.hour: h.counts for h in view.hours}
    assert by_hour[12] == {"received": 3, "done": 0, "retried": 0, "dead": 0}
    assert by_hour[13] == {"received": 0, "done": 1, "retried": 0, "dead": 1}
    assert by_hour[15] == {"received": 0, "done": 0, "retried": 1, "dead": 1}
    assert view.totals == {"received": 3, "done": 1, "retried": 1, "dead": 2}
    assert view.states["dead"] == 2
    assert view.states["done"] == 1
    # The oldest waiting job: the one older than the window, still queued.
    assert view.oldest is not None
    assert view.oldest.subject == "octo/repo#9"
    # Dead letters newest first, with their last error.
    assert [d.id for d in view.dead] == sorted((dead.id, retried.id), reverse=True)
    errors = {d.id: d.last_error for d in view.dead}
    assert errors[retried.id] == "502 from GitHub again"
    assert errors[dead.id] == "422: Validation Failed"
    assert all(d.event == "issues" and d.delivery_id for d in view.dead)


def test_an_empty_inbox_is_a_flat_chart(engine: Engine) -> None:
    view = read_queue(engine, NOW)
    assert view.oldest is None
    assert view.dead == []
    assert view.totals == dict.fromkeys(SERIES, 0)
    chart = charts.hourly(view.hours)
    assert len(chart.rects) == HOURS * len(SERIES)
    assert all(r.height == 0 for r in chart.rects)


def test_a_long_error_is_cut_for_the_page(engine: Engine) -> None:
    clock = Clock(NOW)
    Deliveries(engine, clock=clock).record([incoming(1, NOW, "octo/repo#1")])
    jobs = Jobs(engine, clock=clock)
    job = jobs.claim("w", 60)
    assert job is not None
    jobs.fail(job, "x" * 3000, permanent=True)
    (dead,) = read_queue(engine, NOW).dead
    assert len(dead.last_error) == 500
    assert dead.last_error.endswith("…")


def test_the_chart_scales_to_the_busiest_series() -> None:
    from steward.server.page.queue import Hour

    hours = [
        Hour(NOW, {"received": 10, "done": 5, "retried": 0, "dead": 1}),
        Hour(NOW + timedelta(hours=1), {"received": 0, "done": 0, "retried": 0, "dead": 0}),
    ]
    chart = charts.hourly(hours)
    heights = {(r.x, r.kind): r.height for r in chart.rects}
    assert heights[(0, "received")] == charts.HEIGHT
    assert heights[(charts.BAR, "done")] == charts.HEIGHT / 2
    assert all(r.y + r.height == charts.HEIGHT for r in chart.rects)
    assert "10 received" in next(r.title for r in chart.rects if r.kind == "received")
