"""CloudWatch metric values (Powertools' ``data_fetcher.metrics``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from steward.e2e import aws
from steward.e2e.compat.data_builder import build_metric_query_data
from steward.e2e.compat.data_fetcher.common import retry_on, retry_window


def get_metrics(  # noqa: PLR0917 (Powertools' signature)
    namespace: str,
    start_date: datetime,
    metric_name: str,
    dimensions: list[dict[str, str]] | None = None,
    cw_client: Any = None,
    end_date: datetime | None = None,
    period: int = 60,
    stat: str = "Sum",
    *,
    timeout: float | None = None,
) -> list[float]:
    """The metric's values from ``start_date`` to ``end_date`` (default: 2 minutes later);
    ``ValueError`` while there is none, after Powertools' window (10 tries, 2 s, 1.5 s)."""
    cw = cw_client or aws.client("cloudwatch")
    end = end_date or start_date + timedelta(minutes=2)
    query = build_metric_query_data(
        namespace=namespace,
        metric_name=metric_name,
        period=period,
        stat=stat,
        dimensions=dimensions,
    )

    def fetch() -> list[float]:
        response = cw.get_metric_data(
            MetricDataQueries=query, StartTime=start_date, EndTime=end or datetime.now(UTC)
        )
        result: list[float] = response["MetricDataResults"][0]["Values"]
        if not result:
            raise ValueError("Empty response from Cloudwatch. Repeating...")
        return result

    return retry_on(
        ValueError,
        fetch,
        what=f"metric {namespace}/{metric_name}",
        timeout=retry_window(10, 2, 1.5) if timeout is None else timeout,
        interval=2,
    )
