"""Random GitHub responses that GitHub's OpenAPI description allows, for property tests.

An operation's response schema (OpenAPI 3.0) is turned into plain JSON Schema (``$ref``s
inlined, ``nullable: true`` as a ``null`` branch, OpenAPI-only keywords dropped), then into a
Hypothesis strategy by `strategy`, a small generator for the keywords GitHub's description
uses. (hypothesis-jsonschema 0.23.1, the current release, cannot generate objects with the
Hypothesis this project locks: ``'many' object has no attribute 'more'``.)

To keep examples small and fast, objects get no properties beyond the schema's own, arrays
at most a few items, and optional properties are kept only when steward reads them (`READ`):
every value is still valid against the original description, and the `ScriptedGitHub`
server validates each answer it sends, so a generator mistake fails the test rather than
testing steward against a shape GitHub never sends. Integers are unbounded where the
description sets no bounds: negative counts are valid data.
"""

from __future__ import annotations

import copy
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

from hypothesis import strategies as st

from tests.support import openapi

# Optional properties steward reads somewhere; all others are left out of generated objects.
READ = frozenset(
    {
        "body",
        "comments",
        "pull_request",
        "user",
        "labels",
        "author_association",
        "state",
        "state_reason",
        "updated_at",
        "html_url",
        "name",
        "description",
        "color",
        "filename",
        "previous_filename",
        "status",
        "additions",
        "deletions",
        "draft",
        "prerelease",
        "published_at",
        "created_at",
        "tag_name",
        "id",
        "number",
        "title",
        "login",
        "type",
        "context",
        "statuses",
        "merged_at",
        "items",
        "head",
        "ref",
    }
)
FORMATS = frozenset({"date-time", "date", "email"})
MAX_ITEMS = 2  # per array; a listing's top level gets `MAX_TOP` (tests stay in Hypothesis's budget)
MAX_TOP = 4
_INT_RANGES = {"int64": (-(2**63), 2**63 - 1), "int32": (-(2**31), 2**31 - 1)}
_KEEP = (
    "type",
    "enum",
    "required",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
)


class _Recursive(Exception):
    pass


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = openapi.load_spec()["components"]["schemas"]
    return schemas


def to_json_schema(node: Any, stack: tuple[str, ...] = ()) -> dict[str, Any]:
    """JSON Schema (draft 7) for one OpenAPI 3.0 schema, trimmed as the module says."""
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        if name in stack:
            raise _Recursive(name)
        return to_json_schema(_schemas()[name], (*stack, name))
    out: dict[str, Any] = {k: copy.deepcopy(node[k]) for k in _KEEP if k in node}
    fmt = node.get("format")
    if fmt in FORMATS and node.get("type") == "string":
        out["format"] = fmt
    if fmt in _INT_RANGES and node.get("type") == "integer":
        lo, hi = _INT_RANGES[fmt]
        out["minimum"], out["maximum"] = (
            max(out.get("minimum", lo), lo),
            min(out.get("maximum", hi), hi),
        )
    for key in ("oneOf", "anyOf", "allOf"):
        if key in node:
            out[key] = [to_json_schema(s, stack) for s in node[key]]
    mapping = (node.get("discriminator") or {}).get("mapping") or {}
    prop = (node.get("discriminator") or {}).get("propertyName")
    if prop and mapping and "oneOf" in node:  # each branch carries its discriminator value
        for ref, branch in zip(node["oneOf"], out["oneOf"], strict=True):
            value = next(k for k, v in mapping.items() if v == ref.get("$ref"))
            branch.setdefault("properties", {})[prop] = {"type": "string", "enum": [value]}
            branch["required"] = sorted({*branch.get("required", []), prop})
    if "items" in node:
        out["items"] = to_json_schema(node["items"], stack)
        out["maxItems"] = min(int(node.get("maxItems", MAX_ITEMS)), MAX_ITEMS)
        out["minItems"] = min(int(node.get("minItems", 0)), out["maxItems"])
    if "properties" in node or node.get("type") == "object":
        required = set(node.get("required", []))
        props: dict[str, Any] = {}
        for name, sub in (node.get("properties") or {}).items():
            if name not in required and name not in READ:
                continue
            try:
                props[name] = to_json_schema(sub, stack)
            except _Recursive:
                if name in required:
                    raise
        out["properties"] = props
        out["required"] = sorted(required & props.keys())
        out["additionalProperties"] = False
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"].append(None)
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def response_schema(method: str, template: str) -> tuple[int, dict[str, Any]]:
    """The first documented 2xx status of an operation and its JSON body's schema."""
    op = openapi.load_spec()["paths"][template][method.lower()]
    status = min(int(s) for s in op["responses"] if s.startswith("2"))
    content = op["responses"][str(status)]["content"]["application/json"]
    return status, content["schema"]


@cache
def responses(method: str, template: str) -> st.SearchStrategy[Any]:
    """Schema-valid bodies for the operation's success response."""
    _, schema = response_schema(method, template)
    converted = to_json_schema(schema)
    if "items" in converted:  # a listing: a few more items, so duplicates and pages show up
        converted["maxItems"] = max(converted["minItems"], MAX_TOP)
    return strategy(converted)


@cache
def component(name: str) -> st.SearchStrategy[Any]:
    """Schema-valid values of one ``components.schemas`` entry."""
    return strategy(to_json_schema({"$ref": f"#/components/schemas/{name}"}))


# -- JSON Schema -> strategy ------------------------------------------------------------------

_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
)


def _date_time() -> st.SearchStrategy[str]:
    """RFC 3339 date-times as GitHub writes them (``Z``), and with offsets and fractions."""
    moments = st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=_ZONES
    )
    return st.one_of(
        moments.map(lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        moments.map(lambda d: d.isoformat()),
    )


_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": _date_time(),
    "date": st.dates().map(lambda d: d.isoformat()),
    "email": st.emails(),
}
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(string.printable),
    max_size=8,
)
_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(),
    "number": st.integers() | st.floats(allow_nan=False, allow_infinity=False),
}


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against ``schema`` (the subset of JSON Schema `to_json_schema` emits)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([strategy(s) for s in schema.get("anyOf", schema.get("oneOf", []))])
    if "allOf" in schema:
        return strategy(_merge(schema["allOf"], schema))
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([strategy({**schema, "type": k}) for k in kind])
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else None)
    if kind == "object":
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        return st.fixed_dictionaries(
            {k: strategy(v) for k, v in props.items() if k in required},
            optional={k: strategy(v) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            strategy(schema.get("items") or {}),
            min_size=int(schema.get("minItems", 0)),
            max_size=int(schema.get("maxItems", MAX_ITEMS)),
            unique_by=(lambda v: json.dumps(v, sort_keys=True))
            if schema.get("uniqueItems")
            else None,
        )
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(
            min_value=_bound(schema, "minimum", "exclusiveMinimum", 1),
            max_value=_bound(schema, "maximum", "exclusiveMaximum", -1),
        )
    if kind in _SCALARS:
        return _SCALARS[kind]
    return st.none() | st.booleans() | st.integers() | _TEXT  # any JSON value


def _bound(schema: dict[str, Any], key: str, exclusive: str, step: int) -> int | None:
    if key not in schema:
        return None
    value = int(schema[key])
    return value + step if schema.get(exclusive) is True else value


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt in _FORMATS:
        return _FORMATS[fmt]
    lo, hi = int(schema.get("minLength", 0)), schema.get("maxLength")
    if "pattern" in schema:
        base: st.SearchStrategy[str] = st.from_regex(schema["pattern"])
        return base.filter(lambda v: len(v) >= lo and (hi is None or len(v) <= int(hi)))
    if lo == 0 and hi is None:
        return _TEXT
    return st.text(min_size=lo, max_size=min(int(hi), 20) if hi is not None else max(lo, 8))


def _merge(parts: list[dict[str, Any]], outer: dict[str, Any]) -> dict[str, Any]:
    """``allOf`` of object schemas as one object schema."""
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in [*parts, {k: v for k, v in outer.items() if k != "allOf"}]:
        merged["properties"].update(part.get("properties") or {})
        merged["required"] = sorted({*merged["required"], *(part.get("required") or [])})
    return merged
