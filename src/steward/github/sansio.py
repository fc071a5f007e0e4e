"""GitHub's REST protocol as pure functions of (status, headers, body): no I/O, no clock.

The shape of gidgethub's ``sansio.py``: everything the client must decide about a response
(is it rate limited and for how long, where the next page is and whether it is safe to go
there, what error it is, what its JSON is) is computed here from plain values, so each rule
is unit-tested without a network and the client (`github.client`) only moves bytes.

Safety rules that live here:
- a pagination link or redirect is followed only to the API's own origin (scheme, host and
  port), so the token never leaves for another host;
- the one exception is a release asset upload, to the ``upload_url`` the API named for the
  release, and only when that is under an allowed upload base (`upload_bases`:
  ``uploads.github.com`` for github.com, ``/api/uploads`` on a GHES host, or one the caller
  configured explicitly); a download's redirect to a storage host goes without the token;
- any text taken from a response for an error message is redacted: the client's token,
  ``Authorization`` values and GitHub token formats become ``***``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from steward import limits
from steward.errors import (
    AuthError,
    GitHubError,
    NotFoundError,
    PayloadError,
    ValidationFailed,
)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_WAIT = 60.0  # GitHub's advice when a limit gives no time: wait at least a minute
MAX_MESSAGE = 300

_LINK = re.compile(r"<(?P<url>[^>]*)>\s*;(?P<params>[^,<]*)")
_REL = re.compile(r'rel\s*=\s*"?(?P<rel>[^";]+)"?')
# GitHub token formats (classic, fine-grained, OAuth, app installation, refresh, user-to-server)
_TOKENS = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})")
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization\s*[:=]\s*)(?:(?:bearer|token|basic)\s+)?[^\s\"',;]+"
)
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]{6,}")


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def origin(url: str) -> Origin:
    """The (scheme, host, port) of an absolute URL, default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"https": 443, "http": 80}.get(scheme, 0)
    return Origin(scheme, (parts.hostname or "").lower(), port or default)


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` (absolute, or relative to ``base``) is on ``base``'s origin."""
    return origin(urljoin(base, url)) == origin(base)


GITHUB_API = "https://api.github.com"
GITHUB_UPLOADS = "https://uploads.github.com"


def upload_bases(api: str, explicit: Iterable[str] = ()) -> tuple[str, ...]:
    """Where release asset uploads may carry the token for the API at ``api``: GitHub's
    uploads host for github.com, ``https://HOST/api/uploads`` for a GHES API at
    ``https://HOST/api/v3``, and the ``explicit`` bases the client was given."""
    bases = [b.rstrip("/") for b in explicit if b]
    if origin(api) == origin(GITHUB_API):
        bases.append(GITHUB_UPLOADS)
    parts = urlsplit(api)
    if parts.path.rstrip("/").endswith("/api/v3"):
        prefix = parts.path.rstrip("/")[: -len("/v3")]
        bases.append(f"{parts.scheme}://{parts.netloc}{prefix}/uploads")
    return tuple(dict.fromkeys(bases))


def upload_allowed(url: str, bases: Iterable[str]) -> bool:
    """Whether ``url`` (absolute) is on one of ``bases``' origins and under its path."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return False
    for base in bases:
        prefix = urlsplit(base).path.rstrip("/")
        if origin(url) == origin(base) and (
            not prefix or parts.path == prefix or parts.path.startswith(prefix + "/")
        ):
            return True
    return False


def expand_upload_url(template: str) -> str:
    """The URL of a release's ``upload_url`` template (RFC 6570) without its query
    expression, which the caller fills as ordinary query parameters; any other form (a
    second expression, a query or fragment already there, not absolute) is a `PayloadError`,
    since only GitHub's own shape is trusted with the token."""
    base, brace, rest = template.partition("{")
    if brace and not re.fullmatch(r"\?[a-z_,]+\}", rest):
        raise PayloadError(f"the release's upload_url is not GitHub's template: {template[:200]!r}")
    parts = urlsplit(base)
    if parts.scheme not in {"https", "http"} or not parts.hostname or parts.query or "#" in base:
        raise PayloadError(f"the release's upload_url is not an absolute URL: {base[:200]!r}")
    return base


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, case-blind whatever mapping holds the headers."""
    value = headers.get(name)
    if value is not None:
        return value
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None


# -- redaction --------------------------------------------------------------------------------


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, credentials after ``Bearer``/``token``/``Basic`` and
    GitHub token formats replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}***", text)
    text = _SCHEME_VALUE.sub(lambda m: f"{m.group(1)} ***", text)
    return _TOKENS.sub("***", text)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Whitespace runs (newlines included) folded to one space, cut to ``limit``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def where(method: str, url: str) -> str:
    """``METHOD /path`` for messages: never the host or the query (which may carry secrets)."""
    return f"{method} {urlsplit(url).path or '/'}"


# -- bodies -----------------------------------------------------------------------------------


def _content_type(headers: Mapping[str, str]) -> str:
    return (header(headers, "content-type") or "").split(";", 1)[0].strip().lower()


def decode_json(status: int, headers: Mapping[str, str], body: bytes, at: str) -> Any:
    """The JSON of a successful response (``None`` when empty); anything else, such as an HTML
    page from a proxy or a wrong ``GITHUB_API_URL``, or JSON nested deeper than
    `limits.MAX_JSON_DEPTH`, is one `GitHubError` line."""
    if not body.strip():
        return None
    try:
        data = json.loads(body)
    except RecursionError:  # deeper than the decoder follows
        raise _too_deep(at, status) from None
    except (ValueError, UnicodeDecodeError):
        kind = _content_type(headers) or "no content type"
        raise GitHubError(
            f"{at}: the API answered {kind}, not JSON (HTTP {status}); "
            "is GITHUB_API_URL GitHub's REST API?",
            status=status,
        ) from None
    if limits.json_too_deep(body):
        raise _too_deep(at, status)
    return data


def _too_deep(at: str, status: int) -> GitHubError:
    return GitHubError(
        f"{at}: the answer is nested deeper than {limits.MAX_JSON_DEPTH} levels", status=status
    )


def message(body: bytes, reason: str = "", secrets: Iterable[str] = ()) -> str:
    """GitHub's error ``message`` (else the start of the body, else the reason), redacted."""
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = body[:MAX_MESSAGE].decode("utf-8", "replace")
        return one_line(redact(text, secrets)) or reason
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return one_line(redact(str(data["message"]), secrets))
    return reason


def expect_object(data: Any, at: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(f"{at}: expected a JSON object from GitHub, got {_kind(data)}")
    return data


def expect_list(data: Any, at: str) -> list[Any]:
    if not isinstance(data, list):
        raise PayloadError(f"{at}: expected a JSON list from GitHub, got {_kind(data)}")
    return data


def page_items(data: Any, items_key: str | None, at: str) -> list[Any]:
    """The items of one page: the list itself, or ``data[items_key]`` (search responses)."""
    if items_key is None:
        return expect_list(data, at)
    obj = expect_object(data, at)
    return expect_list(obj.get(items_key), f"{at} .{items_key}")


def _kind(data: Any) -> str:
    if data is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(data), type(data).__name__
    )


# -- pagination and redirects -----------------------------------------------------------------


def links(link_header: str | None) -> dict[str, str]:
    """RFC 8288 ``Link`` header: rel -> URL (the first URL for each rel)."""
    out: dict[str, str] = {}
    for m in _LINK.finditer(link_header or ""):
        rel = _REL.search(m.group("params"))
        if rel:
            for name in rel.group("rel").split():
                out.setdefault(name.lower(), m.group("url").strip())
    return out


def next_page(link_header: str | None, current: str, api: str, at: str) -> str | None:
    """The absolute URL of the next page (resolved against ``current``), or ``None`` on the
    last page.

    A next link to another origin than ``api`` (the API URL the token is meant for) is
    refused with a `GitHubError`: following it would send the token there.
    """
    url = links(link_header).get("next")
    if not url:
        return None
    absolute = urljoin(current, url)
    if not same_origin(absolute, api):
        raise GitHubError(
            f"{at}: refusing to follow a pagination link to {_show_origin(absolute)}, "
            f"which is not the API's origin {_show_origin(api)} (the token goes only there)"
        )
    return absolute


def redirect_target(
    method: str, status: int, headers: Mapping[str, str], url: str, base: str
) -> str:
    """Where to follow a redirect: same origin, and only for methods safe to repeat (GitHub
    answers 301/307 for renamed or transferred repositories); otherwise a `GitHubError`."""
    at = where(method, url)
    location = header(headers, "location")
    if not location:
        raise GitHubError(f"{at}: the API answered a redirect (HTTP {status}) without a Location")
    target = urljoin(url if urlsplit(url).scheme else base, location)
    if not same_origin(target, base):
        raise GitHubError(
            f"{at}: refusing to follow a redirect (HTTP {status}) to {_show_origin(target)}, "
            f"which is not the API's origin {_show_origin(base)} (the token goes only there)"
        )
    if method not in IDEMPOTENT or status == 303:
        raise GitHubError(
            f"{at}: the API answered a redirect (HTTP {status}) to {urlsplit(target).path}; "
            "the repository may have been renamed or moved"
        )
    return target


def _show_origin(url: str) -> str:
    o = origin(url)
    return f"{o.scheme}://{o.host}:{o.port}"


# -- rate limits, retries, errors -------------------------------------------------------------


def rate_limit_wait(
    status: int, headers: Mapping[str, str], body: bytes, now: float
) -> float | None:
    """Seconds to wait before retrying a rate-limited response, ``None`` if it is not one.

    Primary limit: ``x-ratelimit-remaining: 0`` and the reset time (epoch seconds; some
    recordings give milliseconds). Secondary limit: ``retry-after``, else one minute.
    """
    if status not in {403, 429}:
        return None
    retry_after = header(headers, "retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return DEFAULT_WAIT
    if header(headers, "x-ratelimit-remaining") == "0":
        reset = header(headers, "x-ratelimit-reset")
        if reset is None:
            return DEFAULT_WAIT
        try:
            at = float(reset)
        except ValueError:
            return DEFAULT_WAIT
        if at > 1e11:  # milliseconds
            at /= 1000.0
        return max(1.0, at - now + 1.0)
    if status == 429 or "secondary rate limit" in message(body).lower():
        return DEFAULT_WAIT
    return None


def retryable(method: str, status: int) -> bool:
    """A server error on a request that is safe to send again."""
    return status >= 500 and method in IDEMPOTENT


def error_for(
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    reason: str = "",
    secrets: Iterable[str] = (),
) -> GitHubError:
    """The `GitHubError` for an error response, its text redacted and on one line."""
    secrets = tuple(secrets)
    msg = message(body, reason, secrets)
    at = where(method, url)
    if status == 401:
        return AuthError(
            f"{at}: GitHub rejected the credentials (401 {msg}); check GITHUB_TOKEN",
            status=status,
        )
    if status == 403:
        needs = header(headers, "x-accepted-github-permissions")
        hint = f"; the token needs: {one_line(redact(needs, secrets), 100)}" if needs else ""
        return AuthError(f"{at}: forbidden (403 {msg}){hint}", status=status)
    if status == 404:
        return NotFoundError(
            f"{at}: not found (404); the resource does not exist or the token cannot see it",
            status=status,
        )
    if status == 422:
        details = ""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors:
            text = "; ".join(_describe(e) for e in errors)
            details = "; " + one_line(redact(text, secrets))
        return ValidationFailed(
            f"{at}: GitHub refused the request (422 {msg}){details}", status=status
        )
    return GitHubError(f"{at}: HTTP {status} {msg}".rstrip(), status=status)


def _describe(error: Any) -> str:
    """One entry of a 422's ``errors``: its message, else ``Resource.field code``."""
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    place = ".".join(str(error[k]) for k in ("resource", "field") if error.get(k))
    return f"{place} {error.get('code', 'invalid')}".strip()
