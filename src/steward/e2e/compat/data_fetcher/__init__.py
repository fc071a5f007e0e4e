"""Powertools' ``tests.e2e.utils.data_fetcher``: the same names, re-exported."""

from steward.e2e.compat.data_fetcher.common import get_http_response, get_lambda_response
from steward.e2e.compat.data_fetcher.idempotency import get_ddb_idempotency_record
from steward.e2e.compat.data_fetcher.logs import get_logs
from steward.e2e.compat.data_fetcher.metrics import get_metrics
from steward.e2e.compat.data_fetcher.traces import get_traces

__all__ = [
    "get_ddb_idempotency_record",
    "get_http_response",
    "get_lambda_response",
    "get_logs",
    "get_metrics",
    "get_traces",
]
