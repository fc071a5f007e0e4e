"""Read a PyPI-compatible index's simple API (PEP 503 HTML / PEP 691 JSON) for one project.

Used before uploading: twine's --skip-existing only understands PyPI's own answers, so the
pipeline decides itself: same file and sha256 already there -> skip, different hash -> stop.

What the index sends is bounded (`steward.limits`): a project page is read up to
`limits.MAX_INDEX_PAGE` bytes and its JSON `limits.MAX_JSON_DEPTH` deep; a file downloaded
to be hashed is hashed as it streams, up to `limits.MAX_DOWNLOAD` bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from steward import limits
from steward.errors import ReleaseError

_NORMALIZE = re.compile(r"[-_.]+")
_SHA = re.compile(r"sha256=([0-9a-fA-F]{64})")
T = TypeVar("T")


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
        page = _get(http, url, partial(_read, url=url))
        if page is None:
            return {}
        final_url, content_type, body = page
        links: dict[str, tuple[str, str | None]] = {}
        if "json" in content_type:
            for f in _json_files(body, url):
                sha = (f.get("hashes") or {}).get("sha256")
                links[str(f["filename"])] = (str(f["url"]), sha if isinstance(sha, str) else None)
        else:
            parser = _Links()
            parser.feed(body.decode("utf-8", "replace")[:5_000_000])
            links = parser.files
        out: dict[str, str] = {}
        for name, (href, given) in links.items():
            if given is not None:
                out[name] = given.lower()
                continue
            file_url = urljoin(final_url, href)
            hashed = _get(http, file_url, partial(_sha256, url=file_url))
            if hashed is not None:
                out[name] = hashed[2]
        return out


def _json_files(body: bytes, url: str) -> list[dict[str, Any]]:
    """The ``files`` of a PEP 691 project page: a list of objects."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ReleaseError(f"the index's page {url} is not JSON") from None
    if limits.json_too_deep(body):
        raise ReleaseError(
            f"the index's page {url} is nested deeper than {limits.MAX_JSON_DEPTH} levels"
        )
    files = data.get("files", []) if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise ReleaseError(f"the index's page {url} has no list of files")
    return files


def _read(chunks: Iterator[bytes], url: str) -> bytes:
    return limits.read_capped(
        chunks, limits.MAX_INDEX_PAGE, f"the index's page {url}", ReleaseError
    )


def _sha256(chunks: Iterator[bytes], url: str) -> str:
    """The sha256 of a file as it streams in, at most `limits.MAX_DOWNLOAD` bytes of it."""
    digest = hashlib.sha256()
    size = 0
    deadline = limits.Deadline(limits.HTTP_BODY_SECONDS)
    for chunk in chunks:
        size += len(chunk)
        if size > limits.MAX_DOWNLOAD:
            raise ReleaseError(
                f"the index's file {url} is over the limit of "
                f"{limits.size_text(limits.MAX_DOWNLOAD)}; stopped reading it"
            )
        if deadline.passed():
            raise ReleaseError(
                f"the index's file {url} took over {deadline.seconds:.0f} s to arrive; "
                "stopped reading it"
            )
        digest.update(chunk)
    return digest.hexdigest()


def _get(
    http: httpx.Client, url: str, consume: Callable[[Iterator[bytes]], T]
) -> tuple[str, str, T] | None:
    """(final URL, content type, ``consume`` of the body as it streams), ``None`` on 404."""
    try:
        with http.stream("GET", url) as resp:
            if resp.status_code == 404:
                return None
            if resp.status_code >= 400:
                raise ReleaseError(f"index answered HTTP {resp.status_code} for {url}")
            kept = consume(resp.iter_bytes())
            return str(resp.url), resp.headers.get("content-type", ""), kept
    except httpx.HTTPError as exc:
        raise ReleaseError(f"cannot read the index at {url}: {exc}") from None
