"""PyPI Trusted Publishing against local fakes of both ends: a GitHub Actions runner that
issues OIDC tokens, and an index front with Warehouse's `/_/oidc/audience` and
`/_/oidc/mint-token` that forwards uploads to a real pypiserver. The minted token is the
pypiserver password of `__token__`, so an upload succeeds only with the token it minted.

Simplified from reality: the fake runner's token is an opaque string, not a signed JWT,
and the front accepts exactly the one it expects (PyPI checks the JWT's signature and
claims against the trusted publisher's repository, workflow and environment).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.errors import ReleaseError
from steward.pipeline import trusted_publishing
from tests.pipeline.conftest import make_sample
from tests.pipeline.test_release_run import VERSION, run_cli, statuses
from tests.support.pypi_index import running_index

RUNNER_SECRET = "runner-request-token-123"
AUDIENCE = "testpypi"
OIDC = f"oidc-token-for-{AUDIENCE}"
MINTED = "pypi-minted-short-lived-456"


@dataclass
class Seen:
    """Every request each fake received: (method, path with query, headers, body)."""

    runner: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    front: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


def _server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _answer(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@dataclass
class Fakes:
    runner_url: str
    front_url: str
    seen: Seen


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[tuple[Fakes, Any]]:
    seen = Seen()
    with running_index(tmp_path, "__token__", MINTED) as index:
        upstream = index.upload_url

        class Runner(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.runner.append(("GET", self.path, dict(self.headers), b""))
                if self.headers.get("Authorization") != f"bearer {RUNNER_SECRET}":
                    _answer(self, 401, b"{}", "application/json")
                    return
                audience = self.path.split("audience=", 1)[-1]
                value = (
                    "forged" if self.path.startswith("/forged") else f"oidc-token-for-{audience}"
                )
                body = json.dumps({"value": value}).encode()
                _answer(self, 200, body, "application/json")

            def log_message(self, *args: Any) -> None:
                pass

        class Front(BaseHTTPRequestHandler):
            def _record(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                seen.front.append((self.command, self.path, dict(self.headers), body))
                return body

            def do_GET(self) -> None:
                self._record()
                if self.path == "/_/oidc/audience":
                    _answer(
                        self, 200, json.dumps({"audience": AUDIENCE}).encode(), "application/json"
                    )
                else:
                    _answer(self, 404, b"", "text/plain")

            def do_POST(self) -> None:
                body = self._record()
                if self.path == "/_/oidc/mint-token":
                    if json.loads(body).get("token") == OIDC:
                        _answer(
                            self, 200, json.dumps({"token": MINTED}).encode(), "application/json"
                        )
                    else:
                        error = {
                            "message": "Token request failed",
                            "errors": [
                                {
                                    "code": "invalid-publisher",
                                    "description": "valid token, but no corresponding publisher",
                                }
                            ],
                        }
                        _answer(self, 422, json.dumps(error).encode(), "application/json")
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in {"authorization", "content-type"}
                }
                forwarded = httpx.post(upstream, content=body, headers=headers, timeout=30)
                _answer(self, forwarded.status_code, forwarded.content, "text/plain")

            def log_message(self, *args: Any) -> None:
                pass

        runner, front = _server(Runner), _server(Front)
        try:
            yield (
                Fakes(
                    f"http://127.0.0.1:{runner.server_port}/token?api-version=2.0",
                    f"http://127.0.0.1:{front.server_port}/legacy/",
                    seen,
                ),
                index,
            )
        finally:
            runner.shutdown()
            front.shutdown()


def _env(f: Fakes) -> dict[str, str]:
    return {
        trusted_publishing.REQUEST_URL_ENV: f.runner_url,
        trusted_publishing.REQUEST_TOKEN_ENV: RUNNER_SECRET,
    }


def test_the_token_is_minted_and_each_secret_goes_only_where_it_belongs(fakes: Any) -> None:
    f, _ = fakes
    assert trusted_publishing.upload_token(f.front_url, _env(f)) == MINTED
    # the runner saw its own secret and the audience, nothing of the index's
    assert [(m, p.split("?")[0]) for m, p, _, _ in f.seen.runner] == [("GET", "/token")]
    assert f"audience={AUDIENCE}" in f.seen.runner[0][1]
    # the index saw the OIDC token (in the mint body) and never the runner's secret
    assert [(m, p) for m, p, _, _ in f.seen.front] == [
        ("GET", "/_/oidc/audience"),
        ("POST", "/_/oidc/mint-token"),
    ]
    assert json.loads(f.seen.front[1][3]) == {"token": OIDC}
    for _, _, headers, body in f.seen.front:
        assert RUNNER_SECRET not in json.dumps(headers) + body.decode()


def test_a_refused_exchange_says_why_and_leaks_no_token(fakes: Any) -> None:
    f, _ = fakes
    forged = {
        **_env(f),
        trusted_publishing.REQUEST_URL_ENV: f.runner_url.replace("/token", "/forged"),
    }
    with pytest.raises(ReleaseError, match="invalid-publisher: valid token, but no corr") as caught:
        trusted_publishing.upload_token(f.front_url, forged)
    assert "forged" not in str(caught.value)
    assert RUNNER_SECRET not in str(caught.value)


def test_an_unreachable_index_is_retried_then_named(fakes: Any) -> None:
    f, _ = fakes
    slept: list[float] = []
    with pytest.raises(ReleaseError, match=r"127\.0\.0\.1:1/_/oidc/audience") as caught:
        trusted_publishing.upload_token("http://127.0.0.1:1/legacy/", _env(f), sleep=slept.append)
    assert slept == [1, 2]  # three attempts
    assert RUNNER_SECRET not in str(caught.value)


def test_without_id_token_permission_the_error_says_what_to_add() -> None:
    with pytest.raises(ReleaseError, match="id-token: write"):
        trusted_publishing.upload_token("https://upload.pypi.org/legacy/", {})
    assert trusted_publishing.index_origin("https://upload.pypi.org/legacy/") == (
        "https://upload.pypi.org"
    )


def test_a_release_publishes_with_no_password_through_trusted_publishing(
    tmp_path: Path, fakes: Any
) -> None:
    f, index = fakes

    @dataclass
    class Front:
        upload_url: str
        simple_url: str

    sample = make_sample(tmp_path, Front(f.front_url, index.simple_url))  # type: ignore[arg-type]
    env = {k: v for k, v in sample.env().items() if k not in {"TWINE_USERNAME", "TWINE_PASSWORD"}}
    env.update(_env(f))
    result = run_cli(["run", "--version", VERSION, "--path", str(sample.root)], env)
    assert result.exit_code == 0, result.output
    assert "trusted publishing: minted a short-lived token" in result.output
    assert MINTED not in result.output
    assert OIDC not in result.output
    assert statuses(sample)["publish"] == "completed"
    assert sorted(p.name for p in index.packages.iterdir()) == [
        f"sample-{VERSION}-py3-none-any.whl",
        f"sample-{VERSION}.tar.gz",
    ]
