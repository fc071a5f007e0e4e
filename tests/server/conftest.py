"""Server fixtures: a real PostgreSQL cluster (one per session, a fresh database per test),
SQLite files, the local GitHub, and the server under real uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from steward.server import db
from steward.server.app import create_app
from steward.server.github_app import GitHubApp
from steward.server.intake import sign
from steward.server.metrics import Metrics
from steward.server.processing import WorkerDeps
from steward.server.settings import Settings
from tests.server.fakes import BOT, token_deps
from tests.server.postgres import Cluster, free_port
from tests.support.fake_clock import FakeClock
from tests.support.github_app_server import APP_ID, GitHubAppServer
from tests.support.github_server import GitHubServer

SECRET = "It's a Secret to Everybody"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEdummykeyfortests\n-----END RSA PRIVATE KEY-----\n"
)
TOKEN = "test-token"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    with Cluster(fsync=False) as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('inbox')}/inbox.db"
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.create()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = db.make_engine(database_url)
    db.migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite inbox, for tests that need one back end only."""
    eng = db.make_engine(f"sqlite:///{tmp_path}/inbox.db")
    db.migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer(token=TOKEN, login=BOT) as server:
        yield server
        server.assert_clean()


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_id": 1,
        "private_key": PRIVATE_KEY,
        "webhook_secret": SECRET,
        "bot_login": BOT,
        "workers": 0,
        "poll_interval": 0.05,
        "backoff_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def deps(gh: GitHubServer) -> WorkerDeps:
    return token_deps(gh.url, TOKEN, repos=(gh.repo,))


def signed_headers(
    event: str, delivery: str, body: bytes, *, secret: str = SECRET, hook: str = "42"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-ID": hook,
        "X-Hub-Signature-256": sign(secret.encode(), body),
        "User-Agent": "GitHub-Hookshot/test",
    }


def with_installation(payload: dict[str, Any], installation: int = 7) -> dict[str, Any]:
    payload = dict(payload)
    payload["installation"] = {
        "id": installation,
        "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNw==",
    }
    return payload


@dataclass
class Running:
    url: str
    app: Any
    server: uvicorn.Server
    metrics: Metrics
    client: httpx.Client

    def post(
        self, event: str, payload: dict[str, Any] | bytes, delivery: str, **kw: Any
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = signed_headers(event, delivery, body, **kw)
        return self.client.post(f"{self.url}/webhook", content=body, headers=headers)

    @property
    def core(self) -> Any:
        return self.app.state.server


ServeFactory = Callable[..., Running]


@pytest.fixture
def serve(engine: Engine) -> Iterator[ServeFactory]:
    """``serve(settings=..., deps=...)``: the app under real uvicorn on 127.0.0.1, stopped
    (lifespan shutdown included) after the test."""
    started: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(
        *, deps: WorkerDeps | None = None, metrics: Metrics | None = None, **overrides: Any
    ) -> Running:
        settings = make_settings(**overrides)
        metrics = metrics or Metrics()
        app = create_app(settings, engine, metrics=metrics, deps=deps)
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        client = httpx.Client(timeout=30)
        started.append((server, thread, client))
        return Running(f"http://127.0.0.1:{port}", app, server, metrics, client)

    yield start
    for server, thread, client in started:
        client.close()
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def no_steward_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``STEWARD_*`` setting leaks in from the machine, and the working directory is
    a fresh one (where `steward serve` puts its default SQLite file)."""
    for key in list(os.environ):
        if key.startswith("STEWARD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def app_on(gh: GitHubAppServer, clock: FakeClock, **kw: object) -> GitHubApp:
    """The App of ``gh`` (its id and key), on ``clock``'s time."""
    return GitHubApp(
        APP_ID,
        gh.private_key_pem,
        base_url=gh.url,
        clock=clock,
        sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )
