"""Powertools' ``tests.e2e.utils.data_builder``: the same names, re-exported."""

from steward.e2e.compat.data_builder.common import build_random_value, build_service_name
from steward.e2e.compat.data_builder.metrics import (
    build_add_dimensions_input,
    build_add_metric_input,
    build_metric_name,
    build_metric_query_data,
    build_multiple_add_metric_input,
)
from steward.e2e.compat.data_builder.traces import (
    build_put_annotations_input,
    build_put_metadata_input,
    build_trace_default_query,
)

__all__ = [
    "build_add_dimensions_input",
    "build_add_metric_input",
    "build_metric_name",
    "build_metric_query_data",
    "build_multiple_add_metric_input",
    "build_put_annotations_input",
    "build_put_metadata_input",
    "build_random_value",
    "build_service_name",
    "build_trace_default_query",
]
