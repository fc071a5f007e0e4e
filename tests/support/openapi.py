"""GitHub's official OpenAPI description (`@octokit/openapi`), used to validate traffic.

Choice: openapi-core. It validates a whole request (path parameters, query, body against the
operation's requestBody) and a whole response (status documented for the operation, body
against its schema), resolving `$ref`s lazily. Constructing it with ``spec_validator_cls=None``
skips openapi-core's own check of the 13 MB description (~35 s); after that a request or
response validates in milliseconds (the first one of a process takes ~0.2 s).

Validation is memoised by its exact input: the same request (method, target, body and the
headers the description declares anywhere) or the same response (operation, status, body and
the headers that response declares) validates the same way every time, so a passing one is
not validated again. A long run (the chaos test's 10,000 deliveries) re-reads the same issues
and statuses thousands of times, and openapi-core takes 4-8 ms a request under one lock.

Known quirk of the description: 71 schemas say ``nullable: true`` and list an ``enum`` that
lacks null, so GitHub's real ``null`` answers would fail; `load_spec` adds ``None`` to those
enums while loading. The parsed, patched description is cached per process.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.support.github_material import OCTOKIT

SPEC_PATH = OCTOKIT / "openapi" / "generated" / "api.github.com.json"
HOST = "https://api.github.com"
_LOCK = threading.Lock()  # openapi-core's lazy caches are not documented as thread-safe


class SpecViolation(AssertionError):
    """A request or response that GitHub's OpenAPI description does not allow."""


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, depth first (a caller may change one it is given
    before its values are walked)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            yield cur
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)


def patch_nullable_enums(node: Any) -> int:
    """Add ``None`` to every ``enum`` of a ``nullable: true`` schema that lacks it."""
    patched = 0
    for obj in _objects(node):
        enum = obj.get("enum")
        if obj.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
            patched += 1
    return patched


@cache
def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_bytes())
    spec["x-steward-patched-nullable-enums"] = patch_nullable_enums(spec)
    return spec


@cache
def openapi(paths: frozenset[str] | None = None) -> OpenAPI:
    """The validator; with ``paths``, restricted to those path templates (same components).

    openapi-core finds a request's operation by trying every path template in order (~1000
    in GitHub's description, ~5 ms a request); a server that implements a dozen operations
    validates against just those, so an undocumented path is still a violation.
    """
    spec = load_spec()
    if paths is not None:
        missing = paths - spec["paths"].keys()
        if missing:
            raise KeyError(f"not in GitHub's OpenAPI description: {sorted(missing)}")
        spec = {**spec, "paths": {k: v for k, v in spec["paths"].items() if k in paths}}
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def example(name: str) -> Any:
    """A deep copy of ``components.examples[name].value`` (GitHub's own sample object)."""
    return copy.deepcopy(load_spec()["components"]["examples"][name]["value"])


def documented_statuses(method: str, template: str) -> set[int]:
    op = load_spec()["paths"][template][method.lower()]
    return {int(s) for s in op["responses"] if s.isdigit()}


class _Passed:
    """The inputs that validated, a bounded LRU (a failure is never remembered)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
            return False

    def add(self, key: Hashable) -> None:
        with self._lock:
            self._seen[key] = None
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)


_PASSED = _Passed()


def _digest(body: bytes | None) -> bytes:
    return hashlib.blake2b(body or b"", digest_size=16).digest()


@cache
def _request_headers() -> frozenset[str]:
    """Every header name the description declares as a parameter (all the request headers
    openapi-core reads, beside content-type)."""
    names = {"content-type"}
    for obj in _objects(load_spec()):
        if obj.get("in") == "header" and isinstance(obj.get("name"), str):
            names.add(obj["name"].lower())
    return frozenset(names)


@cache
def _response_headers(method: str, template: str, status: int) -> frozenset[str]:
    """The header names the operation's ``status`` response declares, beside content-type."""
    spec = load_spec()
    response = spec["paths"][template][method.lower()]["responses"].get(str(status), {})
    ref = response.get("$ref")
    if isinstance(ref, str):
        response = spec["components"]["responses"][ref.rsplit("/", 1)[-1]]
    return frozenset({"content-type", *(h.lower() for h in response.get("headers", {}))})


def _declared(headers: dict[str, str], names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The headers among ``names``, in a stable order: the part of a memo key they make."""
    return tuple(sorted((k, v) for k, v in headers.items() if k in names))


def _request(method: str, target: str, body: bytes | None, headers: dict[str, str]) -> MockRequest:
    parts = urlsplit(target)
    return MockRequest(
        HOST,
        method.lower(),
        parts.path,
        args=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        data=body or None,
        content_type=headers.get("content-type", "application/json").split(";")[0],
    )


def validate_request(
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    paths: frozenset[str] | None = None,
) -> None:
    """Raise `SpecViolation` unless GitHub documents this request (path, query and body)."""
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    declared = _request_headers()
    key = (
        "request",
        paths,
        method,
        target,
        _digest(body),
        _declared(hdrs, declared),
    )
    if key in _PASSED:
        return
    with _LOCK:
        try:
            openapi(paths).validate_request(_request(method, target, body, hdrs))
        except Exception as exc:
            raise SpecViolation(f"request {method} {target}: {_explain(exc)}") from None
    _PASSED.add(key)


def validate_response(
    method: str,
    target: str,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
    request_body: bytes | None = None,
    *,
    paths: frozenset[str] | None = None,
    template: str | None = None,
) -> None:
    """Raise `SpecViolation` unless ``status`` and ``body`` are what the operation documents.

    With ``template`` (the operation's path template), a response that validated before is
    not validated again.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    key: Hashable = None
    if template is not None:
        declared = _response_headers(method, template, status)
        key = (
            "response",
            paths,
            method,
            target,
            status,
            _digest(body),
            _digest(request_body),
            _declared(hdrs, declared),
        )
        if key in _PASSED:
            return
    req = _request(method, target, request_body, {"content-type": "application/json"})
    resp = MockResponse(
        body,
        status_code=status,
        content_type=hdrs.get("content-type", "application/json").split(";")[0],
        headers=hdrs,
    )
    with _LOCK:
        try:
            openapi(paths).validate_response(req, resp)
        except Exception as exc:
            raise SpecViolation(
                f"response {status} to {method} {target}: {_explain(exc)}"
            ) from None
    if key is not None:
        _PASSED.add(key)


@cache
def _basic_error() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(load_spec()["components"]["schemas"]["basic-error"])


def validate_error_body(body: Any) -> None:
    """GitHub's generic error shape (``basic-error``), for statuses an operation does not list
    but GitHub sends for any request (401 bad credentials, 5xx, rate limits)."""
    errors = list(_basic_error().iter_errors(body))
    if errors or not isinstance(body, dict) or "message" not in body:
        raise SpecViolation(f"error body is not GitHub's basic-error shape: {body!r:.200}")


def _explain(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(parts) < 4:
        parts.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    for extra in getattr(exc, "schema_errors", ()) or ():
        parts.append(str(getattr(extra, "message", extra)))
    return " | ".join(p[:400] for p in parts)
