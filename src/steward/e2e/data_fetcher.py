"""Read what a deployed function did: invoke response, logs, metrics, traces.

Logs, metrics and traces are eventually consistent: each fetcher polls until it has at least
the number of entries asked for, or raises `FetchTimeout` after `timeout` seconds. Clients
come from `steward.e2e.aws` (the endpoint follows AWS_ENDPOINT_URL) unless one is passed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from steward.e2e import aws
from steward.errors import StewardError

T = TypeVar("T")


class FetchTimeout(StewardError):
    """The data did not show up in time (eventual consistency outlasted the timeout)."""


def retry_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fetch` until `done(result)`; transient AWS errors count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            result = fetch()
            if done(result):
                return result
        except Exception as exc:  # e.g. ResourceNotFound while the log group appears
            last = exc
        if time.monotonic() >= deadline:
            why = f" (last error: {last})" if last else ""
            raise FetchTimeout(f"{what}: not available after {timeout:.0f}s{why}")
        sleep(interval)
        interval = min(interval * 1.5, 10.0)


def get_lambda_response(
    function_name: str, payload: Any = None, *, client: Any = None
) -> tuple[dict[str, Any], bytes]:
    """Invoke synchronously; returns (response metadata, payload bytes). Raises on a
    function error, so a test sees the handler's failure instead of a confusing payload.

    A ``str`` is JSON text and ``bytes`` a raw body: both are sent as they are (encoding
    ``json.dumps(...)`` again would hand the handler a string, not the object). Any other
    value is JSON-encoded; None sends ``{}``.
    """
    lam = client or aws.client("lambda")
    body = _body(payload)
    response = lam.invoke(
        FunctionName=function_name, InvocationType="RequestResponse", Payload=body
    )
    data: bytes = response["Payload"].read()
    if response.get("FunctionError"):
        raise StewardError(f"{function_name} failed: {data[:500]!r}")
    return response, data


def _body(payload: Any) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps({} if payload is None else payload).encode()


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def get_logs(
    function_name: str,
    start_time: datetime,
    *,
    minimum_log_entries: int = 1,
    filter_expression: str | None = None,
    log_group: str | None = None,
    timeout: float = 60.0,
    client: Any = None,
) -> list[Any]:
    """Log events of the function since `start_time`; JSON lines are decoded (structured logs)."""
    logs = client or aws.client("logs")
    group = log_group or f"/aws/lambda/{function_name}"

    def fetch() -> list[Any]:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": _ms(start_time)}
        if filter_expression:
            kwargs["filterPattern"] = filter_expression
        out: list[Any] = []
        for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
            for event in page["events"]:
                out.append(_decode(event["message"]))
        return out

    return retry_until(
        fetch, lambda r: len(r) >= minimum_log_entries, what=f"logs of {group}", timeout=timeout
    )


def _decode(message: str) -> Any:
    try:
        return json.loads(message)
    except ValueError:
        return message


def get_metrics(
    namespace: str,
    metric_name: str,
    start_date: datetime,
    end_date: datetime,
    *,
    dimensions: dict[str, str] | None = None,
    stat: str = "Sum",
    period: int = 60,
    minimum_datapoints: int = 1,
    timeout: float = 60.0,
    client: Any = None,
) -> list[float]:
    """Datapoint values of one metric between two dates (oldest first)."""
    cw = client or aws.client("cloudwatch")
    query = {
        "Id": "m0",
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }

    def fetch() -> list[float]:
        result = cw.get_metric_data(
            MetricDataQueries=[query],
            StartTime=start_date,
            EndTime=end_date,
            ScanBy="TimestampAscending",
        )["MetricDataResults"][0]
        return [float(v) for v in result.get("Values", [])]

    return retry_until(
        fetch,
        lambda r: len(r) >= minimum_datapoints,
        what=f"metric {namespace}/{metric_name}",
        timeout=timeout,
    )


def get_traces(
    start_date: datetime,
    end_date: datetime,
    *,
    filter_expression: str | None = None,
    minimum_traces: int = 1,
    timeout: float = 60.0,
    client: Any = None,
) -> list[dict[str, Any]]:
    """X-Ray traces (with decoded segment documents) between two dates."""
    xray = client or aws.client("xray")

    def fetch() -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"StartTime": start_date, "EndTime": end_date}
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        ids = [s["Id"] for s in xray.get_trace_summaries(**kwargs).get("TraceSummaries", [])]
        traces: list[dict[str, Any]] = []
        for chunk in _chunks(ids, 5):
            for trace in xray.batch_get_traces(TraceIds=chunk).get("Traces", []):
                for seg in trace.get("Segments", []):
                    seg["Document"] = _decode(seg.get("Document", "{}"))
                traces.append(trace)
        return traces

    return retry_until(fetch, lambda r: len(r) >= minimum_traces, what="traces", timeout=timeout)


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
