"""Invoke functions and fetch HTTP responses (Powertools' ``data_fetcher.common``).

Retries use `steward.e2e.data_fetcher.retry_until`; the window is the one Powertools'
``@retry(..., tries, delay, jitter)`` gives (its jitter is added to the delay after each
try), and only the exception type Powertools retries counts as "not yet": anything else is
raised at once, and when the window closes the last retried exception is raised, as
``retry`` does, so a test sees the same exceptions.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from steward.e2e import aws
from steward.e2e.data_fetcher import FetchTimeout, retry_until
from steward.errors import StewardError

T = TypeVar("T")
InvocationResponse = dict[str, Any]
GetLambdaResponse = tuple[InvocationResponse, datetime]


def retry_window(tries: int, delay: float, jitter: float = 0.0) -> float:
    """Seconds ``@retry(tries=, delay=, jitter=)`` waits in all: ``tries - 1`` sleeps, each
    ``jitter`` longer than the one before (jitter 1.5, delay 2, 10 tries: 72 s)."""
    return sum(delay + i * jitter for i in range(tries - 1))


class _Raised:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc


def retry_on(
    exc_type: type[Exception] | tuple[type[Exception], ...],
    fn: Callable[[], T],
    *,
    what: str,
    timeout: float,
    interval: float,
) -> T:
    """Call ``fn`` until it stops raising ``exc_type`` or ``timeout`` passes; then re-raise
    the last such exception. Any other exception ends the wait at once."""
    last: list[Exception] = []

    def attempt() -> T | _Raised:
        try:
            return fn()
        except exc_type as exc:
            last[:] = [exc]
            raise
        except Exception as exc:
            return _Raised(exc)

    try:
        result = retry_until(attempt, lambda _: True, what=what, timeout=timeout, interval=interval)
    except FetchTimeout as timed_out:
        if not last:
            raise
        last[0].add_note(f"steward.e2e.compat: {what}, still failing after {timeout:.0f}s")
        raise last[0] from timed_out
    if isinstance(result, _Raised):
        raise result.exc
    return result


class GetLambdaResponseOptions(BaseModel):
    """The arguments of one `get_lambda_response` call, for `get_lambda_response_in_parallel`."""

    lambda_arn: str
    payload: str | None = None
    client: Any = None
    raise_on_error: bool = True

    model_config = ConfigDict(arbitrary_types_allowed=True)


def get_lambda_response(
    lambda_arn: str,
    payload: str | None = None,
    client: Any = None,
    raise_on_error: bool = True,
) -> GetLambdaResponse:
    """Invoke synchronously; returns (the Invoke response, the time just before the call).

    ``payload`` is JSON text and is sent as it is (Powertools' tests pass ``json.dumps(...)``).
    ``response["Payload"]`` is left unread for the test. The time is timezone-aware UTC.
    A function error raises ``RuntimeError`` unless ``raise_on_error`` is false.
    """
    lam = client or aws.client("lambda")
    execution_time = datetime.now(UTC)
    response: InvocationResponse = lam.invoke(
        FunctionName=lambda_arn, InvocationType="RequestResponse", Payload=payload or ""
    )
    if response.get("FunctionError", "") == "Unhandled" and raise_on_error:
        error_payload = response["Payload"].read().decode()
        raise RuntimeError(f"Function failed invocation: {error_payload}")
    return response, execution_time


def _requests() -> Any:
    try:
        return importlib.import_module("requests")
    except ImportError as exc:
        raise StewardError("get_http_response needs requests: pip install requests") from exc


def get_http_response(request: Any, *, timeout: float | None = None) -> Any:
    """Send a ``requests.Request``; retried on ``RequestException`` (an HTTP error status
    included) as Powertools does (5 tries, 2 s delay, 1.5 s jitter)."""
    requests = _requests()

    def send() -> Any:
        result = requests.Session().send(request.prepare())
        result.raise_for_status()
        return result

    return retry_on(
        requests.exceptions.RequestException,
        send,
        what=f"HTTP {request.method} {request.url}",
        timeout=retry_window(5, 2, 1.5) if timeout is None else timeout,
        interval=2,
    )


def get_lambda_response_in_parallel(
    get_lambda_response_options: list[GetLambdaResponseOptions],
) -> list[GetLambdaResponse]:
    """Invoke concurrently, the n-th call started 0.5*n s after the one before, so the
    calls overlap but start in the given order (Powertools' idempotency tests rely on it)."""
    running: list[Future[GetLambdaResponse]] = []
    with ThreadPoolExecutor() as executor:
        for options in get_lambda_response_options:
            time.sleep(0.5 * len(running))
            call = functools.partial(
                get_lambda_response,
                lambda_arn=options.lambda_arn,
                payload=options.payload,
                client=options.client,
                raise_on_error=options.raise_on_error,
            )
            running.append(executor.submit(call))
    return [task.result() for task in running]
