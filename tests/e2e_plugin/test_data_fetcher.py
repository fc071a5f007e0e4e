"""Data fetchers against moto: invoke, logs, metrics, traces, and the retry/timeout rule."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from steward.e2e import aws
from steward.e2e.data_fetcher import (
    FetchTimeout,
    get_lambda_response,
    get_logs,
    get_metrics,
    get_traces,
    retry_until,
)
from steward.e2e.deployer import CloudFormationDeployer
from steward.e2e.infrastructure import BaseInfrastructure, DeployContext


class EchoStack(BaseInfrastructure):
    feature = "fetchers"

    def create_resources(self) -> None:
        self.create_lambda_functions()


def test_lambda_response_is_the_echoed_payload(aws_env: Any, tmp_path: Any) -> None:
    # a feature folder of its own, with one handler
    handlers = tmp_path / "handlers"
    handlers.mkdir()
    (handlers / "echo_handler.py").write_text("def lambda_handler(e, c):\n    return e\n")
    stack = EchoStack(
        context=DeployContext(run_id=secrets.token_hex(4)), deployer=CloudFormationDeployer()
    )
    stack.feature_path = tmp_path
    outputs = stack.deploy()
    try:
        assert set(outputs) == {"EchoHandler", "EchoHandlerArn"}
        response, body = get_lambda_response(outputs["EchoHandler"], {"hello": "world"})
        assert response["StatusCode"] == 200
        assert json.loads(body) == {"hello": "world"}
        # JSON text is sent as it is: the handler gets the object, not a string
        _, body = get_lambda_response(outputs["EchoHandler"], json.dumps({"as": "text"}))
        assert json.loads(body) == {"as": "text"}
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None


class _RecordingLambda:
    """A Lambda client that keeps what was sent and echoes it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        import io

        self.sent.append(kwargs["Payload"])
        return {"StatusCode": 200, "Payload": io.BytesIO(kwargs["Payload"])}


@pytest.mark.parametrize(
    ("payload", "sent"),
    [
        ('{"a": 1}', b'{"a": 1}'),  # JSON text: as is (it was encoded a second time)
        (b"raw", b"raw"),
        ("", b""),
        ({"a": 1}, b'{"a": 1}'),
        ([], b"[]"),
        (None, b"{}"),
    ],
)
def test_a_str_payload_is_json_text_sent_as_is(payload: Any, sent: bytes) -> None:
    client = _RecordingLambda()
    _, body = get_lambda_response("fn", payload, client=client)
    assert client.sent == [sent]
    assert body == sent


def test_logs_are_fetched_and_json_lines_decoded(aws_env: Any) -> None:
    logs = aws.client("logs")
    name = f"fn-{secrets.token_hex(3)}"
    group = f"/aws/lambda/{name}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    start = datetime.now(UTC) - timedelta(seconds=5)
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now_ms, "message": json.dumps({"level": "INFO", "message": "hi"})},
            {"timestamp": now_ms + 1, "message": "START RequestId: 1"},
        ],
    )
    found = get_logs(name, start, minimum_log_entries=2, timeout=10)
    assert {"level": "INFO", "message": "hi"} in found
    assert "START RequestId: 1" in found


def test_metrics_are_fetched(aws_env: Any) -> None:
    cw = aws.client("cloudwatch")
    namespace = f"E2E{secrets.token_hex(3)}"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "ColdStart",
                "Value": 1.0,
                "Timestamp": now,
                "Dimensions": [{"Name": "service", "Value": "s"}],
            },
            {
                "MetricName": "ColdStart",
                "Value": 2.0,
                "Timestamp": now,
                "Dimensions": [{"Name": "service", "Value": "s"}],
            },
        ],
    )
    values = get_metrics(
        namespace,
        "ColdStart",
        now - timedelta(minutes=5),
        now + timedelta(minutes=5),
        dimensions={"service": "s"},
        timeout=10,
    )
    assert values == [3.0]


def test_traces_are_fetched_with_decoded_segments(aws_env: Any) -> None:
    xray = aws.client("xray")
    now = time.time()
    trace_id = f"1-{int(now):08x}-{secrets.token_hex(12)}"
    segment = {
        "name": "handler",
        "id": secrets.token_hex(8),
        "trace_id": trace_id,
        "start_time": now,
        "end_time": now + 0.1,
        "annotations": {"ColdStart": True},
    }
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])
    start = datetime.now(UTC) - timedelta(minutes=1)
    traces = get_traces(start, datetime.now(UTC) + timedelta(minutes=1), timeout=10)
    ours = [t for t in traces if t["Id"] == trace_id]
    assert ours, traces
    assert ours[0]["Segments"][0]["Document"]["annotations"] == {"ColdStart": True}


def test_retry_until_waits_for_eventual_consistency() -> None:
    answers = iter([[], RuntimeError("not yet"), [1], [1, 2]])
    slept: list[float] = []

    def fetch() -> list[int]:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    result = retry_until(
        fetch, lambda r: len(r) >= 2, what="x", timeout=60, interval=1, sleep=slept.append
    )
    assert result == [1, 2]
    assert slept == [1, 1.5, 2.25]  # growing interval between the four attempts


def test_retry_until_times_out_with_the_last_error() -> None:
    def fetch() -> list[int]:
        raise RuntimeError("ResourceNotFound")

    with pytest.raises(
        FetchTimeout, match=r"logs of g: not available after 0s \(last error: ResourceNotFound\)"
    ):
        retry_until(fetch, bool, what="logs of g", timeout=0, sleep=lambda _: None)
