"""A small local GitHub for release notes: search for merged PRs, and releases.

Real HTTP on 127.0.0.1 (a free port). Every request is validated against GitHub's OpenAPI
description and every answer is GitHub's own example object for the operation (from the
description), filled from this server's state, then validated before it is sent. Violations
are recorded; the tests assert there were none.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support import openapi

_MERGED = re.compile(r"merged:>(\S+)")


class ReleasesServer:
    def __init__(self, repo: str = "octo/app") -> None:
        self.repo = repo
        self.pulls: list[dict[str, Any]] = []  # number, title, login, labels, merged_at
        self.releases: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self._next_id = 100
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                status, reply, headers = server.handle(method, self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ReleasesServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- state -----------------------------------------------------------------------------

    def add_pull(
        self, number: int, title: str, login: str, labels: list[str], merged_at: str
    ) -> None:
        self.pulls.append(
            {
                "number": number,
                "title": title,
                "login": login,
                "labels": labels,
                "merged_at": merged_at,
            }
        )

    def add_release(
        self,
        tag: str,
        *,
        draft: bool = False,
        body: str = "",
        published_at: str | None = "2024-01-01T00:00:00Z",
    ) -> dict[str, Any]:
        rel = openapi.example("release")
        self._next_id += 1
        rel.update(
            {
                "id": self._next_id,
                "tag_name": tag,
                "name": tag,
                "body": body,
                "draft": draft,
                "prerelease": False,
                "published_at": None if draft else published_at,
            }
        )
        self.releases.insert(0, rel)
        return rel

    # -- HTTP ------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, body: bytes | None
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            parts = urlsplit(target)
            self.calls.append((method, parts.path))
            try:
                openapi.validate_request(method, target, body, {"content-type": "application/json"})
            except openapi.SpecViolation as exc:
                self.violations.append(str(exc))
                return 400, {"message": str(exc)}, {}
            query = dict(parse_qsl(parts.query))
            status, reply, headers = self._dispatch(method, parts.path, query, body)
            try:
                openapi.validate_response(
                    method,
                    target,
                    status,
                    json.dumps(reply).encode(),
                    {"content-type": "application/json"},
                    body,
                )
            except openapi.SpecViolation as exc:
                self.violations.append(str(exc))
            return status, reply, headers

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: bytes | None
    ) -> tuple[int, Any, dict[str, str]]:
        base = f"/repos/{self.repo}/releases"
        if method == "GET" and path == "/search/issues":
            return self._search(path, query)
        if method == "GET" and path == base:
            return 200, self.releases, {}
        if method == "POST" and path == base:
            data = json.loads(body or b"{}")
            rel = self.add_release(
                data["tag_name"], draft=bool(data.get("draft")), body=data.get("body", "")
            )
            rel["name"] = data.get("name", rel["name"])
            return 201, rel, {}
        if method == "PATCH" and path.startswith(base + "/"):
            rid = int(path.rsplit("/", 1)[1])
            for rel in self.releases:
                if rel["id"] == rid:
                    rel.update(json.loads(body or b"{}"))
                    return 200, rel, {}
        if method == "GET" and path.startswith(base + "/tags/"):
            tag = path.rsplit("/", 1)[1]
            for rel in self.releases:
                if rel["tag_name"] == tag:
                    return 200, rel, {}
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}, {}

    def _search(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        q = query.get("q", "")
        m = _MERGED.search(q)
        since = m.group(1) if m else ""
        hits = [p for p in self.pulls if f"repo:{self.repo}" in q and p["merged_at"] > since]
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        chunk = hits[(page - 1) * per_page : page * per_page]
        template = openapi.example("issue-search-result-item-paginated")
        item0 = template["items"][0]
        items = []
        for p in chunk:
            item = json.loads(json.dumps(item0))
            item["number"] = p["number"]
            item["title"] = p["title"]
            item["user"]["login"] = p["login"]
            item["labels"] = [{**item0["labels"][0], "name": n} for n in p["labels"]]
            item["pull_request"] = {
                **item0.get("pull_request", {}),
                "merged_at": p["merged_at"],
                "url": "https://api.github.com/repos/x/y/pulls/1",
                "html_url": "https://github.com/x/y/pull/1",
                "diff_url": "https://github.com/x/y/pull/1.diff",
                "patch_url": "https://github.com/x/y/pull/1.patch",
            }
            items.append(item)
        reply = {**template, "total_count": len(hits), "incomplete_results": False, "items": items}
        headers = {}
        if page * per_page < len(hits):
            nxt = urlencode({"q": q, "per_page": per_page, "page": page + 1})
            headers["link"] = f'<{self.url}{path}?{nxt}>; rel="next"'
        return 200, reply, headers
