"""Is the AWS endpoint an emulator without a real Lambda? moto's server answers /moto-api/."""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.parse
import urllib.request

from steward.e2e.aws import AWS_HOSTS

PROBE_SECONDS = 2.0


def is_emulator(endpoint_url: str | None) -> bool:
    """True when `endpoint_url` is a moto server (its config answers under /moto-api/, within
    `PROBE_SECONDS`); False for None (real AWS), an AWS host, or anything that does not."""
    if not endpoint_url:
        return False
    parts = urllib.parse.urlsplit(endpoint_url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host.endswith(AWS_HOSTS):
        return False
    return _probe(f"{parts.scheme}://{parts.netloc}")


@functools.lru_cache(maxsize=32)
def _probe(base: str) -> bool:
    url = f"{base}/moto-api/config"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_SECONDS) as response:  # noqa: S310 (http(s) only)
            if not 200 <= response.status < 300:
                return False
            body = json.loads(response.read(64 * 1024))
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(body, dict)
