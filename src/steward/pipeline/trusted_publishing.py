"""PyPI Trusted Publishing: trade the CI job's OIDC identity for a short-lived upload token.

In GitHub Actions with `permissions: id-token: write`, the runner issues OIDC tokens for an
audience (`ACTIONS_ID_TOKEN_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`). An index that
implements Warehouse's endpoints (PyPI, TestPyPI) names the audience it accepts at
`/_/oidc/audience` and, at `/_/oidc/mint-token`, trades a token from a configured trusted
publisher for an upload token that lives minutes and covers only that publisher's
projects: no long-lived password in the repository's secrets.

Where each secret goes: the runner's request token only to the runner's URL, the OIDC
token only to the index's origin (the scheme and host of the upload URL), and the minted
token only to twine, never to the output.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from steward import limits
from steward.errors import ReleaseError

REQUEST_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 (a variable name)
MAX_BODY = 64 * 1024  # every answer here is a small JSON object
ATTEMPTS = 3


def available(env: Mapping[str, str]) -> bool:
    """Whether this job can ask for an OIDC token (GitHub Actions with id-token: write)."""
    return bool(env.get(REQUEST_URL_ENV) and env.get(REQUEST_TOKEN_ENV))


def index_origin(index_url: str) -> str:
    """`https://upload.pypi.org/legacy/` -> `https://upload.pypi.org`: where the OIDC
    endpoints live, as pypa/gh-action-pypi-publish derives them."""
    parts = urlsplit(index_url)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ReleaseError(f"trusted publishing: the index URL {index_url!r} has no origin")
    return f"{parts.scheme}://{parts.netloc}"


def upload_token(
    index_url: str,
    env: Mapping[str, str],
    *,
    client: httpx.Client | None = None,
    sleep: Any = time.sleep,
) -> str:
    """A minted upload token for `index_url` (use it as twine's password, user `__token__`)."""
    if not available(env):
        raise ReleaseError(
            "trusted publishing: no OIDC token here: the job needs `permissions: id-token: "
            f"write` in GitHub Actions ({REQUEST_URL_ENV} is not set)"
        )
    origin = index_origin(index_url)
    own = client is None
    http = client or httpx.Client(timeout=30.0, follow_redirects=False)
    try:
        audience = _json(
            http, sleep, "GET", f"{origin}/_/oidc/audience", what="the index's OIDC audience"
        ).get("audience")
        if not isinstance(audience, str) or not audience:
            raise ReleaseError(f"trusted publishing: {origin} names no OIDC audience")
        runner = env[REQUEST_URL_ENV]
        joiner = "&" if "?" in runner else "?"
        oidc = _json(
            http,
            sleep,
            "GET",
            f"{runner}{joiner}{urlencode({'audience': audience})}",
            what="the runner's OIDC token",
            headers={"Authorization": f"bearer {env[REQUEST_TOKEN_ENV]}"},
        ).get("value")
        if not isinstance(oidc, str) or not oidc:
            raise ReleaseError("trusted publishing: the runner gave no OIDC token")
        minted = _json(
            http,
            sleep,
            "POST",
            f"{origin}/_/oidc/mint-token",
            what="the index's token exchange",
            body={"token": oidc},
        ).get("token")
        if not isinstance(minted, str) or not minted:
            raise ReleaseError(f"trusted publishing: {origin} minted no token")
        return minted
    finally:
        if own:
            http.close()


def _json(
    http: httpx.Client,
    sleep: Any,
    method: str,
    url: str,
    *,
    what: str,
    headers: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One small JSON object; transport errors and 5xx are retried (every call here is
    safe to repeat: a second mint only makes a second short-lived token)."""
    where = urlsplit(url)._replace(query="").geturl()  # the runner's query is not for logs
    for attempt in range(ATTEMPTS):
        try:
            with http.stream(method, url, headers=headers, json=body) as response:
                raw = limits.read_capped(
                    response.iter_bytes(), MAX_BODY, f"{what} ({where})", ReleaseError
                )
                status = response.status_code
        except httpx.HTTPError as exc:
            if attempt + 1 == ATTEMPTS:
                raise ReleaseError(f"trusted publishing: {what} ({where}): {exc}") from None
            sleep(2**attempt)
            continue
        if status >= 500 and attempt + 1 < ATTEMPTS:
            sleep(2**attempt)
            continue
        data = limits.loads_json(raw, f"{what} ({where})", ReleaseError) if raw else {}
        if status != 200:
            raise ReleaseError(
                f"trusted publishing: {what} ({where}) answered HTTP {status}: {_reason(data)}"
            )
        if not isinstance(data, dict):
            raise ReleaseError(f"trusted publishing: {what} ({where}) is not a JSON object")
        return data
    raise AssertionError("unreachable")


def _reason(data: Any) -> str:
    """Warehouse's error shape: {"message": ..., "errors": [{"code", "description"}]}."""
    if not isinstance(data, dict):
        return "no reason given"
    errors = data.get("errors")
    if isinstance(errors, list):
        parts = [
            f"{e.get('code', '?')}: {e.get('description', '')}".strip()
            for e in errors
            if isinstance(e, dict)
        ]
        if parts:
            return "; ".join(parts)[:1000]
    return str(data.get("message") or "no reason given")[:1000]
