"""Powertools Logger output from CloudWatch Logs (Powertools' ``data_fetcher.logs``).

One difference: ``start_time`` is sent in milliseconds, as the API wants (Powertools sends
seconds, so it reads the whole log group); a naive ``start_time`` is taken as UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from steward.e2e import aws
from steward.e2e.compat.data_fetcher.common import retry_on, retry_window


class Log(BaseModel):
    """One structured Logger line; extra keys are kept as attributes."""

    model_config = ConfigDict(extra="allow")

    level: str
    location: str
    message: dict[str, Any] | str
    timestamp: str
    service: str
    cold_start: bool | None = None
    function_name: str | None = None
    function_memory_size: str | None = None
    function_arn: str | None = None
    function_request_id: str | None = None
    xray_trace_id: str | None = None


def _epoch_ms(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


class LogFetcher:
    """Fetches at construction; ``ValueError`` while there are fewer structured lines than
    ``minimum_log_entries`` (`get_logs` retries on it)."""

    def __init__(
        self,
        function_name: str,
        start_time: datetime,
        log_client: Any = None,
        filter_expression: str | None = None,
        minimum_log_entries: int = 1,
    ) -> None:
        self.function_name = function_name
        self.start_time = _epoch_ms(start_time)
        self.log_client = log_client or aws.client("logs")
        self.filter_expression = filter_expression or "message"  # Logger's message key
        self.log_group = f"/aws/lambda/{self.function_name}"
        self.minimum_log_entries = minimum_log_entries
        self.logs: list[Log] = self._get_logs()

    def get_log(self, key: str, value: Any = None) -> list[Log]:
        """Lines having ``key`` (with ``value``, when given)."""
        if value is None:
            return [log for log in self.logs if hasattr(log, key)]
        return [log for log in self.logs if getattr(log, key, None) == value]

    def get_cold_start_log(self) -> list[Log]:
        return [log for log in self.logs if log.cold_start]

    def have_keys(self, *keys: str) -> bool:
        return all(hasattr(log, key) for log in self.logs for key in keys)

    def _get_logs(self) -> list[Log]:
        ret = self.log_client.filter_log_events(
            logGroupName=self.log_group,
            startTime=self.start_time,
            filterPattern=self.filter_expression,
        )
        if not ret["events"]:
            raise ValueError("Empty response from Cloudwatch Logs. Repeating...")
        found: list[Log] = []
        for event in ret["events"]:
            try:
                found.append(Log(**json.loads(event["message"])))
            except json.JSONDecodeError:
                continue  # START/END/REPORT lines, print() output
        if len(found) < self.minimum_log_entries:
            raise ValueError(
                "Number of log entries found doesn't meet minimum required "
                f"({self.minimum_log_entries}). Repeating...",
            )
        return found

    def __len__(self) -> int:
        return len(self.logs)


def get_logs(
    function_name: str,
    start_time: datetime,
    minimum_log_entries: int = 1,
    filter_expression: str | None = None,
    log_client: Any = None,
    *,
    timeout: float | None = None,
) -> LogFetcher:
    """A `LogFetcher` once enough lines arrived; ``ValueError`` after Powertools' window
    (10 tries, 2 s delay, 1.5 s jitter)."""
    return retry_on(
        ValueError,
        lambda: LogFetcher(
            function_name=function_name,
            start_time=start_time,
            filter_expression=filter_expression,
            log_client=log_client,
            minimum_log_entries=minimum_log_entries,
        ),
        what=f"logs of {function_name}",
        timeout=retry_window(10, 2, 1.5) if timeout is None else timeout,
        interval=2,
    )
