"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb and pg_ctl in a temp dir,
listening on 127.0.0.1 only, no system service.

The binaries are found on PATH or in Debian's /usr/lib/postgresql/VERSION/bin (`make setup`
installs Debian's package when neither has them). PostgreSQL refuses to run as root, so under
root (CI) the cluster runs as the ``postgres`` account (else ``nobody``) through setpriv.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SUPERUSER = "steward"


def bindir() -> Path | None:
    """Where pg_ctl, initdb and postgres are, if anywhere."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """``with Cluster() as pg:``; ``pg.url(db)`` is a SQLAlchemy URL, ``pg.create()`` a fresh
    database's URL. ``fsync=False`` trades durability for speed (tests); the benchmark keeps
    PostgreSQL's defaults."""

    def __init__(self, *, fsync: bool = True, max_connections: int = 200) -> None:
        found = bindir()
        if found is None:
            raise RuntimeError(
                "PostgreSQL's server binaries are missing: run `make setup` "
                "(it installs Debian's postgresql package)"
            )
        self.bin = found
        self.fsync = fsync
        self.max_connections = max_connections
        self.port = 0
        self.base = Path(tempfile.mkdtemp(prefix="steward-pg-"))
        self.data = self.base / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            os.chown(self.base, account.pw_uid, account.pw_gid)
            self._as = [
                "setpriv",
                f"--reuid={account.pw_uid}",
                f"--regid={account.pw_gid}",
                "--clear-groups",
            ]

    def _run(self, *args: str) -> None:
        proc = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, check=False, cwd=self.base
        )
        if proc.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stderr.strip()}\n{tail}")

    def start(self) -> Cluster:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.port = free_port()
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server on its port and data (again, after `pause`)."""
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.base} -c max_connections={self.max_connections}"
        )
        if not self.fsync:
            options += " -F -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def pause(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data and port (`immediate`: as a crash would; only a
        durable cluster, ``fsync=True``, keeps its last commits then)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def stop(self) -> None:
        if self.port:
            subprocess.run(
                [
                    *self._as,
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
                cwd=self.base,
            )
            self.port = 0
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create(self, name: str | None = None) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # a name made here, never input
        return self.url(name)
