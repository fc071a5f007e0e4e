"""Inputs for CloudWatch metric queries and `Metrics.add_metric` (Powertools' builders)."""

from __future__ import annotations

from typing import Any

from steward.e2e.compat.data_builder.common import build_random_value

COUNT = "Count"  # Powertools' MetricUnit.Count.value, without importing Powertools


def build_metric_query_data(
    namespace: str,
    metric_name: str,
    period: int = 60,
    stat: str = "Sum",
    dimensions: list[dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The ``MetricDataQueries`` of one GetMetricData call, for one metric."""
    metric: dict[str, Any] = {"Namespace": namespace, "MetricName": metric_name}
    if dimensions:
        metric["Dimensions"] = dimensions
    return [
        {
            "Id": metric_name.lower(),
            "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
            "ReturnData": True,
        }
    ]


def build_add_metric_input(metric_name: str, value: float, unit: str = COUNT) -> dict[str, Any]:
    return {"name": metric_name, "unit": unit, "value": value}


def build_multiple_add_metric_input(
    metric_name: str, value: float, unit: str = COUNT, quantity: int = 1
) -> list[dict[str, Any]]:
    return [{"name": metric_name, "unit": unit, "value": value} for _ in range(quantity)]


def build_add_dimensions_input(**dimensions: str) -> list[dict[str, str]]:
    """``name=value`` pairs as CloudWatch dimensions (`get_metrics`, `add_dimension`)."""
    return [{"Name": name, "Value": value} for name, value in dimensions.items()]


def build_metric_name() -> str:
    return f"test_metric{build_random_value()}"
