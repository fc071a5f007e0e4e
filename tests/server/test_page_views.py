"""The page without a browser: the views' contexts from stored surveys (pure), the operator
listener's app (page off without a sign-in, /metrics always, the headers every page answer
carries, the retry form's refusals), and `steward serve`'s operator listener."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from steward.server.metrics import Metrics
from steward.server.page.app import create_operator_app
from steward.server.page.render import ago
from steward.server.page.views import releases_view, repositories_view
from steward.server.settings import Settings
from steward.server.surveys import Surveys
from tests.server.conftest import SECRET
from tests.server.page_seed import REPO, page_server_env, run_record, seed_surveys
from tests.server.processes import Server

pytestmark = pytest.mark.usefixtures("no_steward_env")

TOKEN = "a page token of some length"
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def test_the_views_show_what_the_survey_stored(sqlite: Engine) -> None:
    seed_surveys(sqlite, NOW)
    surveyed = Surveys(sqlite).latest()

    repos = repositories_view(surveyed, 900)
    (inst,) = repos["installations"]
    assert repos["interval"] == "15 min"
    assert repositories_view(surveyed, 0)["interval"] == ""  # surveys off
    assert (inst["id"], inst["remaining"], inst["limit"], inst["saved"]) == (7, 4912, 5000, 75)
    assert inst["account"] == "octo-org"
    (repo,) = inst["repos"]
    assert repo["url"] == f"https://github.com/{REPO}"
    assert [(i.number, i.note) for i in repo["pending_release"]] == [(101, ("closed",)), (97, ())]
    assert [(i.number, i.note) for i in repo["blocked"]] == [
        (120, ("do-not-merge",)),
        (121, ("need-issue",)),
    ]
    assert [(i.number, i.note) for i in repo["sweep"]] == [(55, ("mark stale",)), (41, ("close",))]

    rels = releases_view(surveyed)["releases"]
    assert [r["tag"] for r in rels] == ["v2.4.0", "v2.4.0a1"]  # newest first
    final, pre = rels
    assert pre["chart"] is None
    assert pre["prerelease"]
    record = run_record("2.4.0", 0.0)
    # One bar per stage and one per region of the two layer stages.
    assert len(final["chart"].rects) == len(record.stages) + 4
    assert final["seconds"] == pytest.approx(record.stages[-1].finished)
    assert final["mermaid"].startswith("```mermaid\ngantt")
    # Bars never overlap the labels and stay on the axis.
    assert all(r.x >= 220 and r.x + r.width <= 220 + 720 + 0.01 for r in final["chart"].rects)


def test_a_failed_run_is_drawn_to_its_failure(sqlite: Engine) -> None:
    from steward.server.surveys import ApiBudget, ReleaseRun, RepositorySurvey

    record = run_record("2.5.0", 1000.0, fail="layer-beta")
    rel = ReleaseRun("v2.5.0", "v2.5.0", NOW.isoformat(), "https://github.com/o/r", False, record)
    Surveys(sqlite).save(
        9, NOW, [RepositorySurvey("o/r", NOW, releases=(rel,))], ApiBudget(0, 0, 0)
    )
    (r,) = releases_view(Surveys(sqlite).latest())["releases"]
    assert r["stages"][-1].status == "failed"
    assert r["chart"].rects[-1].kind.startswith("failed")


def test_without_a_sign_in_the_listener_serves_metrics_only(sqlite: Engine) -> None:
    app = create_operator_app(Settings(webhook_secret=SECRET), sqlite, metrics=Metrics())
    client = TestClient(app)
    assert client.get("/metrics").status_code == 200
    off = client.get("/")
    assert off.status_code == 404
    assert "STEWARD_PAGE_TOKEN" in off.text
    assert client.get("/queue").status_code == 404


def test_page_answers_carry_the_headers(sqlite: Engine) -> None:
    settings = Settings(webhook_secret=SECRET, page_token=TOKEN)
    client = TestClient(create_operator_app(settings, sqlite, metrics=Metrics()))
    login = client.get("/queue")  # follows to the sign-in
    assert login.url.path == "/login"
    csp = login.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert login.headers["cache-control"] == "no-store"
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf
    signed = client.post("/login", data={"csrf": csrf[1], "token": TOKEN, "next": "/queue"})
    assert signed.url.path == "/queue"
    assert signed.headers["x-frame-options"] == "DENY"
    assert "Dead letters" in signed.text
    # The retry form: a bad CSRF token, no job, a form too large.
    assert client.post("/queue/retry", data={"csrf": "no", "job": "1"}).status_code == 403
    token = re.search(r'name="csrf" value="([^"]+)"', signed.text)
    assert token
    assert client.post("/queue/retry", data={"csrf": token[1], "job": "x"}).status_code == 400
    big = client.post("/queue/retry", data={"csrf": token[1], "job": "1", "pad": "x" * 5000})
    assert big.status_code == 413
    # A job that is not dead: nothing changes, and the page says so.
    missing = client.post("/queue/retry", data={"csrf": token[1], "job": "424242"})
    assert missing.url.path == "/queue"
    assert "424242 is not a dead letter" in missing.text


def test_ago_reads_at_a_glance() -> None:
    assert ago(datetime(2026, 12, 6, 11, 59, 15, tzinfo=UTC), NOW) == "45 s"
    assert ago(datetime(2026, 12, 6, 9, 30, tzinfo=UTC), NOW) == "2 h"
    assert ago(datetime(2026, 12, 4, 12, tzinfo=UTC), NOW) == "2 d"
    assert ago(None, NOW) == "-"


@pytest.mark.slow
def test_steward_serve_serves_the_page_on_the_operator_listener(tmp_path: Path) -> None:
    env = page_server_env(
        f"sqlite:///{tmp_path}/inbox.db",
        STEWARD_PAGE_TOKEN=TOKEN,
    )
    server = Server(env, tmp_path / "server.log")
    try:
        page = server.metrics_url.removesuffix("/metrics")
        assert httpx.get(server.metrics_url).status_code == 200
        login = httpx.get(f"{page}/queue")
        assert login.status_code == 303
        assert login.headers["location"].startswith("/login")
        # Never on the webhook's listener.
        assert httpx.get(f"{server.url}/queue").status_code == 404
        assert httpx.get(f"{server.url}/login").status_code == 404
    finally:
        server.stop()
    assert TOKEN not in server.tail(100_000)


@pytest.mark.slow
def test_slow_clients_on_the_operator_listener_are_cut_off(tmp_path: Path) -> None:
    """The page's listener has the webhook's bounds on slow clients: 150 connections sending
    a byte a second are all closed (the surplus over its 100 connections at once, the rest
    at the 2 s header deadline), and /metrics answers meanwhile."""
    import threading

    from tests.server.test_operations import _slowloris

    env = page_server_env(
        f"sqlite:///{tmp_path}/inbox.db",
        STEWARD_PAGE_TOKEN=TOKEN,
        STEWARD_HEADER_TIMEOUT_SECONDS="2",
    )
    server = Server(env, tmp_path / "server.log")
    stop = threading.Event()
    closed: list[float] = []
    port = int(server.metrics_url.split(":")[-1].split("/")[0])
    try:
        loris = threading.Thread(target=_slowloris, args=(port, 150, stop, closed))
        loris.start()
        loris.join(15)
        assert not loris.is_alive(), f"{len(closed)} of 150 closed"
        assert len(closed) == 150
        assert httpx.get(server.metrics_url).status_code == 200
    finally:
        stop.set()
        server.stop()
