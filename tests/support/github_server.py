"""A stateful local GitHub for tests: real HTTP on 127.0.0.1, answering only what GitHub's
OpenAPI description allows.

It holds one repository in memory (labels, issues and PRs with labels and state, comments,
commit statuses, PR files, each item's timeline) and implements exactly the REST operations
steward's `RepoApi` sends, including issue search (``repo:``, ``is:issue``, ``author:``
qualifiers) and a timeline that records who did what: the server's own writes are the token
user's (`login`), and tests seed people's and bots' activity with `add_event` and
`add_comment`. Every incoming request is validated against the official description before it is
handled, and every response body is built from the description's own example object for the
operation, filled from the state, then validated before it is sent. A violation is recorded
(`violations`) and answered with a 400 the client cannot mistake for success; the
`github_server` fixture fails the test when any violation was recorded.

Statuses the operation does not document but GitHub sends to any request (401 bad
credentials, 5xx, rate limits: the injectable `Fault`s) are checked against GitHub's generic
``basic-error`` shape instead. Pagination follows GitHub: ``per_page`` (default 30, max 100),
``page``, and a ``Link`` header with ``next``/``last``/``first``/``prev``.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tests.support import openapi
from tests.support.github_material import REPO

DOCS = "https://docs.github.com/rest"
CREATED = "2011-04-22T13:33:48Z"  # when a seeded item was opened (GitHub's example date)
RESET_AT = 1_700_000_000  # x-ratelimit-reset sent on ordinary responses (epoch seconds)
_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int

    @property
    def is_write(self) -> bool:
        return self.method not in {"GET", "HEAD"}

    @property
    def short(self) -> tuple[str, str]:
        return (self.method, self.path)


@dataclass(slots=True)
class Fault:
    """An injected answer for the next ``times`` matching requests (e.g. 502, rate limit)."""

    status: int
    body: dict[str, Any] = field(default_factory=lambda: {"message": "Server Error"})
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    path_contains: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (
            self.times > 0
            and (self.method is None or self.method == method)
            and (self.path_contains is None or self.path_contains in path)
        )


@dataclass(slots=True)
class IssueRec:
    number: int
    title: str
    body: str = ""
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    author: str | None = "octocat"  # None: a deleted account (GitHub answers `user: null`)
    is_pr: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)
    # Last activity; every write to the issue moves it to the current time, as on GitHub.
    updated_at: str = CREATED
    created_at: str = CREATED
    # Timeline entries other than comments: {"event", "actor", "at", "label"?}, in order.
    events: list[dict[str, Any]] = field(default_factory=list)
    head_sha: str = "6dcb09b5b57875f334f61aebed695e2e4193db5e"  # a PR's head commit
    # How the issue's labels are listed; the description allows all three: "object" (what
    # GitHub usually sends), "string" (plain names) and "nameless" (objects without `name`).
    label_style: str = "object"

    def touch(self, at: str | None = None) -> None:
        self.updated_at = at or now()


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class HttpReply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _not_found(message: str = "Not Found") -> HttpReply:
    return HttpReply(404, {"message": message, "documentation_url": DOCS})


def _invalid(resource: str, code: str, fld: str) -> HttpReply:
    return HttpReply(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": code, "field": fld}],
            "documentation_url": DOCS,
        },
    )


class GitHubServer:
    """``with GitHubServer() as gh:`` starts it on a free port; ``gh.url`` is the API base."""

    def __init__(
        self, repo: str = REPO, token: str = "test-token", login: str = "steward-bot"
    ) -> None:
        self.repo = repo
        self.owner, self.name = repo.split("/")
        self.token = token
        self.login = login  # the token's user: `GET /user` answers it; comments are its own
        # Items repeated at the start of each next page (a listing that shifted while it was
        # paged, as GitHub's offset pagination does when items move): 0 for none.
        self.page_overlap = 0
        # A broken (or hostile) API's pagination: "loop" makes each page's next link the page
        # itself, "endless" gives every page a next one (empty past the items). Either stops
        # after `bad_links_max` pages, so a client that follows links forever still ends.
        self.bad_links: str | None = None
        self.bad_links_max = 100
        self._bad_pages = 0
        self.labels: dict[str, dict[str, Any]] = {}  # casefolded name -> label record
        self.issues: dict[int, IssueRec] = {}
        self.statuses: dict[str, list[dict[str, Any]]] = {}  # sha -> newest first
        self.files: dict[int, list[dict[str, Any]]] = {}
        self.calls: list[Call] = []
        self.all_calls: list[Call] = []  # never reset: every call since start
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.truncated: list[tuple[str, str]] = []  # requests whose sender stopped mid-body
        self.search_lag: set[int] = set()  # issue numbers the search index does not list yet
        self.validate = True
        self._ids = 1000
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()
        self._paths = frozenset(template for _, template, _, _ in self._routes)

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> GitHubServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = handler_for(self.handle)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        default = self._httpd.handle_error

        def quiet(request: Any, client_address: Any) -> None:
            if isinstance(sys.exc_info()[1], ConnectionError):
                return  # a client that went away (a killed process): nothing to report
            default(request, client_address)

        self._httpd.handle_error = quiet  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- seeding and inspection -----------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_label(self, name: str, color: str = "ededed", description: str | None = None) -> None:
        self.labels[name.casefold()] = {
            "id": self._next_id(),
            "name": name,
            "color": color,
            "description": description,
        }

    def add_issue(
        self,
        number: int,
        title: str = "An issue",
        *,
        labels: tuple[str, ...] = (),
        state: str = "open",
        body: str = "",
        author: str | None = "octocat",
        is_pr: bool = False,
    ) -> IssueRec:
        for name in labels:
            if name.casefold() not in self.labels:
                self.add_label(name)
        rec = IssueRec(number, title, body, state, None, list(labels), author, is_pr)
        self.issues[number] = rec
        return rec

    def add_pr(
        self,
        number: int,
        title: str,
        *,
        labels: tuple[str, ...] = (),
        files: list[tuple[str, int, int]] = (),  # type: ignore[assignment]
        body: str = "",
        author: str = "Codertocat",
        state: str = "open",
    ) -> IssueRec:
        rec = self.add_issue(
            number, title, labels=labels, body=body, author=author, is_pr=True, state=state
        )
        self.files[number] = [self._file(n, a, d) for n, a, d in files]
        return rec

    def add_comment(
        self, number: int, body: str, author: str | None = "octocat", at: str | None = None
    ) -> None:
        """A comment by ``author`` (``None``: a deleted account); with ``at``, posted then,
        which is also the item's last activity when it is later than what it had."""
        self.issues[number].comments.append(self._comment_rec(body, author, at or CREATED))
        if at is not None:
            rec = self.issues[number]
            rec.touch(max(at, rec.updated_at))

    def add_event(
        self, number: int, event: str, actor: str, at: str, *, label: str | None = None
    ) -> None:
        """A timeline event (``labeled``, ``unlabeled``, ``closed``, ``reopened``, ``renamed``,
        ``locked``, ...) by ``actor`` at ``at`` (a ``[bot]`` login is a bot); it is the
        item's last activity when later than what it had, as on GitHub."""
        rec = self.issues[number]
        rec.events.append({"event": event, "actor": actor, "at": at, "label": label})
        rec.touch(max(at, rec.updated_at))

    def add_status(self, sha: str, state: str, context: str, description: str = "") -> None:
        self.statuses.setdefault(sha, []).insert(
            0,
            {
                "id": self._next_id(),
                "state": state,
                "context": context,
                "description": description,
            },
        )

    def status_of(self, sha: str, context: str) -> tuple[str, str] | None:
        for s in self.statuses.get(sha, []):
            if s["context"] == context:
                return s["state"], s["description"]
        return None

    def labels_of(self, number: int) -> list[str]:
        return list(self.issues[number].labels)

    def comment_bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.issues[number].comments]

    def writes(self) -> list[tuple[str, str]]:
        return [c.short for c in self.calls if c.is_write]

    def issue_objects(self) -> list[dict[str, Any]]:
        """The open issues and PRs as GitHub's list-issues response would give them."""
        return [self._issue_obj(r) for r in self.issues.values() if r.state == "open"]

    def reads(self) -> list[tuple[str, str]]:
        return [c.short for c in self.calls if not c.is_write]

    def reset_calls(self) -> None:
        self.calls.clear()

    def assert_clean(self) -> None:
        if self.violations:
            raise openapi.SpecViolation("\n".join(self.violations))

    # -- request handling -------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        declared = headers.get("content-length", "")
        if declared.isdigit() and len(raw) < int(declared):
            # Its sender stopped mid-body (a killed process): dropped unread, as GitHub
            # drops it, not checked as a request that came without its body.
            with self._lock:
                self.truncated.append((method, target))
            return 400, {"content-type": "application/json"}, b'{"message":"Problems parsing JSON"}'
        parts = urlsplit(target)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            status, out_headers, payload = self._dispatch(
                method, target, path, query, headers, raw, body
            )
            call = Call(method, path, query, body, status)
            self.calls.append(call)
            self.all_calls.append(call)
        return status, out_headers, payload

    def _dispatch(
        self,
        method: str,
        target: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
        body: Any,
    ) -> tuple[int, dict[str, str], bytes]:
        base_headers = {
            "content-type": "application/json; charset=utf-8",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(RESET_AT),
            "x-ratelimit-used": "1",
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
        }
        for fault in self.faults:
            if fault.matches(method, path):
                fault.times -= 1
                return self._reply_error(
                    fault.status, fault.body, {**base_headers, **fault.headers}
                )
        auth = headers.get("authorization", "")
        if auth not in {f"Bearer {self.token}", f"token {self.token}"}:
            return self._reply_error(
                401, {"message": "Bad credentials", "documentation_url": DOCS}, base_headers
            )
        if self.validate:
            try:
                openapi.validate_request(method, target, raw, headers, paths=self._paths)
            except openapi.SpecViolation as exc:
                self.violations.append(str(exc))
                return self._reply_error(
                    400,
                    {"message": f"steward test server: {exc}"[:2000]},
                    base_headers,
                    check=False,
                )
        route = self._route(method, path)
        if route is None:
            self.violations.append(
                f"no route for {method} {path}: steward's RepoApi grew an "
                "operation the test server does not implement"
            )
            return self._reply_error(
                400, {"message": f"unrouted {method} {path}"}, base_headers, check=False
            )
        template, fn, params = route
        try:
            status, data, extra = fn(params, query, body)
        except HttpReply as reply:
            status, data, extra = reply.status, reply.body, reply.headers
        hdrs = {**base_headers, **extra}
        payload = b"" if data is None else json.dumps(data).encode()
        if status == 204:
            hdrs.pop("content-type")
        if self.validate:
            try:
                if status in openapi.documented_statuses(method, template):
                    openapi.validate_response(
                        method,
                        target,
                        status,
                        payload,
                        hdrs,
                        raw,
                        paths=self._paths,
                        template=template,
                    )
                elif status >= 400:
                    openapi.validate_error_body(data)
                else:
                    raise openapi.SpecViolation(
                        f"status {status} is not documented for {method} {template}"
                    )
            except openapi.SpecViolation as exc:
                self.violations.append(str(exc))
                return self._reply_error(
                    400,
                    {"message": f"steward test server: {exc}"[:2000]},
                    base_headers,
                    check=False,
                )
        return status, hdrs, payload

    def _reply_error(
        self, status: int, body: dict[str, Any], headers: dict[str, str], *, check: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        if check and self.validate:
            try:
                openapi.validate_error_body(body)
            except openapi.SpecViolation as exc:
                self.violations.append(str(exc))
        return status, dict(headers), json.dumps(body).encode()

    # -- routing --------------------------------------------------------------------------

    Handler = Callable[[dict[str, str], dict[str, str], Any], tuple[int, Any, dict[str, str]]]

    def _build_routes(self) -> list[tuple[str, str, re.Pattern[str], Handler]]:
        table: list[tuple[str, str, GitHubServer.Handler]] = [
            ("GET", "/repos/{owner}/{repo}/labels", self._list_labels),
            ("POST", "/repos/{owner}/{repo}/labels", self._create_label),
            ("PATCH", "/repos/{owner}/{repo}/labels/{name}", self._update_label),
            ("DELETE", "/repos/{owner}/{repo}/labels/{name}", self._delete_label),
            ("GET", "/repos/{owner}/{repo}/issues", self._list_issues),
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}", self._get_issue),
            ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", self._update_issue),
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", self._add_labels),
            (
                "DELETE",
                "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
                self._remove_label,
            ),
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", self._list_comments),
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", self._comment),
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", self._list_files),
            ("GET", "/repos/{owner}/{repo}/commits/{ref}/status", self._combined_status),
            ("POST", "/repos/{owner}/{repo}/statuses/{sha}", self._create_status),
            ("GET", "/user", self._get_user),
            ("GET", "/search/issues", self._search_issues),
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline", self._timeline),
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", self._get_pull),
        ]
        return [route(method, template, fn) for method, template, fn in table]

    def _route(self, method: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
        for m, template, rx, fn in self._routes:
            match = rx.match(path)
            if m == method and match:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                if "owner" in params and (params["owner"], params["repo"]) != (
                    self.owner,
                    self.name,
                ):
                    raise_404 = self._not_this_repo
                    return template, raise_404, params
                return template, fn, params
        return None

    def _not_this_repo(self, *_: Any) -> tuple[int, Any, dict[str, str]]:
        raise _not_found()

    # -- object builders (GitHub's own example objects, filled from state) -----------------

    def _api(self, path: str) -> str:
        return f"https://api.github.com/repos/{self.repo}{path}"

    def _label_obj(self, rec: dict[str, Any]) -> dict[str, Any]:
        obj = openapi.example("label")
        obj.update(
            id=rec["id"],
            name=rec["name"],
            color=rec["color"],
            description=rec["description"],
            default=False,
            url=self._api(f"/labels/{quote(rec['name'], safe='')}"),
        )
        return obj

    def _issue_obj(self, rec: IssueRec) -> dict[str, Any]:
        obj = openapi.example("issue")
        kind = "pull" if rec.is_pr else "issues"
        obj.update(
            id=rec.number + 500_000,
            number=rec.number,
            title=rec.title,
            body=rec.body,
            state=rec.state,
            state_reason=rec.state_reason,
            comments=len(rec.comments),
            updated_at=rec.updated_at,
            created_at=rec.created_at,
            url=self._api(f"/issues/{rec.number}"),
            html_url=f"https://github.com/{self.repo}/{kind}/{rec.number}",
            labels=self._issue_labels(rec),
            closed_at="2024-01-01T00:00:00Z" if rec.state == "closed" else None,
        )
        if rec.author is None:
            obj["user"] = None
        else:
            obj["user"]["login"] = rec.author
        if rec.is_pr:
            obj["pull_request"] = {
                "url": self._api(f"/pulls/{rec.number}"),
                "html_url": f"https://github.com/{self.repo}/pull/{rec.number}",
                "diff_url": f"https://github.com/{self.repo}/pull/{rec.number}.diff",
                "patch_url": f"https://github.com/{self.repo}/pull/{rec.number}.patch",
                "merged_at": None,
            }
        else:
            obj.pop("pull_request", None)
        return obj

    def _issue_labels(self, rec: IssueRec) -> list[Any]:
        if rec.label_style == "string":
            return list(rec.labels)
        objs = [self._label_obj(self._label_rec(n)) for n in rec.labels]
        if rec.label_style == "nameless":
            for obj in objs:
                del obj["name"]
        return objs

    def _comment_rec(self, body: str, author: str | None, at: str) -> dict[str, Any]:
        return {"id": self._next_id(), "body": body, "author": author, "at": at}

    def _comment_obj(self, number: int, rec: dict[str, Any]) -> dict[str, Any]:
        obj = openapi.example("issue-comment")
        obj.update(
            id=rec["id"],
            body=rec["body"],
            url=self._api(f"/issues/comments/{rec['id']}"),
            issue_url=self._api(f"/issues/{number}"),
            html_url=f"https://github.com/{self.repo}/issues/{number}#issuecomment-{rec['id']}",
        )
        obj.update(created_at=rec["at"], updated_at=rec["at"])
        if rec["author"] is None:
            obj["user"] = None  # a deleted account
        else:
            _as_user(obj["user"], rec["author"])
        return obj

    def _file(self, name: str, additions: int, deletions: int) -> dict[str, Any]:
        obj = openapi.example("diff-entry-items")[0]
        obj.update(
            filename=name,
            additions=additions,
            deletions=deletions,
            changes=additions + deletions,
            status="modified",
        )
        return obj

    def _status_obj(self, sha: str, rec: dict[str, Any]) -> dict[str, Any]:
        obj = openapi.example("status")
        obj.update(
            id=rec["id"],
            state=rec["state"],
            context=rec["context"],
            description=rec["description"],
            url=self._api(f"/statuses/{sha}"),
        )
        return obj

    def _label_rec(self, name: str) -> dict[str, Any]:
        rec = self.labels.get(name.casefold())
        if rec is None:  # GitHub creates unknown labels when they are added to an issue
            self.add_label(name)
            rec = self.labels[name.casefold()]
        return rec

    def _issue_rec(self, params: dict[str, str]) -> IssueRec:
        number = params.get("issue_number") or params.get("pull_number") or ""
        rec = self.issues.get(int(number)) if number.isdigit() else None
        if rec is None:
            raise _not_found()
        return rec

    # -- pagination -----------------------------------------------------------------------

    def _page(
        self, items: list[Any], path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = max(int(query.get("page", "1")), 1)
        last = max(1, -(-len(items) // per_page))
        start = max(0, (page - 1) * per_page - (self.page_overlap if page > 1 else 0))
        chunk = items[start : page * per_page]
        links = []

        def link(n: int, rel: str) -> str:
            q = urlencode({**query, "per_page": per_page, "page": n})
            return f'<{self.url}{path}?{q}>; rel="{rel}"'

        if self.bad_links is not None:
            self._bad_pages += 1
            if self._bad_pages < self.bad_links_max:
                if self.bad_links == "loop":  # the very URL asked for
                    return (
                        200,
                        chunk,
                        {"link": f'<{self.url}{path}?{urlencode(query)}>; rel="next"'},
                    )
                return 200, chunk, {"link": link(page + 1, "next")}
            return 200, chunk, {}
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        return 200, chunk, ({"link": ", ".join(links)} if links else {})

    # -- operations -----------------------------------------------------------------------

    def _list_labels(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        items = [self._label_obj(r) for r in sorted(self.labels.values(), key=lambda r: r["id"])]
        return self._page(items, f"/repos/{self.repo}/labels", q)

    def _create_label(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        name = str(body["name"])
        color = str(body.get("color", "ededed")).lstrip("#")
        if not _COLOR.match(color):
            raise _invalid("Label", "invalid", "color")
        if name.casefold() in self.labels:
            raise _invalid("Label", "already_exists", "name")
        self.add_label(name, color, body.get("description"))
        return 201, self._label_obj(self.labels[name.casefold()]), {}

    def _update_label(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        rec = self.labels.get(p["name"].casefold())
        if rec is None:
            raise _not_found()
        new = str(body.get("new_name") or rec["name"])
        if new.casefold() != rec["name"].casefold() and new.casefold() in self.labels:
            raise _invalid("Label", "already_exists", "name")
        if "color" in body and not _COLOR.match(str(body["color"])):
            raise _invalid("Label", "invalid", "color")
        old = rec["name"]
        del self.labels[old.casefold()]
        rec.update(
            name=new,
            color=body.get("color", rec["color"]),
            description=body.get("description", rec["description"]),
        )
        self.labels[new.casefold()] = rec
        for issue in self.issues.values():
            issue.labels = [new if n.casefold() == old.casefold() else n for n in issue.labels]
        return 200, self._label_obj(rec), {}

    def _delete_label(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rec = self.labels.pop(p["name"].casefold(), None)
        if rec is None:
            raise _not_found()
        for issue in self.issues.values():
            issue.labels = [n for n in issue.labels if n.casefold() != rec["name"].casefold()]
        return 204, None, {}

    def _list_issues(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        state = q.get("state", "open")
        wanted = [w.strip().casefold() for w in q.get("labels", "").split(",") if w.strip()]
        items = [
            self._issue_obj(r)
            for _, r in sorted(self.issues.items(), reverse=True)
            if (state == "all" or r.state == state)
            and all(w in {n.casefold() for n in r.labels} for w in wanted)
        ]
        return self._page(items, f"/repos/{self.repo}/issues", q)

    def _get_issue(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        return 200, self._issue_obj(self._issue_rec(p)), {}

    def _update_issue(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        rec = self._issue_rec(p)
        if "state" in body and body["state"] != rec.state:
            rec.state = body["state"]
            rec.state_reason = body.get("state_reason") or (
                "completed" if rec.state == "closed" else "reopened"
            )
            rec.events.append(
                {
                    "event": "closed" if rec.state == "closed" else "reopened",
                    "actor": self.login,
                    "at": now(),
                    "label": None,
                }
            )
        for key in ("title", "body"):
            if key in body and body[key] is not None:
                setattr(rec, key, str(body[key]))
        if isinstance(body.get("labels"), list):  # the whole new set; unknown names created
            names = [i if isinstance(i, str) else i.get("name") for i in body["labels"]]
            rec.labels = [self._label_rec(n)["name"] for n in names if isinstance(n, str) and n]
        rec.touch()
        return 200, self._issue_obj(rec), {}

    def _add_labels(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        rec = self._issue_rec(p)
        names = body["labels"] if isinstance(body, dict) else body
        have = {n.casefold() for n in rec.labels}
        for item in names:
            name = item if isinstance(item, str) else item["name"]
            label = self._label_rec(name)
            if name.casefold() not in have:
                rec.labels.append(label["name"])
                have.add(name.casefold())
                rec.events.append(
                    {"event": "labeled", "actor": self.login, "at": now(), "label": label["name"]}
                )
                rec.touch()
        return 200, [self._label_obj(self._label_rec(n)) for n in rec.labels], {}

    def _remove_label(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rec = self._issue_rec(p)
        target = p["name"].casefold()
        if target not in {n.casefold() for n in rec.labels}:
            raise _not_found("Label does not exist")
        removed = [n for n in rec.labels if n.casefold() == target]
        rec.labels = [n for n in rec.labels if n.casefold() != target]
        rec.events.append(
            {"event": "unlabeled", "actor": self.login, "at": now(), "label": removed[0]}
        )
        rec.touch()
        return 200, [self._label_obj(self._label_rec(n)) for n in rec.labels], {}

    def _list_comments(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rec = self._issue_rec(p)
        items = [self._comment_obj(rec.number, c) for c in rec.comments]
        return self._page(items, f"/repos/{self.repo}/issues/{rec.number}/comments", q)

    def _comment(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        rec = self._issue_rec(p)
        comment = self._comment_rec(str(body["body"]), self.login, now())
        rec.comments.append(comment)
        rec.touch()
        return 201, self._comment_obj(rec.number, comment), {}

    def _list_files(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rec = self._issue_rec(p)
        if not rec.is_pr:
            raise _not_found()
        return self._page(
            self.files.get(rec.number, []), f"/repos/{self.repo}/pulls/{rec.number}/files", q
        )

    def _combined_status(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        sha = p["ref"]
        latest: dict[str, dict[str, Any]] = {}
        for s in self.statuses.get(sha, []):
            latest.setdefault(s["context"], s)
        states = {s["state"] for s in latest.values()}
        combined = (
            "failure"
            if states & {"failure", "error"}
            else "pending"
            if not states or "pending" in states
            else "success"
        )
        obj = openapi.example("combined-commit-status")
        obj.update(
            state=combined,
            sha=sha,
            total_count=len(latest),
            statuses=[self._status_obj(sha, s) for s in latest.values()],
            url=self._api(f"/commits/{sha}/status"),
            commit_url=self._api(f"/commits/{sha}"),
        )
        return 200, obj, {}

    def _get_user(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        obj = openapi.example("private-user-response-with-public-and-private-profile-information")
        obj.update(
            login=self.login,
            user_view_type="private",  # the description's discriminator; GitHub sends it
            url=f"https://api.github.com/users/{self.login}",
            html_url=f"https://github.com/{self.login}",
        )
        return 200, obj, {}

    def _search_issues(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        """Issue search over this repository, for the qualifiers steward sends (``repo:``,
        ``is:issue``/``is:pr``, ``author:``), sorted by creation; numbers in
        `search_lag` are not indexed yet (GitHub's index lags behind new issues)."""
        wanted: dict[str, str] = {}
        for token in q.get("q", "").split():
            key, sep, value = token.partition(":")
            if not sep or key not in {"repo", "is", "author"}:
                raise _invalid("Search", "invalid", "q")
            wanted[key] = value
        if wanted.get("repo", "").casefold() != self.repo.casefold():
            hits: list[IssueRec] = []
        else:
            kind = wanted.get("is")
            hits = [
                r
                for _, r in sorted(self.issues.items())
                if r.number not in self.search_lag
                and (kind is None or (kind == "pr") == r.is_pr)
                and (
                    "author" not in wanted
                    or (r.author or "").casefold() == wanted["author"].casefold()
                )
            ]
        if q.get("sort") == "created":
            hits.sort(key=lambda r: (r.created_at, r.number), reverse=q.get("order") != "asc")
        template = openapi.example("issue-search-result-item-paginated")
        per_page = min(int(q.get("per_page", "30")), 100)
        page = max(int(q.get("page", "1")), 1)
        items = []
        for r in hits[(page - 1) * per_page : page * per_page]:
            item = copy.deepcopy(template["items"][0])
            issue = self._issue_obj(r)
            item.update({k: issue[k] for k in ("number", "title", "state", "html_url", "url")})
            item.update(
                created_at=r.created_at,
                updated_at=r.updated_at,
                labels=[{**template["items"][0]["labels"][0], "name": n} for n in r.labels],
                repository_url=f"https://api.github.com/repos/{self.repo}",
            )
            if r.author is None:
                item["user"] = None
            else:
                _as_user(item["user"], r.author)
            if not r.is_pr:
                item.pop("pull_request", None)
            items.append(item)
        reply = {
            **template,
            "total_count": len(hits),
            "incomplete_results": False,
            "items": items,
            "search_type": "lexical",
        }
        return 200, reply, {}

    def _timeline(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rec = self._issue_rec(p)
        entries = [(c["at"], 1, self._comment_event(rec.number, c)) for c in rec.comments]
        entries += [(e["at"], 0, self._timeline_event(e)) for e in rec.events]
        items = [obj for _, _, obj in sorted(entries, key=lambda x: (x[0], x[1]))]
        return self._page(items, f"/repos/{self.repo}/issues/{rec.number}/timeline", q)

    def _timeline_event(self, rec: dict[str, Any]) -> dict[str, Any]:
        examples = {e["event"]: e for e in openapi.example("timeline-issue-events")}
        base = "labeled" if rec["event"] in {"labeled", "unlabeled"} else "locked"
        obj = copy.deepcopy(examples[base])
        obj.update(id=self._next_id(), event=rec["event"], created_at=rec["at"])
        if base == "labeled":
            obj["label"] = {"name": rec["label"], "color": "ededed"}
        else:
            obj.pop("lock_reason", None)
            if rec["event"] == "locked":
                obj["lock_reason"] = None
        _as_user(obj["actor"], rec["actor"])
        obj["actor"]["id"] = self._next_id()
        return obj

    def _comment_event(self, number: int, rec: dict[str, Any]) -> dict[str, Any]:
        examples = {e["event"]: e for e in openapi.example("timeline-issue-events")}
        obj = copy.deepcopy(examples["commented"])
        comment = self._comment_obj(number, rec)
        obj.update({k: comment[k] for k in ("id", "body", "url", "html_url", "issue_url")})
        obj.update(created_at=rec["at"], updated_at=rec["at"])
        if rec["author"] is None:
            obj["user"] = obj["actor"] = None
        else:
            _as_user(obj["user"], rec["author"])
            _as_user(obj["actor"], rec["author"])
        return obj

    def _get_pull(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rec = self._issue_rec(p)
        if not rec.is_pr:
            raise _not_found()
        obj = openapi.example("pull-request")
        obj.update(
            id=rec.number + 700_000,
            number=rec.number,
            title=rec.title,
            body=rec.body,
            state=rec.state,
            labels=[self._label_obj(self._label_rec(n)) for n in rec.labels],
            html_url=f"https://github.com/{self.repo}/pull/{rec.number}",
            url=self._api(f"/pulls/{rec.number}"),
            created_at=rec.created_at,
            updated_at=rec.updated_at,
            merged=False,
            merged_at=None,
            closed_at=None if rec.state == "open" else "2024-01-01T00:00:00Z",
        )
        obj["requested_teams"] = []  # the example's team lacks the schema's required `type`
        obj["head"]["sha"] = rec.head_sha
        if rec.author is not None:
            _as_user(obj["user"], rec.author)
        return 200, obj, {}

    def _create_status(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        sha = p["sha"]
        self.add_status(
            sha, body["state"], body.get("context", "default"), body.get("description") or ""
        )
        return 201, self._status_obj(sha, self.statuses[sha][0]), {}


Route = tuple[str, str, re.Pattern[str], Any]


def route(method: str, template: str, fn: Any) -> Route:
    """A route of the test servers: ``template``'s ``{name}`` parts match one path segment
    each, as named groups."""
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return (method, template, re.compile(f"^{pattern}$"), fn)


def _as_user(obj: dict[str, Any], login: str) -> dict[str, Any]:
    """A ``simple-user`` object (GitHub's example) renamed to ``login``; ``[bot]`` logins are
    GitHub's ``Bot`` type, as GitHub reports apps."""
    obj.update(
        login=login,
        type="Bot" if login.endswith("[bot]") else "User",
        url=f"https://api.github.com/users/{quote(login, safe='')}",
        html_url=f"https://github.com/{quote(login, safe='')}",
    )
    return obj


Answerer = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]
"""(method, target, lower-cased headers, body) -> (status, headers, body)."""
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def handler_for(
    answer: Answerer, methods: tuple[str, ...] = METHODS
) -> type[BaseHTTPRequestHandler]:
    """An HTTP/1.1 handler that reads each request whole and sends what ``answer`` says,
    with its length, for ``methods`` (others: the standard library's 501)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()  # headers and body go out in separate writes: no Nagle delay
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, payload = answer(self.command, self.path, headers, raw)
            self.send_response(status)
            for k, v in out.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    for method in methods:
        setattr(Handler, f"do_{method}", Handler._serve)
    return Handler


@contextmanager
def running(repo: str = REPO, token: str = "test-token") -> Iterator[GitHubServer]:
    with GitHubServer(repo, token) as gh:
        yield gh
