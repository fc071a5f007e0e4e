"""Replay `@octokit/fixtures` scenarios (recorded real api.github.com traffic) over HTTP.

A scenario's ``normalized-fixture.json`` is a list of exchanges (method, path with query,
request body, status, response headers and body) in the order the recording made them. The
replay server answers each request with the next recorded exchange, after checking the
request matches it (method, path and query), and rewrites ``https://api.github.com`` in Link
headers to itself so pagination stays local. Note: the fixtures' ``x-ratelimit-reset`` values
are milliseconds (normalised by the recorder), not GitHub's seconds.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.github_material import OCTOKIT

SCENARIOS = OCTOKIT / "fixtures" / "scenarios" / "api.github.com"


def load_scenario(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (SCENARIOS / name / "normalized-fixture.json").read_text("utf-8")
    )
    return data


def _key(method: str, target: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(target)
    return method.upper(), parts.path, tuple(sorted(parse_qsl(parts.query)))


@dataclass
class ReplayServer:
    exchanges: list[dict[str, Any]]
    seen: list[tuple[str, str]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    # the request headers of each request, in order (e.g. to see where the token went)
    headers_seen: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ReplayServer:
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(
        self, method: str, target: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.seen.append((method, target))
            self.headers_seen.append(dict(headers or {}))
            if self._next >= len(self.exchanges):
                self.mismatches.append(f"unexpected extra request {method} {target}")
                return 599, {}, b""
            ex = self.exchanges[self._next]
            self._next += 1
        if _key(method, target) != _key(ex["method"], ex["path"]):
            self.mismatches.append(f"expected {ex['method']} {ex['path']}, got {method} {target}")
        headers = {
            k: str(v).replace("https://api.github.com", self.url)
            for k, v in (ex.get("headers") or {}).items()
            if k.lower() not in {"content-length", "transfer-encoding", "connection"}
        }
        body = ex.get("response")
        payload = b"" if body in (None, "") else json.dumps(body).encode()
        return int(ex["status"]), headers, payload


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            sent = {k.lower(): v for k, v in self.headers.items()}
            status, headers, payload = server.answer(self.command, self.path, sent)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
