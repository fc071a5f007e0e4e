"""Read a PyPI-compatible index's simple API (PEP 503 HTML / PEP 691 JSON) for one project.

Used before uploading: twine's --skip-existing only understands PyPI's own answers, so the
pipeline decides itself: same file and sha256 already there -> skip, different hash -> stop.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from steward.errors import ReleaseError

_NORMALIZE = re.compile(r"[-_.]+")
_SHA = re.compile(r"sha256=([0-9a-fA-F]{64})")


def normalize_name(name: str) -> str:
    """PEP 503 project name normalisation."""
    return _NORMALIZE.sub("-", name).lower()


def project_of(filename: str) -> str:
    """Project name from a wheel or sdist filename (the part before the version)."""
    if filename.endswith(".whl"):
        return normalize_name(filename.split("-", 1)[0])
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return normalize_name(stem.rsplit("-", 1)[0])


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[str, str | None]] = {}
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is None:
            return
        name = data.strip() or urlsplit(self._href).path.rsplit("/", 1)[-1]
        m = _SHA.search(urlsplit(self._href).fragment)
        self.files[name] = (self._href, m.group(1).lower() if m else None)
        self._href = None


def existing_files(simple_url: str, project: str, *, timeout: float = 30.0) -> dict[str, str]:
    """Files the index holds for ``project``: filename -> sha256.

    The sha256 comes from the link's fragment (or the JSON's hashes); when the index gives
    another algorithm (pypiserver defaults to md5) the file is downloaded and hashed.
    """
    url = urljoin(simple_url.rstrip("/") + "/", normalize_name(project) + "/")
    with httpx.Client(timeout=timeout, follow_redirects=True) as http:
        resp = _get(http, url)
        if resp is None:
            return {}
        links: dict[str, tuple[str, str | None]] = {}
        if "json" in resp.headers.get("content-type", ""):
            for f in resp.json().get("files", []):
                sha = (f.get("hashes") or {}).get("sha256")
                links[str(f["filename"])] = (str(f["url"]), sha if isinstance(sha, str) else None)
        else:
            parser = _Links()
            parser.feed(resp.text[:5_000_000])
            links = parser.files
        out: dict[str, str] = {}
        for name, (href, given) in links.items():
            if given is not None:
                out[name] = given.lower()
                continue
            file_resp = _get(http, urljoin(str(resp.url), href))
            if file_resp is not None:
                out[name] = hashlib.sha256(file_resp.content).hexdigest()
        return out


def _get(http: httpx.Client, url: str) -> httpx.Response | None:
    try:
        resp = http.get(url)
    except httpx.HTTPError as exc:
        raise ReleaseError(f"cannot read the index at {url}: {exc}") from None
    if resp.status_code == 404:
        return None
    if resp.status_code >= 400:
        raise ReleaseError(f"index answered HTTP {resp.status_code} for {url}")
    return resp
