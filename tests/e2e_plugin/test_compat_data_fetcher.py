"""steward.e2e.compat's data fetchers (Powertools' names) against the moto server.

moto's X-Ray refuses filter expressions (500, "Not implemented yet"), so the trace test
hands the fetcher moto's client with the expression dropped; everything else is moto as is.
"""

from __future__ import annotations

import io
import json
import secrets
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from steward.e2e import aws
from steward.e2e.compat import data_fetcher
from steward.e2e.compat.data_builder import (
    build_add_dimensions_input,
    build_metric_query_data,
    build_put_annotations_input,
)
from steward.e2e.compat.data_fetcher.common import (
    GetLambdaResponseOptions,
    get_lambda_response_in_parallel,
    retry_on,
    retry_window,
)
from steward.e2e.compat.data_fetcher.logs import LogFetcher
from steward.e2e.compat.data_fetcher.traces import TraceFetcher
from steward.errors import StewardError


@pytest.fixture
def echo_function(aws_env: Any) -> str:
    """A function on moto's simple backend: an invoke echoes its payload."""
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName=f"r-{secrets.token_hex(3)}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("echo.py", "def lambda_handler(e, c):\n    return e\n")
    fn = aws.client("lambda").create_function(
        FunctionName=f"echo-{secrets.token_hex(3)}",
        Runtime="python3.11",
        Role=role,
        Handler="echo.lambda_handler",
        Code={"ZipFile": buf.getvalue()},
    )
    return str(fn["FunctionArn"])


def test_lambda_response_sends_json_text_as_is_and_leaves_the_payload_unread(
    echo_function: str,
) -> None:
    before = datetime.now(UTC)
    response, execution_time = data_fetcher.get_lambda_response(
        lambda_arn=echo_function, payload=json.dumps({"message": "hi"})
    )
    assert before <= execution_time <= datetime.now(UTC)
    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read()) == {"message": "hi"}  # an object, not a str


def test_parallel_invocations_keep_their_order_and_are_staggered(echo_function: str) -> None:
    options = [
        GetLambdaResponseOptions(lambda_arn=echo_function, payload=json.dumps({"n": n}))
        for n in range(3)
    ]
    results = get_lambda_response_in_parallel(options)
    assert [json.loads(r["Payload"].read()) for r, _ in results] == [{"n": 0}, {"n": 1}, {"n": 2}]
    starts = [t for _, t in results]
    assert (starts[1] - starts[0]).total_seconds() >= 0.45  # slept 0.5 s
    assert (starts[2] - starts[1]).total_seconds() >= 0.95  # then 1 s


class _FailingLambda:
    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(b"boom")}


def test_an_unhandled_function_error_is_a_runtime_error_unless_told_otherwise() -> None:
    with pytest.raises(RuntimeError, match=r"^Function failed invocation: boom$"):
        data_fetcher.get_lambda_response("fn", "{}", client=_FailingLambda())
    response, _ = data_fetcher.get_lambda_response(
        "fn", "{}", client=_FailingLambda(), raise_on_error=False
    )
    assert response["FunctionError"] == "Unhandled"


def _log_line(**extra: Any) -> str:
    line = {
        "level": "INFO",
        "location": "handler:3",
        "message": "hello",
        "timestamp": "2024-01-01 00:00:00,000+0000",
        "service": "svc",
        **extra,
    }
    return json.dumps(line)


def test_logs_are_powertools_log_lines(aws_env: Any) -> None:
    name = f"fn-{secrets.token_hex(3)}"
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
    logs.create_log_stream(logGroupName=f"/aws/lambda/{name}", logStreamName="s")
    start = datetime.now(UTC) - timedelta(seconds=5)
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=f"/aws/lambda/{name}",
        logStreamName="s",
        logEvents=[
            {"timestamp": now_ms, "message": "START RequestId: 1 message"},  # not JSON: skipped
            {"timestamp": now_ms + 1, "message": _log_line(cold_start=True, order_id="7")},
            {"timestamp": now_ms + 2, "message": _log_line(cold_start=False)},
        ],
    )
    fetched = data_fetcher.get_logs(function_name=name, start_time=start, minimum_log_entries=2)
    assert isinstance(fetched, LogFetcher)
    assert len(fetched) == 2
    assert len(fetched.get_cold_start_log()) == 1
    assert [log.message for log in fetched.get_log(key="order_id")] == ["hello"]
    assert fetched.get_log(key="order_id", value="8") == []
    assert fetched.have_keys("level", "service")
    # a naive start time is UTC, as Powertools' datetime.utcnow() gives it
    naive = start.replace(tzinfo=None)
    assert len(data_fetcher.get_logs(function_name=name, start_time=naive)) == 2

    with pytest.raises(ValueError, match="doesn't meet minimum required") as raised:
        data_fetcher.get_logs(name, start, minimum_log_entries=3, timeout=0)
    assert any("still failing after 0s" in note for note in raised.value.__notes__)
    later = datetime.now(UTC) + timedelta(minutes=5)
    with pytest.raises(ValueError, match="Empty response from Cloudwatch Logs"):
        data_fetcher.get_logs(name, later, timeout=0)


def test_metrics_take_powertools_dimensions(aws_env: Any) -> None:
    cw = aws.client("cloudwatch")
    namespace = f"E2E{secrets.token_hex(3)}"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dimensions = build_add_dimensions_input(service="svc")
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Orders", "Value": v, "Timestamp": now, "Dimensions": dimensions}
            for v in (1.0, 2.0)
        ],
    )
    values = data_fetcher.get_metrics(
        namespace=namespace,
        start_date=now - timedelta(minutes=1),
        metric_name="Orders",
        dimensions=dimensions,
    )
    assert values == [3.0]
    with pytest.raises(ValueError, match="Empty response from Cloudwatch"):
        data_fetcher.get_metrics(namespace, now - timedelta(minutes=1), "Missing", timeout=0)


def test_metric_query_matches_powertools() -> None:
    query = build_metric_query_data("NS", "ColdStart", dimensions=[{"Name": "a", "Value": "b"}])
    assert query == [
        {
            "Id": "coldstart",
            "MetricStat": {
                "Metric": {
                    "Namespace": "NS",
                    "MetricName": "ColdStart",
                    "Dimensions": [{"Name": "a", "Value": "b"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
    ]
    assert build_put_annotations_input(Key="v") == [{"key": "Key", "value": "v"}]


class _WithoutFilterExpression:
    """moto's X-Ray client, minus the FilterExpression moto does not implement."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get_paginator(self, name: str) -> Any:
        paginator = self.client.get_paginator(name)
        outer = self

        class _Paginator:
            def paginate(self, **kwargs: Any) -> Iterator[Any]:
                outer.expression = kwargs.pop("FilterExpression")
                return iter(paginator.paginate(**kwargs))

        return _Paginator()

    def batch_get_traces(self, **kwargs: Any) -> Any:
        return self.client.batch_get_traces(**kwargs)


def test_traces_expose_subsegments_annotations_and_metadata(aws_env: Any) -> None:
    now = time.time()
    trace_id = f"1-{int(now):08x}-{secrets.token_hex(12)}"
    inner = {
        "id": secrets.token_hex(8),
        "name": "## lambda_handler",
        "start_time": now,
        "end_time": now + 0.1,
        "annotations": {"ColdStart": True},
        "metadata": {"svc": {"lambda_handler response": {"ok": 1}}},
    }
    segment = {
        "id": secrets.token_hex(8),
        "trace_id": trace_id,
        "name": "fn",
        "origin": "AWS::Lambda::Function",
        "aws": {},
        "start_time": now,
        "end_time": now + 0.2,
        "subsegments": [
            {
                "id": secrets.token_hex(8),
                "name": "Invocation",  # excluded, its children are not
                "start_time": now,
                "end_time": now + 0.2,
                "subsegments": [inner],
            }
        ],
    }
    xray = aws.client("xray")
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])
    client = _WithoutFilterExpression(xray)
    trace = data_fetcher.get_traces(
        filter_expression='service(id(name: "fn"))',
        start_date=datetime.now(UTC) - timedelta(minutes=1),
        xray_client=client,
    )
    assert isinstance(trace, TraceFetcher)
    assert client.expression == 'service(id(name: "fn"))'
    assert [s.name for s in trace.get_subsegment(name="## lambda_handler")] == ["## lambda_handler"]
    assert trace.get_subsegment(name="Invocation") == []
    assert trace.get_annotation(key="ColdStart", value=True) == [{"ColdStart": True}]
    assert trace.get_metadata(key="lambda_handler response", namespace="svc") == [
        {"lambda_handler response": {"ok": 1}}
    ]
    with pytest.raises(ValueError, match="doesn't meet minimum required"):
        data_fetcher.get_traces(
            "x",
            datetime.now(UTC) - timedelta(minutes=1),
            xray_client=client,
            minimum_traces=50,
            timeout=0,
        )


def test_idempotency_records_are_counted(aws_env: Any) -> None:
    ddb = aws.client("dynamodb")
    table = f"idem-{secrets.token_hex(3)}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ("fn.lambda_handler#abc", "fn.lambda_handler#def", "other#x"):
        ddb.put_item(TableName=table, Item={"id": {"S": item}})
    assert data_fetcher.get_ddb_idempotency_record("fn.lambda_handler", table) == 2
    with pytest.raises(ValueError, match="Empty response from DynamoDB"):
        data_fetcher.get_ddb_idempotency_record("absent", table, timeout=0)


@pytest.fixture
def flaky_http() -> Iterator[str]:
    """Answers 503 to the first request, then 200."""
    hits: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(1)
            self.send_response(503 if len(hits) == 1 else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_http_response_is_retried_on_request_errors(flaky_http: str) -> None:
    requests = pytest.importorskip("requests")
    response = data_fetcher.get_http_response(requests.Request("GET", flaky_http))
    assert response.status_code == 200
    assert response.text == "ok"


def test_http_response_without_requests_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "requests", None)
    with pytest.raises(StewardError, match="pip install requests"):
        data_fetcher.get_http_response(object())


def test_retry_on_raises_other_errors_at_once_and_the_last_retried_one_at_the_end() -> None:
    calls: list[int] = []

    def denied() -> int:
        calls.append(1)
        raise PermissionError("AccessDenied")

    with pytest.raises(PermissionError):
        retry_on(ValueError, denied, what="x", timeout=60, interval=1)
    assert calls == [1]

    answers = iter([ValueError("not yet"), ValueError("still not"), 5])

    def eventually() -> int:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    assert retry_on(ValueError, eventually, what="x", timeout=60, interval=0.01) == 5
    # Powertools' windows: retry's jitter is added to the delay after every try
    assert retry_window(10, 2, 1.5) == 72
    assert retry_window(10, 5, 1.5) == 99
    assert retry_window(5, 2, 1.5) == 17
