"""Inputs for X-Ray queries and `Tracer.put_annotation`/`put_metadata` (Powertools')."""

from __future__ import annotations

from typing import Any


def build_trace_default_query(function_name: str) -> str:
    return f'service(id(name: "{function_name}"))'


def build_put_annotations_input(**annotations: str) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in annotations.items()]


def build_put_metadata_input(namespace: str | None = None, **metadata: Any) -> list[dict[str, Any]]:
    return [{"key": key, "value": value, "namespace": namespace} for key, value in metadata.items()]
