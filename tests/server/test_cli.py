"""`steward serve` and its subcommands through the real entry point: what they refuse (exit
2, one line), a database they cannot reach (exit 1, one line), and the server run as a
process with real App credentials against the local GitHub App, with JSON logs."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import SECRET, signed_headers, with_installation
from tests.server.fakes import app_server_env
from tests.server.postgres import free_port
from tests.server.processes import Server
from tests.support.cli import run_cli
from tests.support.github_app_server import INSTALLATION_ID, SLUG, GitHubAppServer
from tests.support.github_material import pull_request_event

ROOT = Path(__file__).resolve().parents[2]
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


pytestmark = pytest.mark.usefixtures("no_steward_env")


def test_serve_refuses_to_start_without_a_secret_and_app_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["serve"], capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        "error: steward serve needs a webhook secret (STEWARD_WEBHOOK_SECRET), the App id "
        "(STEWARD_APP_ID), the App's private key (STEWARD_PRIVATE_KEY_FILE)"
    ]
    monkeypatch.setenv("STEWARD_WEBHOOK_SECRET", "s")
    code, _, err = run_cli(["serve", "--port", "0"], capsys)
    assert code == 2
    assert "the App id" in err
    assert "webhook secret" not in err
    code, _, err = run_cli(["serve", "worker"], capsys)
    assert code == 2
    assert "needs the App id" in err


def test_migrate_status_and_retry(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    code, out, err = run_cli(["serve", "migrate", "--database", url], capsys)
    assert (code, err) == (0, "")
    assert out.strip().endswith("schema empty -> 0004")
    code, out, _ = run_cli(["serve", "migrate", "--database", url], capsys)
    assert out.strip().endswith("schema at 0004, nothing to do")
    code, out, _ = run_cli(["serve", "status", "--database", url, "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {
        "jobs": {"queued": 0, "running": 0, "done": 0, "dead": 0},
        "dead": [],
    }
    code, _, err = run_cli(["serve", "retry", "--database", url], capsys)
    assert code == 2
    assert "--all" in err
    code, out, _ = run_cli(["serve", "retry", "--all", "--database", url], capsys)
    assert (code, out.strip()) == (0, "0 job(s) queued again")


def test_retry_queues_with_the_configured_attempts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve retry` builds its inbox from the settings, as `serve worker` does: the jobs it
    queues again get STEWARD_MAX_ATTEMPTS attempts, not the default."""
    from steward.server.jobs import Jobs

    url = f"sqlite:///{tmp_path}/inbox.db"
    assert run_cli(["serve", "migrate", "--database", url], capsys)[0] == 0
    seen: list[int] = []
    retry = Jobs.retry

    def spy(self: Jobs, *args: Any, **kwargs: Any) -> int:
        seen.append(self.max_attempts)
        return retry(self, *args, **kwargs)

    monkeypatch.setattr(Jobs, "retry", spy)
    monkeypatch.setenv("STEWARD_MAX_ATTEMPTS", "3")
    code, out, err = run_cli(["serve", "retry", "--all", "--database", url], capsys)
    assert (code, out.strip(), err) == (0, "0 job(s) queued again", "")
    assert seen == [3]


def test_a_database_that_cannot_be_reached_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql://steward:pw-not-shown@127.0.0.1:{free_port()}/nowhere"
    for args in (["serve", "migrate"], ["serve", "status"]):
        code, _, err = run_cli([*args, "--database", url], capsys)
        assert code == 1
        [line] = err.strip().splitlines()
        assert line.startswith("error: database postgresql+psycopg://steward:***@127.0.0.1:")
        assert "pw-not-shown" not in err


def test_a_worker_whose_database_cannot_be_reached_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    monkeypatch.setenv("STEWARD_APP_ID", "1")
    monkeypatch.setenv("STEWARD_PRIVATE_KEY", "unused")
    handlers = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        url = f"postgresql://steward@127.0.0.1:{free_port()}/nowhere"
        code, _, err = run_cli(["serve", "worker", "--database", url], capsys)
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("error: database postgresql+psycopg://")
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers


def test_bad_settings_are_config_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    conf = tmp_path / "server.toml"
    conf.write_text("prot = 8000\n")
    code, _, err = run_cli(["serve", "status", "--config", str(conf)], capsys)
    assert code == 2
    assert "unknown setting 'prot'" in err
    code, _, err = run_cli(["serve", "status", "--database", "mysql://db/x"], capsys)
    assert code == 2
    assert "SQLite or PostgreSQL" in err


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["serve", "--help"], capsys)
    assert code == 0
    for name in ("migrate", "worker", "status", "retry", "reconcile"):
        assert f"  {name} " in out


# -- the server as a process, with the App's real authentication ------------------------------


@pytest.fixture
def app_github() -> Iterator[GitHubAppServer]:
    with GitHubAppServer() as server:
        yield server
        server.assert_clean()


@pytest.mark.slow
def test_the_server_process_with_real_app_credentials(
    app_github: GitHubAppServer, tmp_path: Path
) -> None:
    gh = app_github
    gh.add_pr(2, "feat(logger): add a sampling rate", files=[("README.md", 3, 1)])
    gh.set_file(".github/steward.yml", "size:\n  enabled: false\n")
    database = f"sqlite:///{tmp_path}/inbox.db"
    env = app_server_env(gh.private_key_pem, gh.url, gh.app_id, SECRET, database, tmp_path)
    log = tmp_path / "server.log"
    server = Server(env, log, "--workers", "2")
    url = server.url
    try:
        payload = with_installation(pull_request_event("opened", head_sha=SHA), INSTALLATION_ID)
        body = json.dumps(payload).encode()
        r = httpx.post(
            f"{url}/webhook", content=body, headers=signed_headers("pull_request", "d-1", body)
        )
        assert r.status_code == 202
        deadline = time.monotonic() + 60
        done = 'steward_jobs_processed_total{kind="event"} 1.0'
        while done not in (metrics := httpx.get(server.metrics_url).text):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        assert sorted(gh.labels_of(2)) == ["documentation", "feature"]
        assert "steward_github_api_calls_total" in metrics
        assert f'steward_github_rate_limit_remaining{{installation="{INSTALLATION_ID}"' in metrics
    finally:
        assert server.stop() in {0, -signal.SIGTERM}
    # the repository's own config applied (no size label), the bot was read from GET /app
    assert not any(lbl.startswith("size/") for lbl in gh.labels_of(2))
    assert any(c.path == "/app" for c in gh.all_calls)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    assert any("processed pull_request/opened" in str(x["message"]) for x in lines)
    text = log.read_text()
    assert SECRET not in text
    assert "PRIVATE KEY" not in text
    assert not any(t in text for t in gh.issued)  # no installation token either
    _ = SLUG


@pytest.mark.slow
def test_reconcile_runs_in_the_serve_group(
    app_github: GitHubAppServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gh = app_github
    gh.add_delivery("in-inbox", status_code=502)
    gh.add_delivery("missed", status_code=502)
    url = f"sqlite:///{tmp_path}/inbox.db"
    assert run_cli(["serve", "migrate", "--database", url], capsys)[0] == 0
    from steward.server import intake
    from steward.server.db import make_engine
    from steward.server.inbox import Inbox

    engine = make_engine(url)
    item = intake.incoming(intake.Headers("issues", "in-inbox", "", "1"), {}, b"{}")
    Inbox(engine).deliveries.record([item])
    engine.dispose()
    key = tmp_path / "app.pem"
    key.write_text(gh.private_key_pem)
    monkeypatch.setenv("STEWARD_APP_ID", str(gh.app_id))
    monkeypatch.setenv("STEWARD_PRIVATE_KEY_FILE", str(key))
    monkeypatch.setenv("STEWARD_API_URL", gh.url)
    code, out, err = run_cli(["serve", "--database", url, "reconcile", "--json"], capsys)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    assert report["in_inbox"] == ["in-inbox"]
    assert [d["guid"] for d in report["redelivered"]] == ["missed"]
