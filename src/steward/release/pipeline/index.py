"""Read a PyPI-compatible index's simple API (PEP 503 HTML / PEP 691 JSON) for one project.

Used before uploading: twine's --skip-existing only understands PyPI's own answers, so the
pipeline decides itself: same file and sha256 already there -> skip, different hash -> stop.
"""

from __future__ import annotations

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
        self.files: dict[str, str | None] = {}
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
        self.files[name] = m.group(1).lower() if m else None
        self._href = None


def existing_files(
    simple_url: str, project: str, *, timeout: float = 30.0
) -> dict[str, str | None]:
    """Files the index lists for ``project``: filename -> sha256 (None when not given)."""
    url = urljoin(simple_url.rstrip("/") + "/", normalize_name(project) + "/")
    try:
        resp = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise ReleaseError(f"cannot read the index at {url}: {exc}") from None
    if resp.status_code == 404:
        return {}
    if resp.status_code >= 400:
        raise ReleaseError(f"index answered HTTP {resp.status_code} for {url}")
    if "json" in resp.headers.get("content-type", ""):
        data = resp.json()
        out: dict[str, str | None] = {}
        for f in data.get("files", []):
            sha = (f.get("hashes") or {}).get("sha256")
            out[str(f["filename"])] = sha.lower() if isinstance(sha, str) else None
        return out
    parser = _Links()
    parser.feed(resp.text[:5_000_000])
    return parser.files
