"""One invoke, one child process: `sys.executable -S bootstrap.py`, killed at the timeout.

The child gets a clean environment (the function's, Lambda's reserved variables, and from
this process only PATH, HOME, LANG, the AWS credentials and endpoints), its own process
group (so a timeout kills whatever it started), and writes its result to a file of its
own, apart from stdout and stderr, which are captured line by line (bounded) for the logs.
Memory is reported, not enforced.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
MAX_OUTPUT = 1 << 20  # bytes of stdout and stderr kept per invoke (the logs' share)
MAX_LINE = 256 * 1024 - 26  # a CloudWatch Logs event's message, at most
MAX_RESULT_FILE = 8 * 1024 * 1024  # the 6 MB payload, JSON-escaped, with room to spare
PASSTHROUGH = ("PATH", "HOME", "LANG")
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass
class Outcome:
    """What the child did: its result (None if it wrote none), output lines, and timing."""

    ok: bool
    body: str | None
    lines: list[tuple[int, str]] = field(default_factory=list)
    timed_out: bool = False
    exit_code: int | None = None
    duration_ms: float = 0.0
    max_rss_mb: int = 0
    truncated: bool = False


def parent_env(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """What the child may inherit from the test process: nothing else leaks in."""
    return {
        k: v
        for k, v in environ.items()
        if k in PASSTHROUGH or k in CREDENTIALS or k.startswith("AWS_ENDPOINT_URL")
    }


class _Reader(threading.Thread):
    """Reads the child's merged stdout/stderr into timestamped lines, keeping MAX_OUTPUT."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[tuple[int, str]] = []
        self.kept = 0
        self.truncated = False

    def run(self) -> None:
        with self.stream:
            while line := self.stream.readline(MAX_LINE):
                if self.kept >= MAX_OUTPUT:
                    self.truncated = True
                    continue
                self.kept += len(line)
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                if text.strip():
                    self.lines.append((int(time.time() * 1000), text))


def run_child(spec: dict[str, Any], env: dict[str, str], timeout: float, event: bytes) -> Outcome:
    """Run the bootstrap with `spec` (paths, handler, context) and `event`; wait at most
    `timeout` seconds, then kill the child's process group."""
    with tempfile.TemporaryDirectory(prefix="steward-invoke-") as tmp:
        event_file = Path(tmp, "event.json")
        event_file.write_bytes(event)
        result_file = Path(tmp, "result.json")
        spec_file = Path(tmp, "spec.json")
        spec_file.write_text(
            json.dumps({**spec, "event_file": str(event_file), "result_file": str(result_file)}),
            encoding="utf-8",
        )
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-u", str(BOOTSTRAP), str(spec_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=spec["task_root"],
            start_new_session=True,
        )
        reader = _Reader(proc.stdout)
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
        duration = (time.monotonic() - started) * 1000
        reader.join(timeout=5)
        outcome = Outcome(
            ok=False,
            body=None,
            lines=list(reader.lines),
            timed_out=timed_out,
            exit_code=proc.returncode,
            duration_ms=duration,
            truncated=reader.truncated,
        )
        if not timed_out:
            _read_result(result_file, outcome)
        return outcome


def _kill_group(pid: int) -> None:
    """Whatever the handler started dies with it (the group outlives a finished child)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _read_result(path: Path, outcome: Outcome) -> None:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RESULT_FILE + 1)
    except FileNotFoundError:
        return
    if len(raw) > MAX_RESULT_FILE:  # the bootstrap caps it; a handler may have written it
        outcome.body = json.dumps(
            {
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                "(6291556 bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        )
        return
    result = json.loads(raw)
    outcome.ok = bool(result["ok"])
    outcome.body = str(result["body"])
    outcome.max_rss_mb = max(int(result.get("max_rss_kb", 0)) // 1024, 1)
