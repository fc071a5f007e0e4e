"""`steward serve` and `steward serve worker` as real processes (tests and the benchmark):
started through the real entry point, killed or stopped by their own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
# `steward ARGS` in a new interpreter, through the real entry point (what the console script
# runs), importing nothing from the tests: a worker the chaos run starts every few seconds
# pays for every module it imports.
LAUNCH = "import sys\nfrom steward.cli.main import main\nmain(sys.argv[1:])\n"


class Process:
    """One `steward ...` process in its own session (so a kill takes its children too)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a lost machine does."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the graceful end."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise
        finally:
            self._log.close()

    def tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


class Server(Process):
    """``steward serve`` on 127.0.0.1; `url` once /healthz answers; its /metrics listener
    at `metrics_url`."""

    def __init__(self, env: dict[str, str], log: Path, *args: str, port: int = 0) -> None:
        self.port = port or free_port()
        self.metrics_port = free_port()
        super().__init__(
            ["serve", "--port", str(self.port), "--metrics-port", str(self.metrics_port), *args],
            env,
            log,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not self.alive() or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"steward serve did not start:\n{self.tail()}")
            time.sleep(0.05)
