"""Function code and layers on this machine: found, downloaded (bounded), extracted once.

moto keeps a function's code but hides where: `Code.Location` is a fake S3 URL ending with
the key the function was created with (no bucket), and a layer's Location is just ``s3://``.
So the key is looked up in steward's asset bucket, then in every bucket; a layer is the
object whose size and sha256 match its CodeSize and CodeSha256. A real presigned URL is
downloaded as is. Each zip is extracted once per digest into ``<cache>/<sha256 hex>/``
(a file lock, since pytest-xdist workers share the cache) and reused by every invoke.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib.metadata
import io
import os
import re
import shutil
import stat
import sys
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock

from steward.errors import StewardError
from steward.limits import read_capped
from steward.workspace import Limit

MAX_UNZIPPED = 250 * 1024 * 1024  # Lambda's limit for a function and its layers, unzipped
MAX_ENTRIES = 100_000
DOWNLOAD_SECONDS = 300.0
# the packages the AWS Python runtime ships next to the handler (boto3 and its dependencies)
RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "urllib3",
    "six",
)
_MOTO_HOST = re.compile(r"^awslambda-[a-z0-9-]+-tasks\.s3\.[a-z0-9-]+\.amazonaws\.com$")


class CodeError(StewardError):
    """A function's code or a layer could not be found, downloaded or extracted."""


def digest_hex(code_sha256: str) -> str:
    """Lambda's base64 CodeSha256 as the hex name of its cache folder."""
    try:
        raw = base64.b64decode(code_sha256, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != hashlib.sha256().digest_size:
        raise CodeError(f"not a base64 sha256: {code_sha256!r}")
    return raw.hex()


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _fail(message: str) -> Exception:
    return CodeError(message)


def read_stream(body: Any, what: str) -> bytes:
    """An S3 object's body (a botocore StreamingBody), at most `Limit.ASSET` bytes."""
    try:
        return read_capped(
            body.iter_chunks(1 << 20), Limit.ASSET, what, _fail, seconds=DOWNLOAD_SECONDS
        )
    finally:
        body.close()


def download_url(url: str, what: str) -> bytes:
    """A presigned https URL (real Lambda's Location), at most `Limit.ASSET` bytes."""
    if urllib.parse.urlsplit(url).scheme != "https":
        raise CodeError(f"{what}: refusing to download {url[:100]!r} (not https)")
    request = urllib.request.Request(url)  # noqa: S310 (https only, checked above)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        chunks = iter(lambda: response.read(1 << 20), b"")
        return read_capped(chunks, Limit.ASSET, what, _fail, seconds=DOWNLOAD_SECONDS)


def moto_key(location: str) -> str | None:
    """The S3 key in moto's fake Location; None for a real (signed) URL."""
    parts = urllib.parse.urlsplit(location)
    if parts.scheme != "https" or not _MOTO_HOST.match(parts.hostname or ""):
        return None
    if "X-Amz-Signature" in parts.query:
        return None
    key = urllib.parse.unquote(parts.path.lstrip("/"))
    return key or None


class CodeStore:
    """Finds code objects in S3 and keeps their extracted trees under `cache_dir`."""

    def __init__(self, cache_dir: Path, s3: Any) -> None:
        self.cache_dir = cache_dir
        self.s3 = s3

    # -- where the bytes are -----------------------------------------------------------
    def _buckets(self, preferred: str) -> Iterator[str]:
        yield preferred
        for bucket in self.s3.list_buckets().get("Buckets", []):
            if bucket["Name"] != preferred:
                yield bucket["Name"]

    def _get(self, bucket: str, key: str, what: str) -> bytes:
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        return read_stream(body, what)

    def by_key(self, key: str, asset_bucket: str, sha: str, what: str) -> bytes:
        """The object `key` whose bytes hash to `sha`, asset bucket first."""
        from botocore.exceptions import ClientError

        for bucket in self._buckets(asset_bucket):
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
            except ClientError:
                continue
            data = self._get(bucket, key, what)
            if b64_sha256(data) == sha:
                return data
        raise CodeError(f"{what}: no S3 object {key!r} with sha256 {sha}")

    def by_digest(self, size: int, sha: str, asset_bucket: str, what: str) -> bytes:
        """The object of `size` bytes whose sha256 is `sha` (moto hides a layer's key)."""
        from botocore.exceptions import ClientError

        for bucket in self._buckets(asset_bucket):
            try:
                pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                candidates = [
                    obj["Key"]
                    for page in pages
                    for obj in page.get("Contents", [])
                    if obj["Size"] == size
                ]
            except ClientError:
                continue
            for key in candidates:
                data = self._get(bucket, key, what)
                if b64_sha256(data) == sha:
                    return data
        raise CodeError(f"{what}: no S3 object of {size} bytes with sha256 {sha}")

    # -- the extracted tree ------------------------------------------------------------
    def tree(self, sha: str, fetch: Any, what: str) -> Path:
        """`<cache>/<hex>/`, extracted from `fetch()` the first time any process asks."""
        target = self.cache_dir / digest_hex(sha)
        if target.is_dir():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{target}.lock"):
            if target.is_dir():
                return target
            data: bytes = fetch()
            if b64_sha256(data) != sha:
                raise CodeError(f"{what}: downloaded bytes do not hash to {sha}")
            work = target.with_name(f"{target.name}.tmp-{os.getpid()}")
            shutil.rmtree(work, ignore_errors=True)
            try:
                extract(data, work, what)
                work.rename(target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return target


def extract(data: bytes, dest: Path, what: str) -> None:
    """Unzip without trusting the archive: relative names only, no `..`, no symlinks, at
    most `MAX_UNZIPPED` bytes written (counted as written, not as the headers claim)."""
    dest.mkdir(parents=True)
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise CodeError(f"{what}: over {MAX_ENTRIES} entries")
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
                raise CodeError(f"{what}: unsafe path {info.filename!r} in the zip")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise CodeError(f"{what}: symlink {info.filename!r} in the zip")
            path = dest.joinpath(*parts) if parts else dest
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(path, "xb") as out:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UNZIPPED:
                        raise CodeError(f"{what}: over {MAX_UNZIPPED} bytes unzipped")
                    out.write(chunk)
            mode = (info.external_attr >> 16) & 0o777
            path.chmod((mode | 0o600) & 0o755 if mode else 0o644)


def runtime_dir(cache_dir: Path) -> Path:
    """A folder exposing only what the AWS Python runtime ships (boto3 and its dependencies),
    as symlinks to this environment's copies: a handler importing anything else from the
    test environment fails as it would on Lambda. Built once per cache dir and environment."""
    entries: dict[str, Path] = {}
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            top = file.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".data"):
                continue
            entries.setdefault(top, Path(str(dist.locate_file(top))))
    key = hashlib.sha256(
        "\n".join(f"{k}={v}" for k, v in sorted(entries.items())).encode()
    ).hexdigest()[:12]
    target = cache_dir / f"runtime-py{sys.version_info[0]}{sys.version_info[1]}-{key}"
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):
        if target.is_dir():
            return target
        work = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        for top, source in entries.items():
            if source.exists():
                (work / top).symlink_to(source)
        work.rename(target)
    return target
