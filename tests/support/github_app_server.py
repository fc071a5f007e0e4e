"""The local GitHub test server, extended with what a GitHub App meets: App auth, installation
tokens, webhook deliveries and their redelivery, repository contents (the config file),
conditional GETs and injected faults.

Everything still validates against GitHub's OpenAPI description (the base class checks every
request and response); the additions are:

- **App auth.** ``/app/...`` answers only a JWT signed RS256 with the App's key (made once
  per process), whose ``iss`` is the App's ID, ``iat`` not in the future and ``exp`` not past
  and at most ten minutes ahead (GitHub's rules); anything else is a 401 with GitHub's
  messages. ``POST /app/installations/{id}/access_tokens`` issues ``ghs_`` tokens that expire
  after ``token_ttl`` on the server's ``clock``; the repository endpoints accept those while
  they live (and the base token), each for the repositories of its installation.
- **Deliveries.** ``GET /app/hook/deliveries`` lists `add_delivery`'s items newest first,
  paged by ``cursor`` with a ``Link: rel="next"``, filtered by ``status``; ``POST
  .../{id}/attempts`` records a redelivery (same GUID, ``redelivery: true``) and answers 202.
- **Contents.** ``GET /repos/{o}/{r}/contents/{path}`` serves `set_file`'s texts as GitHub's
  ``content-file`` (base64, the git blob sha); ``path`` is multi-segment in the description
  (``x-multi-segment``), so its slashes are kept and validated as one parameter.
- **ETag/304.** Every 200 to a GET carries an ``ETag`` (a digest of the body); a GET whose
  ``If-None-Match`` matches it is answered ``304 Not Modified``, with no body, where the
  description documents a 304 for the operation (issue, contents, ``/user``), and costs no
  rate limit. ``x-ratelimit-*`` headers count each caller's (App, installation, token) use.
- **Issue updates.** ``PATCH /repos/{o}/{r}/issues/{n}`` also applies ``labels`` (the
  whole new set), which steward sends when it closes an issue.
- **Manifests.** ``POST /app-manifests/{code}/conversions`` (no authentication, as on
  GitHub) trades a code from `add_manifest_code` for this App (its id, slug and key) with a
  new webhook secret, and the manifest's name, permissions and events; a code works once
  (then 404), as GitHub's do.
- **Faults.** `Chaos` answers a share of the requests (seeded, so runs repeat) with 5xx, or
  with a 429/403 secondary rate limit carrying ``retry-after``.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import secrets
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import openapi
from tests.support.github_material import REPO
from tests.support.github_server import DOCS, GitHubServer, HttpReply, route

APP_ID = 4242
INSTALLATION_ID = 42
SLUG = "repo-steward"
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
_CONTENTS = re.compile(r"^(/repos/[^/]+/[^/]+/contents/)(.+)$")
_CURSOR = re.compile(r"^v1_(\d+)$")


@cache
def app_private_key() -> rsa.RSAPrivateKey:
    """One RSA key per test process (making one takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def app_private_key_pem() -> str:
    return (
        app_private_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,  # GitHub hands out PKCS#1
            serialization.NoEncryption(),
        )
        .decode()
    )


def blob_sha(data: bytes) -> str:
    """The git blob id of ``data`` (what GitHub reports as a file's ``sha``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Chaos:
    """Answer about ``rate`` of the matching requests with one of ``statuses`` (seeded).

    5xx bodies are GitHub's generic error; 429 and 403 are secondary rate limits with
    ``retry-after: retry_after``. ``methods``/``path_contains`` narrow what is hit, ``times``
    caps how many faults are injected.
    """

    rate: float
    statuses: tuple[int, ...] = (502, 503, 429)
    retry_after: int = 1
    seed: int = 0
    methods: frozenset[str] | None = None
    path_contains: str | None = None
    times: int | None = None  # at most this many faults (None: no limit)
    injected: list[tuple[str, str, int]] = field(default_factory=list)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def pick(self, method: str, path: str) -> int | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self.path_contains is not None and self.path_contains not in path:
            return None
        if self.times is not None and len(self.injected) >= self.times:
            return None
        if self._rng.random() >= self.rate:
            return None
        status = self._rng.choice(self.statuses)
        self.injected.append((method, path, status))
        return status

    def reply(self, status: int) -> tuple[dict[str, Any], dict[str, str]]:
        if status in {403, 429}:
            body = {"message": SECONDARY, "documentation_url": SECONDARY_DOCS}
            return body, {"retry-after": str(self.retry_after)}
        return {"message": "Server Error"}, {}


class GitHubAppServer(GitHubServer):
    """``with GitHubAppServer() as gh:``; `app_private_key_pem` is the App's key, ``app_id``
    its ID, ``installation_id`` the installation that holds ``repo``."""

    def __init__(
        self,
        repo: str = REPO,
        token: str = "test-token",
        login: str = "steward-bot",
        *,
        app_id: int = APP_ID,
        slug: str = SLUG,
        installation_id: int = INSTALLATION_ID,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(repo, token, login)
        self.app_id = app_id
        self.slug = slug
        self.installation_id = installation_id
        self.token_ttl = token_ttl
        self.clock = clock
        self.public_key = app_private_key().public_key()
        # installation -> its repositories (casefolded full name -> full name)
        self.installations: dict[int, dict[str, str]] = {installation_id: {repo.casefold(): repo}}
        self.issued: dict[str, tuple[int, float]] = {}  # token -> (installation, expires)
        self.tokens_issued: list[int] = []  # installation of each token issued
        self.jwt_claims: list[dict[str, Any]] = []  # every accepted JWT's claims
        self.contents: dict[str, str] = {}  # path on the default branch -> text
        self.deliveries: list[dict[str, Any]] = []  # newest first
        self.redeliveries: list[int] = []  # delivery ids asked for again
        self.redelivery_status = 200  # what a redelivery's attempt records
        self.etags = True
        self.chaos: Chaos | None = None
        self.rate_limit = 5000
        self.rate_used: Counter[str] = Counter()
        self.not_modified = 0
        self._caller = "anonymous"  # who sent the request being handled
        self.manifest_codes: dict[str, dict[str, Any]] = {}  # unused code -> its manifest
        self.conversions: list[dict[str, Any]] = []  # every App handed out for a code

    @property
    def private_key_pem(self) -> str:
        return app_private_key_pem()

    # -- seeding --------------------------------------------------------------------------

    def set_file(self, file_path: str, text: str) -> str:
        """Put ``text`` at ``file_path`` on the default branch; returns its blob sha."""
        self.contents[file_path] = text
        return blob_sha(text.encode())

    def add_installation(self, installation_id: int, repos: tuple[str, ...] = ()) -> None:
        self.installations[installation_id] = {r.casefold(): r for r in repos}

    def add_delivery(
        self,
        guid: str,
        *,
        event: str = "issues",
        action: str | None = "opened",
        status_code: int = 200,
        delivered_at: float | None = None,
        redelivery: bool = False,
    ) -> dict[str, Any]:
        """A delivery in GitHub's list (newest first); ``status_code`` 0 or 4xx/5xx for one
        the server did not take in."""
        item = openapi.example("hook-delivery-items")[0]
        item.update(
            id=self._next_id(),
            guid=guid,
            delivered_at=iso(self.clock() if delivered_at is None else delivered_at),
            redelivery=redelivery,
            status="OK" if 200 <= status_code < 400 else "failed to connect",
            status_code=status_code,
            event=event,
            action=action,
            installation_id=self.installation_id,
            throttled_at=None,
        )
        self.deliveries.append(item)
        self.deliveries.sort(key=lambda d: (d["delivered_at"], d["id"]), reverse=True)
        return item

    def add_manifest_code(self, manifest: dict[str, Any] | None = None) -> str:
        """A code as GitHub's redirect carries it after someone approved ``manifest``."""
        code = secrets.token_hex(10)
        self.manifest_codes[code] = dict(manifest or {})
        return code

    def rate_remaining(self, who: str) -> int:
        """What GitHub's limit leaves ``who`` (``app``, ``installation:ID``, ``token``)."""
        return self.rate_limit - self.rate_used[who]

    # -- routing --------------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[str, str, re.Pattern[str], GitHubServer.Handler]]:
        routes = super()._build_routes()
        table: list[tuple[str, str, GitHubServer.Handler]] = [
            ("GET", "/app", self._get_app),
            (
                "POST",
                "/app/installations/{installation_id}/access_tokens",
                self._access_token,
            ),
            ("GET", "/app/hook/deliveries", self._list_deliveries),
            ("POST", "/app/hook/deliveries/{delivery_id}/attempts", self._redeliver),
            ("GET", "/repos/{owner}/{repo}/contents/{path}", self._get_contents),
            ("GET", "/installation/repositories", self._installation_repos),
            ("POST", "/app-manifests/{code}/conversions", self._convert_manifest),
        ]
        return routes + [route(method, template, fn) for method, template, fn in table]

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
        if self.chaos is not None:
            status = self.chaos.pick(method, path)
            if status is not None:
                data, extra = self.chaos.reply(status)
                return self._reply_error(status, data, {**self._rate_headers("chaos"), **extra})
        who, refused = self._authenticate(path, headers.get("authorization", ""))
        if refused is not None:
            return self._reply_error(
                401, {"message": refused, "documentation_url": DOCS}, self._rate_headers(who)
            )
        if not self._covers(who, path):  # GitHub hides what an installation cannot see
            return self._reply_error(
                404, {"message": "Not Found", "documentation_url": DOCS}, self._rate_headers(who)
            )
        if who != "anonymous" or path.startswith("/app-manifests/"):  # the code is the credential
            headers = {**headers, "authorization": f"Bearer {self.token}"}
        self._caller = who
        m = _CONTENTS.match(path)
        if m:  # one multi-segment parameter: its slashes travel encoded through validation
            path = m.group(1) + m.group(2).replace("/", "%2F")
            rest = target[len(m.group(0)) :] if target.startswith(m.group(0)) else ""
            target = path + rest
        status, hdrs, payload = super()._dispatch(method, target, path, query, headers, raw, body)
        if method == "GET" and status == 200 and self.etags:
            etag = f'W/"{hashlib.sha256(payload).hexdigest()[:40]}"'
            hdrs["etag"] = etag
            if self._matches(headers.get("if-none-match"), etag) and self._documents_304(path):
                self.not_modified += 1
                hdrs = {k: v for k, v in hdrs.items() if k not in {"content-type", "link"}}
                hdrs.update(self._rate_headers(who))
                self._check_304(method, target, hdrs)
                return 304, hdrs, b""
        self.rate_used[who] += 1
        hdrs.update(self._rate_headers(who))
        return status, hdrs, payload

    def _authenticate(self, path: str, auth: str) -> tuple[str, str | None]:
        """(who is calling, why they are refused or ``None``)."""
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() not in {"bearer", "token"} or not credential:
            credential = ""
        if path == "/app" or path.startswith("/app/"):
            refused = self._check_jwt(credential)
            return "app", refused
        if credential in self.issued:
            installation, expires = self.issued[credential]
            if self.clock() >= expires:
                return f"installation:{installation}", "Bad credentials"
            return f"installation:{installation}", None
        if credential == self.token:
            return "token", None
        return "anonymous", None  # the base class answers 401

    def _covers(self, who: str, path: str) -> bool:
        """Whether ``who`` may see the repository ``path`` names (installations: theirs)."""
        parts = path.split("/")
        if not who.startswith("installation:") or len(parts) < 4 or parts[1] != "repos":
            return True
        installation = int(who.split(":", 1)[1])
        full = f"{parts[2]}/{parts[3]}".casefold()
        return full in self.installations.get(installation, {})

    def _check_jwt(self, credential: str) -> str | None:
        try:
            claims = jwt.decode(
                credential,
                self.public_key,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,  # checked below, on the server's clock
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError:
            return "A JSON web token could not be decoded"
        now = self.clock()
        if str(claims["iss"]) != str(self.app_id):
            return "Integration not found"
        if claims["iat"] > now:
            return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"  # noqa: E501
        if claims["exp"] <= now:
            return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"  # noqa: E501
        if claims["exp"] > now + 600:
            return "'Expiration time' claim ('exp') is too far in the future"
        self.jwt_claims.append(claims)
        return None

    def _rate_headers(self, who: str) -> dict[str, str]:
        used = self.rate_used[who]
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }

    @staticmethod
    def _matches(if_none_match: str | None, etag: str) -> bool:
        if not if_none_match:
            return False
        wanted = {t.strip() for t in if_none_match.split(",")}
        return "*" in wanted or etag in wanted or etag.removeprefix("W/") in wanted

    def _documents_304(self, path: str) -> bool:
        route = self._route("GET", path)
        return route is not None and 304 in openapi.documented_statuses("GET", route[0])

    def _check_304(self, method: str, target: str, hdrs: dict[str, str]) -> None:
        if not self.validate:
            return
        try:
            openapi.validate_response(method, target, 304, b"", hdrs, paths=self._paths)
        except openapi.SpecViolation as exc:
            self.violations.append(str(exc))

    # -- repository operations the base server does not cover ---------------------------

    def _update_issue(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        """As the base server, and ``labels`` replaces the issue's labels (strings or label
        objects; unknown names are created, as GitHub does)."""
        if isinstance(body, dict) and isinstance(body.get("labels"), list):
            rec = self._issue_rec(p)
            names = [i if isinstance(i, str) else i.get("name") for i in body["labels"]]
            rec.labels = [self._label_rec(n)["name"] for n in names if isinstance(n, str) and n]
        return super()._update_issue(p, q, body)

    # -- App operations -------------------------------------------------------------------

    def _get_app(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        obj = openapi.example("integration")
        obj.update(
            id=self.app_id,
            slug=self.slug,
            name="repo-steward",
            html_url=f"https://github.com/apps/{self.slug}",
        )
        return 200, obj, {}

    def _access_token(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        installation = int(p["installation_id"]) if p["installation_id"].isdigit() else -1
        if installation not in self.installations:
            raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})
        alphabet = string.ascii_letters + string.digits
        token = "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))
        expires = self.clock() + self.token_ttl
        self.issued[token] = (installation, expires)
        self.tokens_issued.append(installation)
        obj = openapi.example("installation-token")
        obj.update(
            token=token,
            expires_at=iso(expires),
            permissions={
                "issues": "write",
                "pull_requests": "write",
                "statuses": "write",
                "contents": "read",
            },
            repository_selection="selected",
        )
        obj.pop("repositories", None)
        return 201, obj, {}

    def _list_deliveries(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        per_page = min(int(q.get("per_page", "30")), 100)
        items = self.deliveries
        wanted = q.get("status")
        if wanted == "success":
            items = [d for d in items if 200 <= d["status_code"] < 400]
        elif wanted == "failure":
            items = [d for d in items if 400 <= d["status_code"] < 600]
        start = 0
        cursor = q.get("cursor")
        if cursor:
            m = _CURSOR.match(cursor)
            ids = [d["id"] for d in items]
            if not m or int(m.group(1)) not in ids:
                raise HttpReply(
                    422,
                    {"message": "Validation Failed", "errors": [], "documentation_url": DOCS},
                )
            start = ids.index(int(m.group(1)))
        chunk = items[start : start + per_page]
        extra = {}
        if start + per_page < len(items):
            nxt = {**q, "per_page": per_page, "cursor": f"v1_{items[start + per_page]['id']}"}
            extra["link"] = f'<{self.url}/app/hook/deliveries?{urlencode(nxt)}>; rel="next"'
        return 200, chunk, extra

    def _redeliver(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        ident = int(p["delivery_id"]) if p["delivery_id"].isdigit() else -1
        found = next((d for d in self.deliveries if d["id"] == ident), None)
        if found is None:
            raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})
        self.redeliveries.append(ident)
        self.add_delivery(
            found["guid"],
            event=found["event"],
            action=found["action"],
            status_code=self.redelivery_status,
            redelivery=True,
        )
        return 202, {}, {}

    def _convert_manifest(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        manifest = self.manifest_codes.pop(p["code"], None)
        if manifest is None:  # unknown, or used already
            raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})
        alphabet = string.ascii_letters + string.digits
        obj = openapi.example("integration-from-manifest")
        obj.update(
            id=self.app_id,
            slug=self.slug,
            name=manifest.get("name", obj["name"]),
            description=manifest.get("description", obj["description"]),
            external_url=manifest.get("url", obj["external_url"]),
            html_url=f"https://github.com/apps/{self.slug}",
            permissions=manifest.get("default_permissions", obj["permissions"]),
            events=manifest.get("default_events", obj["events"]),
            client_id="Iv23li" + "".join(secrets.choice(alphabet) for _ in range(14)),
            client_secret=secrets.token_hex(20),
            webhook_secret=secrets.token_hex(20),
            pem=self.private_key_pem,
        )
        self.conversions.append(obj)
        return 201, obj, {}

    def _installation_repos(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        if not self._caller.startswith("installation:"):
            raise HttpReply(403, {"message": "Forbidden", "documentation_url": DOCS})
        installation = int(self._caller.split(":", 1)[1])
        names = sorted(self.installations.get(installation, {}).values())
        items = []
        for i, name in enumerate(names):
            repo = openapi.example("repository-paginated-2")["repositories"][0]
            owner, short = name.split("/")
            repo.update(id=900_000 + i, name=short, full_name=f"{owner}/{short}")
            repo["owner"]["login"] = owner
            items.append(repo)
        status, chunk, extra = self._page(items, "/installation/repositories", q)
        body = {
            "total_count": len(items),
            "repositories": chunk,
            "repository_selection": "selected",
        }
        return status, body, extra

    # -- contents -------------------------------------------------------------------------

    def _get_contents(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        file_path = p["path"]
        text = self.contents.get(file_path)
        if text is None:
            raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})
        data = text.encode()
        encoded = base64.b64encode(data).decode()
        lines = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
        sha = blob_sha(data)
        api = f"https://api.github.com/repos/{self.repo}"
        obj = openapi.example("content-file-response-if-content-is-a-file")
        obj.update(
            type="file",
            encoding="base64",
            size=len(data),
            name=file_path.rsplit("/", 1)[-1],
            path=file_path,
            content=lines + "\n",
            sha=sha,
            url=f"{api}/contents/{quote(file_path)}?ref=main",
            git_url=f"{api}/git/blobs/{sha}",
            html_url=f"https://github.com/{self.repo}/blob/main/{quote(file_path)}",
            download_url=f"https://raw.githubusercontent.com/{self.repo}/main/{quote(file_path)}",
        )
        obj["_links"] = {"git": obj["git_url"], "self": obj["url"], "html": obj["html_url"]}
        return 200, obj, {}
