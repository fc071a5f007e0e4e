"""A loopback HTTP server that answers what a test scripts, and records what it was sent.

For answers that are *not* GitHub's (an HTML page from a proxy, a redirect to another host,
a misconfigured ``GITHUB_API_URL``) and for standing in as "another origin" that must never
receive the token. Anything shaped like GitHub comes from the spec-validating `GitHubServer`
or the recorded traffic instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Seen:
    method: str
    target: str
    headers: dict[str, str]


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # A body sent as it is made (chunked), for one larger than a test should hold: each call
    # gives a fresh iterator. A client that stops reading ends the answer early.
    chunks: Callable[[], Iterable[bytes]] | None = None


class RawServer:
    """``with RawServer() as srv: srv.answers["/path"] = Answer(200, b"<html>")``; unknown
    paths get a 404 with an empty body."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.answers: dict[str, Answer] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), _handler(self))
        self._httpd.daemon_threads = True
        self.host = host

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def __enter__(self) -> RawServer:
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, method: str, target: str, headers: dict[str, str]) -> Answer:
        with self._lock:
            self.seen.append(Seen(method, target, headers))
        return self.answers.get(urlsplit(target).path, Answer(404))


def _handler(server: RawServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            ans = server.answer(self.command, self.path, headers)
            self.send_response(ans.status)
            for k, v in ans.headers.items():
                self.send_header(k, v)
            if ans.chunks is not None:
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in ans.chunks():
                        if chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                except ConnectionError:  # the client stopped reading: what the test wants
                    self.close_connection = True
                return
            self.send_header("content-length", str(len(ans.body)))
            self.end_headers()
            self.wfile.write(ans.body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
