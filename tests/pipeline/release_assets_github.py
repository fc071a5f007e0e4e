"""The release test server (`ReleaseGitHub`) with release assets as GitHub serves them: three
hosts, each only what GitHub's OpenAPI description and docs say it does.

- **API** (the server itself): ``GET .../releases/tags/{tag}``, ``GET
  .../releases/{release_id}/assets`` (paged) and ``GET .../releases/assets/{asset_id}``:
  the asset's JSON, or with ``Accept: application/octet-stream`` a ``302 Found`` to the
  storage host, with a signed URL (as GitHub redirects to its object storage).
- **Uploads** (`uploads`, standing for ``https://uploads.github.com``): ``POST
  /repos/{owner}/{repo}/releases/{release_id}/assets?name=...``, octet-stream body, the
  description's only server for that operation; validated against the description with that
  host. A name already on the release is GitHub's 422 ``already_exists``. Each release's
  ``upload_url`` is this host's RFC 6570 template.
- **Storage** (`storage`, a `RawServer`): serves an asset's bytes for the signed path and
  records every request's headers, so a test can show the token never reached it.

Assets carry GitHub's ``digest`` (``sha256:...``); ``digests = False`` answers ``null`` as
GitHub does for assets uploaded before it computed them. `tamper` swaps an asset's bytes as a
person with write access could (delete and upload again: a fresh digest), or, with
``keep_digest``, only the stored bytes (what the digest check catches).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from openapi_core.testing import MockRequest, MockResponse

from tests.pipeline.github_releases import ReleaseGitHub
from tests.support import openapi
from tests.support.github_server import DOCS, HttpReply, handler_for, now, route
from tests.support.raw_server import Answer, RawServer

UPLOADS_HOST = "https://uploads.github.com"
UPLOAD = "/repos/{owner}/{repo}/releases/{release_id}/assets"
_UPLOAD_PATHS = frozenset({UPLOAD})
_UPLOAD_ROUTE = route("POST", UPLOAD, None)[2]


class AssetGitHub(ReleaseGitHub):
    """``with AssetGitHub() as gh:`` starts the API, uploads and storage hosts."""

    def __init__(self, repo: str = "octo-org/sample") -> None:
        self.assets: dict[int, list[dict[str, Any]]] = {}  # release id -> its assets
        self.blobs: dict[int, bytes] = {}  # asset id -> bytes
        self.digests = True
        self.uploaded: list[tuple[str, dict[str, str]]] = []  # (name, headers) per upload
        self.storage = RawServer()
        self._uploads: ThreadingHTTPServer | None = None
        self._accept = ""  # the Accept header of the request being handled
        super().__init__(repo)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        super().start()
        self.storage.__enter__()
        self._uploads = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self._upload_answer))
        self._uploads.daemon_threads = True
        threading.Thread(
            target=self._uploads.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._uploads is not None:
            self._uploads.shutdown()
            self._uploads.server_close()
            self._uploads = None
            self.storage.__exit__()
        super().stop()

    @property
    def uploads_url(self) -> str:
        assert self._uploads is not None, "server not started"
        return f"http://127.0.0.1:{self._uploads.server_address[1]}"

    # -- seeding and inspection -----------------------------------------------------------

    def add_draft(self, tag: str, body: str = "## Summary\n\nSample release.") -> dict[str, Any]:
        rel = super().add_draft(tag, body)
        rel["upload_url"] = f"{self.uploads_url}/repos/{self.repo}/releases/{rel['id']}/assets"
        rel["upload_url"] += "{?name,label}"
        rel["assets"] = []
        rel["assets_url"] = self._api(f"/releases/{rel['id']}/assets")
        self.assets[rel["id"]] = []
        return rel

    def add_release(self, tag: str) -> dict[str, Any]:
        """A published release of ``tag``."""
        rel = self.add_draft(tag)
        rel.update(
            draft=False,
            html_url=f"https://github.com/{self.repo}/releases/tag/{tag}",
            published_at="2026-01-01T00:00:00Z",
        )
        return rel

    def add_asset(self, release: dict[str, Any], name: str, data: bytes) -> dict[str, Any]:
        """``data`` attached as ``name``, as an upload would have."""
        aid = self._next_id()
        asset = openapi.example("release-asset")
        asset.update(
            id=aid,
            name=name,
            label=None,
            size=len(data),
            digest=f"sha256:{hashlib.sha256(data).hexdigest()}",
            content_type="application/octet-stream",
            download_count=0,
            created_at=now(),
            updated_at=now(),
            url=self._api(f"/releases/assets/{aid}"),
            browser_download_url=(
                f"https://github.com/{self.repo}/releases/download/{release['tag_name']}/{name}"
            ),
        )
        self.assets[release["id"]].append(asset)
        release["assets"] = self.assets[release["id"]]
        self._store(aid, data)
        return asset

    def asset_bytes(self, release: dict[str, Any]) -> dict[str, bytes]:
        return {a["name"]: self.blobs[a["id"]] for a in self.assets[release["id"]]}

    def tamper(
        self, release: dict[str, Any], name: str, data: bytes, *, keep_digest: bool = False
    ) -> None:
        for asset in self.assets[release["id"]]:
            if asset["name"] == name:
                if not keep_digest:
                    asset["digest"] = f"sha256:{hashlib.sha256(data).hexdigest()}"
                    asset["size"] = len(data)
                self._store(asset["id"], data)
                return
        raise KeyError(name)

    def _store(self, aid: int, data: bytes) -> None:
        self.blobs[aid] = data
        self.storage.answers[f"/objects/{aid}"] = Answer(
            200, data, {"content-type": "application/octet-stream"}
        )

    # -- the API host ---------------------------------------------------------------------

    def _build_routes(self) -> list[Any]:
        routes = super()._build_routes()
        extra = [
            ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}", self._release_by_tag),
            ("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets", self._list_assets),
            ("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}", self._get_asset),
        ]
        return routes + [route(method, template, fn) for method, template, fn in extra]

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
        self._accept = headers.get("accept", "")
        return super()._dispatch(method, target, path, query, headers, raw, body)

    def _asset_obj(self, asset: dict[str, Any]) -> dict[str, Any]:
        return {**asset, "digest": asset["digest"] if self.digests else None}

    def _release_by_tag(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        for rel in self.releases:
            if rel["tag_name"] == p["tag"] and not rel["draft"]:  # drafts have no tag URL
                return 200, {**rel, "assets": [self._asset_obj(a) for a in rel["assets"]]}, {}
        raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})

    def _list_assets(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        rid = int(p["release_id"]) if p["release_id"].isdigit() else -1
        if rid not in self.assets:
            raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})
        items = [self._asset_obj(a) for a in self.assets[rid]]
        return self._page(items, f"/repos/{self.repo}/releases/{rid}/assets", q)

    def _get_asset(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        for assets in self.assets.values():
            for asset in assets:
                if str(asset["id"]) == p["asset_id"]:
                    if "application/octet-stream" in self._accept:
                        where = f"{self.storage.url}/objects/{asset['id']}?X-Amz-Signature=abc"
                        return 302, None, {"location": where}
                    return 200, self._asset_obj(asset), {}
        raise HttpReply(404, {"message": "Not Found", "documentation_url": DOCS})

    # -- the uploads host -----------------------------------------------------------------

    def _upload_answer(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        status, payload = self.handle_upload(method, target, headers, raw)
        return status, {"content-type": "application/json; charset=utf-8"}, payload.encode()

    def handle_upload(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, str]:
        """One request to the uploads host: checked like every request (token, then the
        description, with the operation's own server), answered, the answer checked."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.uploaded.append((query.get("name", ""), dict(headers)))
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, json.dumps({"message": "Bad credentials", "documentation_url": DOCS})
            request = MockRequest(
                UPLOADS_HOST,
                method.lower(),
                parts.path,
                args=query,
                headers=headers,
                data=raw or None,
                content_type=headers.get("content-type", "").split(";")[0],
            )
            try:
                with openapi._LOCK:
                    openapi.openapi(_UPLOAD_PATHS).validate_request(request)
            except Exception as exc:
                self.violations.append(f"upload {method} {target}: {exc}")
                return 400, json.dumps({"message": f"steward test server: {exc}"[:2000]})
            match = _UPLOAD_ROUTE.match(parts.path)
            assert match is not None
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            status, reply = self._upload(params, query, headers, raw)
            payload = json.dumps(reply)
            try:
                with openapi._LOCK:
                    openapi.openapi(_UPLOAD_PATHS).validate_response(
                        request, MockResponse(payload.encode(), status_code=status)
                    )
            except Exception as exc:
                self.violations.append(f"upload response {status}: {exc}")
            return status, payload

    def _upload(
        self, p: dict[str, str], q: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        rid = int(p["release_id"])
        release = next((r for r in self.releases if r["id"] == rid), None)
        if (p["owner"], p["repo"]) != (self.owner, self.name) or release is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}
        if any(a["name"] == q["name"] for a in self.assets[rid]):
            return 422, {
                "message": "Validation Failed",
                "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}],
                "documentation_url": DOCS,
            }
        asset = self.add_asset(release, q["name"], raw)
        asset["content_type"] = headers.get("content-type", "application/octet-stream")
        return 201, self._asset_obj(asset)
