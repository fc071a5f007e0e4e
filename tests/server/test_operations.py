"""`steward serve` run as an operator runs it (#20): real server processes, real failures.

- GitHub down does not take the intake down: the workers wait for it, one log line per try.
- /metrics is not on the webhook listener, but on its own.
- /healthz and /readyz say what a delivery sent now would meet: a full disk (SQLite on a
  small tmpfs) and a stopped PostgreSQL are 503 until they mend.
- Start-up checks: one line, exit 2, before anything is served.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import SECRET, signed_headers, with_installation
from tests.server.postgres import Cluster, free_port
from tests.server.processes import Process, Server
from tests.support.cli import run_cli
from tests.support.github_app_server import INSTALLATION_ID, GitHubAppServer, app_private_key_pem
from tests.support.github_material import pull_request_event

pytestmark = pytest.mark.usefixtures("no_steward_env")

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def app_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    key = tmp_path / "app.pem"
    if not key.exists():
        key.write_text(app_private_key_pem())
    return {
        "STEWARD_APP_ID": "1",
        "STEWARD_APP_SLUG": "steward-test",
        "STEWARD_PRIVATE_KEY_FILE": str(key),
        "STEWARD_WEBHOOK_SECRET": SECRET,
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_POLL_INTERVAL": "0.05",
        "STEWARD_SURVEY_INTERVAL_SECONDS": "0",  # no releases served here
        **extra,
    }


def post(
    url: str, delivery: str, number: int = 2, body_pad: str = "", installation: int = 7
) -> httpx.Response:
    payload = with_installation(
        pull_request_event("opened", number=number, head_sha=SHA), installation
    )
    if body_pad:
        payload["pull_request"]["body"] = body_pad
    body = json.dumps(payload).encode()
    return httpx.post(
        f"{url}/webhook",
        content=body,
        headers=signed_headers("pull_request", delivery, body),
        timeout=30,
    )


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        time.sleep(0.1)


def finished(proc: Process, timeout: float = 60.0) -> tuple[int, str]:
    """Wait for a process that should end by itself: its exit code and its log."""
    code = proc.proc.wait(timeout)
    proc._log.close()
    return code, proc.tail(20000)


# -- 1. GitHub down -----------------------------------------------------------------------


class Gate:
    """A TCP port in front of the local GitHub: while closed it drops every connection
    (GitHub unreachable); opened, it forwards them."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.open = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.open.is_set():
                self.dropped += 1
                conn.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.slow
def test_github_down_does_not_take_the_intake_down(tmp_path: Path) -> None:
    """No App slug and GitHub unreachable: the server starts, stores and acknowledges; the
    workers retry (one warning line each, no traceback) and process the delivery once
    GitHub answers."""
    with GitHubAppServer() as gh:
        gh.add_pr(2, "feat(logger): add a sampling rate", files=[("README.md", 3, 1)])
        gate = Gate(int(gh.url.rsplit(":", 1)[1].split("/")[0]))
        env = app_env(tmp_path, f"sqlite:///{tmp_path}/inbox.db")
        del env["STEWARD_APP_SLUG"]
        (tmp_path / "app.pem").write_text(gh.private_key_pem)
        env |= {
            "STEWARD_APP_ID": str(gh.app_id),
            "STEWARD_API_URL": gh.url.replace(str(gate.target), str(gate.port), 1),
            "STEWARD_BACKOFF_SECONDS": "0.2",
            "STEWARD_BACKOFF_MAX_SECONDS": "1",
        }
        started = time.monotonic()
        server = Server(env, tmp_path / "server.log", "--workers", "1")
        try:
            assert time.monotonic() - started < 15, "the intake waited for GitHub"
            r = httpx.get(f"{server.url}/healthz")
            assert r.status_code == 200
            assert r.json()["waiting"] == "waiting for GitHub"
            assert post(server.url, "d-1", installation=INSTALLATION_ID).status_code == 202
            wait_for(lambda: "workers wait for GitHub" in server.tail(), what="a retry line")
            assert gate.dropped > 0
            time.sleep(1)
            assert server.alive()
            gate.open.set()
            done = 'steward_jobs_processed_total{kind="event"} 1.0'
            wait_for(lambda: done in httpx.get(server.metrics_url).text, 90, "the job")
            assert "waiting" not in httpx.get(f"{server.url}/healthz").json()
        finally:
            assert server.stop() in {0, -signal.SIGTERM}
            gate.close()
        assert "feature" in gh.labels_of(2)
        assert any(c.path == "/app" for c in gh.all_calls)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
    lines = [json.loads(x) for x in log.splitlines() if x.strip()]
    retries = [x for x in lines if "workers wait for GitHub" in x["message"]]
    assert retries, log[-3000:]
    assert all("\n" not in x["message"] for x in retries)


# -- 3. slow clients ----------------------------------------------------------------------


def _slowloris(url_port: int, n: int, stop: threading.Event, closed: list[float]) -> None:
    """``n`` connections, each sending a request's headers one byte a second."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", url_port))
        s.setblocking(False)
        socks.append(s)
    opened = time.monotonic()
    text = b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    i = 0
    while socks and not stop.is_set():
        for s in list(socks):
            try:
                s.send(text[i % len(text) : i % len(text) + 1])
                if s.recv(1) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                closed.append(time.monotonic() - opened)
                socks.remove(s)
                s.close()
        i += 1
        stop.wait(1.0)
    for s in socks:
        s.close()


@pytest.mark.slow
def test_slow_clients_are_cut_off(tmp_path: Path) -> None:
    """200 connections sending a byte a second are closed within the header deadline (2 s
    here), a body that trickles is cut at the body deadline, and a normal delivery gets
    through meanwhile."""
    env = app_env(
        tmp_path,
        f"sqlite:///{tmp_path}/inbox.db",
        STEWARD_HEADER_TIMEOUT_SECONDS="2",
        STEWARD_BODY_TIMEOUT_SECONDS="3",
    )
    server = Server(env, tmp_path / "server.log", "--workers", "0")
    stop = threading.Event()
    closed: list[float] = []
    try:
        loris = threading.Thread(target=_slowloris, args=(server.port, 200, stop, closed))
        loris.start()
        time.sleep(0.5)
        assert post(server.url, "d-1").status_code == 202
        loris.join(15)
        assert not loris.is_alive(), f"{len(closed)} of 200 closed"
        assert len(closed) == 200
        assert max(closed) < 2 + 2.5, max(closed)  # the deadline, plus a send's second
        # a body that trickles after its headers
        body = b"{" + b" " * 100
        head = (
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + b"".join(
                f"{k}: {v}\r\n".encode()
                for k, v in signed_headers("pull_request", "d-slow", body).items()
                if k != "Content-Type"
            )
            + b"Content-Length: 101\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(head)
            started = time.monotonic()
            s.settimeout(1.2)
            got = b"x"
            for byte in body:
                try:
                    s.send(bytes([byte]))
                    got = s.recv(100)
                except TimeoutError:
                    continue
                except OSError:
                    got = b""
                if got == b"" or got.startswith(b"HTTP"):
                    break
            assert time.monotonic() - started < 3 + 2.5
        assert post(server.url, "d-2", 3).status_code == 202
        metrics = httpx.get(server.metrics_url).text
        assert 'steward_webhooks_rejected_total{reason="timeout"} 201.0' in metrics
    finally:
        stop.set()
        assert server.stop() in {0, -signal.SIGTERM}


def test_connections_over_the_cap_are_closed(tmp_path: Path) -> None:
    env = app_env(tmp_path, f"sqlite:///{tmp_path}/inbox.db", STEWARD_MAX_CONNECTIONS="5")
    server = Server(env, tmp_path / "server.log", "--workers", "0")
    try:
        socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(5)
        assert extra.recv(1) == b""  # closed at once
        for s in socks:
            s.close()
        extra.close()
        wait_for(lambda: post(server.url, "d-1").status_code == 202, 10)
    finally:
        assert server.stop() in {0, -signal.SIGTERM}


# -- 5. health and readiness --------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (a disk that fills up), when this machine lets the test mount one."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {made.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\1" * size)
    finally:
        os.close(fd)
    return filler


def test_health_and_readiness_on_a_full_disk(tmp_path: Path, small_disk: Path) -> None:
    env = app_env(tmp_path, f"sqlite:///{small_disk}/inbox.db")
    server = Server(env, tmp_path / "server.log", "--workers", "0")
    try:
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        assert post(server.url, "d-0").status_code == 202
        filler = fill(small_disk)
        pad = os.urandom(150_000).hex()
        codes = [post(server.url, f"d-{i}", 2, pad).status_code for i in range(1, 40)]
        assert 503 in codes, codes
        assert post(server.url, "d-full", 2, pad).status_code == 503
        r = httpx.get(f"{server.url}/healthz")
        assert r.status_code == 503, r.text
        assert any("takes no writes" in p for p in r.json()["problems"]), r.text
        assert httpx.get(f"{server.url}/readyz").status_code == 503
        filler.unlink()
        wait_for(lambda: httpx.get(f"{server.url}/readyz").status_code == 200, 10, "ready")
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        assert post(server.url, "d-after", 3).status_code == 202
    finally:
        assert server.stop() in {0, -signal.SIGTERM}


@pytest.mark.slow
def test_health_and_readiness_with_postgresql_stopped(tmp_path: Path) -> None:
    with Cluster(fsync=False) as pg:
        env = app_env(tmp_path, pg.create())
        server = Server(env, tmp_path / "server.log", "--workers", "0")
        try:
            assert httpx.get(f"{server.url}/readyz").status_code == 200
            assert post(server.url, "d-0").status_code == 202
            pg.pause()
            assert post(server.url, "d-1", 4).status_code == 503
            for path in ("/healthz", "/readyz"):
                r = httpx.get(f"{server.url}{path}", timeout=60)
                assert r.status_code == 503, (path, r.text)
            pg.resume()
            wait_for(
                lambda: httpx.get(f"{server.url}/readyz", timeout=60).status_code == 200,
                60,
                "ready",
            )
            r = post(server.url, "d-2", 3)
            assert r.status_code == 202, r.headers
            assert httpx.get(f"{server.url}/healthz").status_code == 200
        finally:
            assert server.stop() in {0, -signal.SIGTERM}


# -- 6. /metrics on its own listener ------------------------------------------------------


def test_metrics_are_not_on_the_webhook_listener(tmp_path: Path) -> None:
    env = app_env(tmp_path, f"sqlite:///{tmp_path}/inbox.db")
    server = Server(env, tmp_path / "server.log", "--workers", "0")
    try:
        assert post(server.url, "d-1").status_code == 202
        assert httpx.get(f"{server.url}/metrics").status_code == 404
        r = httpx.get(server.metrics_url)
        assert r.status_code == 200
        assert 'steward_webhooks_received_total{event="pull_request"} 1.0' in r.text
        assert 'steward_jobs{state="queued"} 1.0' in r.text
        with pytest.raises(httpx.TransportError):  # loopback only by default
            httpx.get(server.metrics_url.replace("127.0.0.1", _outside_address()), timeout=2)
    finally:
        assert server.stop() in {0, -signal.SIGTERM}


def _outside_address() -> str:
    """An address of this machine that is not loopback (else skip)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
            addr = s.getsockname()[0]
        except OSError:
            addr = "127.0.0.1"
    if addr.startswith("127."):
        pytest.skip("no address outside loopback")
    return str(addr)


# -- 7. start-up checks -------------------------------------------------------------------


def test_a_malformed_private_key_is_one_line_before_serving(tmp_path: Path) -> None:
    env = app_env(tmp_path, f"sqlite:///{tmp_path}/inbox.db")
    (tmp_path / "app.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n")
    proc = Process(["serve", "--port", str(free_port())], env, tmp_path / "server.log")
    code, log = finished(proc)
    assert code == 2, log
    assert "Traceback" not in log
    assert log.strip().splitlines()[-1].startswith("error: the GitHub App's private key is not")


def test_a_schema_from_a_newer_steward_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path}/inbox.db"
    assert run_cli(["serve", "migrate", "--database", url], capsys)[0] == 0
    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    env = app_env(tmp_path, url)
    proc = Process(["serve", "--port", str(free_port())], env, tmp_path / "server.log")
    code, log = finished(proc)
    assert code == 2, log
    assert "Traceback" not in log
    assert "schema '9999' is unknown to this version" in log.strip().splitlines()[-1]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = app_env(tmp_path, f"sqlite:///{tmp_path}/inbox.db")
        for args in (["--port", str(port)], ["--port", "0", "--metrics-port", str(port)]):
            proc = Process(["serve", *args], env, tmp_path / "server.log")
            code, log = finished(proc)
            assert code == 2, log
            assert "Traceback" not in log
            assert f"cannot listen on 127.0.0.1:{port}" in log.strip().splitlines()[-1]


def test_retry_of_a_job_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    assert run_cli(["serve", "migrate", "--database", url], capsys)[0] == 0
    code, out, err = run_cli(["serve", "retry", "999999", "--database", url], capsys)
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == ["error: no such job: 999999"]


def test_a_missing_database_is_refused_not_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/typo.db"
    for args in (["serve", "status"], ["serve", "retry", "--all"]):
        code, out, err = run_cli([*args, "--database", url], capsys)
        assert code == 2, (args, out, err)
        [line] = err.strip().splitlines()
        assert line.startswith(f"error: no server database at {tmp_path}/typo.db")
        assert not (tmp_path / "typo.db").exists()
    assert run_cli(["serve", "migrate", "--database", url], capsys)[0] == 0
    assert (tmp_path / "typo.db").exists()
    assert run_cli(["serve", "status", "--database", url], capsys)[0] == 0
