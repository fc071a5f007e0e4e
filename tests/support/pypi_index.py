"""A real PyPI-compatible index (pypiserver) on 127.0.0.1, for publish tests and benchmarks.

Uploads need the htpasswd user; `--disable-fallback` keeps it from redirecting to pypi.org.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Index:
    port: int
    packages: Path

    @property
    def upload_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def simple_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"


@contextmanager
def running_index(base: Path, user: str, password: str, *, timeout: float = 20) -> Iterator[Index]:
    """Start pypiserver serving ``base/index-packages``; stop it on exit.

    Raises `RuntimeError` with the server's log when it does not answer within ``timeout``.
    """
    with warnings.catch_warnings():  # passlib imports the deprecated `crypt` module
        warnings.simplefilter("ignore", DeprecationWarning)
        from passlib.apache import HtpasswdFile

    packages = base / "index-packages"
    packages.mkdir()
    htpasswd = base / "htpasswd"
    ht = HtpasswdFile(str(htpasswd), new=True)
    ht.set_password(user, password)
    ht.save()
    port = free_port()
    log_path = base / "pypiserver.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "pypiserver", "run",
                "-i", "127.0.0.1", "-p", str(port),
                "-P", str(htpasswd), "-a", "update",
                "--disable-fallback", str(packages),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/simple/"
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pypiserver did not start: {log_path.read_text()}")
                time.sleep(0.1)
            yield Index(port, packages)
        finally:
            proc.terminate()
            proc.wait(10)
