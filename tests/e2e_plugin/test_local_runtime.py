"""The local Lambda runtime against a real moto server: handlers deployed with a stack run here."""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from steward.e2e import aws
from steward.e2e.data_fetcher import get_logs
from steward.e2e.emulator import Emulator
from steward.e2e.infrastructure import BaseInfrastructure, DeployContext
from steward.e2e.local_runtime import LocalRuntime, is_emulator

PROBE = """
import json, os, sys, time
import boto3
import mylayer

def lambda_handler(event, context):
    started = time.time()
    mode = event.get("mode", "echo")
    print(json.dumps({"level": "INFO", "message": "probe", "mode": mode}))
    if event.get("mark"):
        with open(event["mark"], "a") as f:
            f.write(context.aws_request_id + "\\n")
    if mode == "raise":
        raise ValueError("boom")
    if mode == "sleep":
        time.sleep(event["seconds"])
    if mode == "marshal":
        return {1, 2}
    if mode == "big":
        return "x" * (7 * 1024 * 1024)
    if mode == "exit":
        sys.exit(3)
    if mode == "spam":
        for _ in range(3000):
            print("y" * 1000)
        return "spammed"
    names = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "_HANDLER", "TZ",
             "AWS_EXECUTION_ENV", "AWS_REGION", "GREETING", "STEWARD_LEAK", "LAMBDA_TASK_ROOT",
             "_X_AMZN_TRACE_ID", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    return {
        "event": event,
        "env": {n: os.environ.get(n) for n in names},
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "identity": context.identity,
            "remaining": context.get_remaining_time_in_millis(),
        },
        "layer": mylayer.VALUE,
        "buckets": [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]],
        "sys_path": sys.path,
        "started": started,
        "ended": time.time(),
    }
"""


class RuntimeStack(BaseInfrastructure):
    feature = "local-runtime"

    def create_resources(self) -> None:
        # generous: a cold start imports boto3, slow on a loaded machine (the timeout test
        # shortens it for itself)
        self.create_lambda_functions(
            {"Timeout": 20, "Environment": {"Variables": {"GREETING": "hello"}}}
        )


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def deployed(
    moto_server: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("feature")
    handlers = root / "handlers"
    handlers.mkdir()
    (handlers / "probe_handler.py").write_text(PROBE)
    (handlers / "venv_only_handler.py").write_text(
        "import pytest\n\ndef lambda_handler(e, c):\n    return 1\n"
    )
    (handlers / "missing_handler.py").write_text("def other(e, c):\n    return 1\n")
    layer = root / "layer.zip"
    layer.write_bytes(_zip({"python/mylayer.py": "VALUE = 'from the layer'\n"}))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in moto_server.env.items():
            mp.setenv(key, value)
        stack = RuntimeStack(context=DeployContext(run_id=secrets.token_hex(4), layer_zip=layer))
        stack.feature_path = root
        outputs = stack.deploy()
        try:
            yield outputs
        finally:
            stack.delete()


@pytest.fixture
def runtime(aws_env: Emulator, tmp_path: Path) -> LocalRuntime:
    return LocalRuntime(tmp_path / "cache")


@pytest.fixture
def lam(runtime: LocalRuntime) -> Any:
    client = aws.client("lambda")
    runtime.attach(client)
    return client


def _invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_the_handler_runs_with_lambdas_env_context_and_layer(
    deployed: dict[str, str], lam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_LEAK", "from the test process")
    name = deployed["ProbeHandler"]
    response, body = _invoke(lam, name, {"hello": "world"})
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert body["event"] == {"hello": "world"}
    assert body["layer"] == "from the layer"
    assert "steward-e2e-assets-123456789012-us-east-1" in body["buckets"]  # boto3 reaches moto
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["_HANDLER"] == "probe_handler.lambda_handler"
    assert env["TZ"] == ":UTC"
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["GREETING"] == "hello"
    assert env["STEWARD_LEAK"] is None
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert body["sys_path"][0] == env["LAMBDA_TASK_ROOT"]
    ctx = body["context"]
    assert ctx["function_name"] == name
    assert ctx["invoked_function_arn"] == deployed["ProbeHandlerArn"]
    assert ctx["memory_limit_in_mb"] == 512
    assert ctx["identity"] is None
    assert 0 < ctx["remaining"] <= 20000
    assert response["ResponseMetadata"]["RequestId"] == ctx["aws_request_id"]
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])


def test_arns_partial_arns_and_qualifiers_name_the_function(
    deployed: dict[str, str], lam: Any
) -> None:
    arn = deployed["ProbeHandlerArn"]
    partial = ":".join(arn.split(":")[4:])
    for name, kwargs in [
        (arn, {}),
        (partial, {}),
        (deployed["ProbeHandler"], {"Qualifier": "$LATEST"}),
    ]:
        _, body = _invoke(lam, name, {"n": 1}, **kwargs)
        assert body["event"] == {"n": 1}


def test_a_package_only_in_the_test_venv_is_not_importable(
    deployed: dict[str, str], lam: Any
) -> None:
    response, body = _invoke(lam, deployed["VenvOnlyHandler"])
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == (
        "Unable to import module 'venv_only_handler': No module named 'pytest'"
    )


def test_errors_have_lambdas_shapes(deployed: dict[str, str], lam: Any) -> None:
    response, body = _invoke(lam, deployed["ProbeHandler"], {"mode": "raise"})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert any("probe_handler.py" in line for line in body["stackTrace"])

    _, body = _invoke(lam, deployed["MissingHandler"])
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'lambda_handler' missing on module 'missing_handler'"

    _, body = _invoke(lam, deployed["ProbeHandler"], {"mode": "marshal"})
    assert body["errorType"] == "Runtime.MarshalError"

    response, body = _invoke(lam, deployed["ProbeHandler"], {"mode": "big"})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"

    response, body = _invoke(lam, deployed["ProbeHandler"], {"mode": "exit"})
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]

    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=deployed["ProbeHandler"], Payload=b"{not json")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")


def test_a_handler_past_its_timeout_is_killed(deployed: dict[str, str], lam: Any) -> None:
    name = deployed["ProbeHandler"]
    lam.update_function_configuration(FunctionName=name, Timeout=2)
    try:
        response, body = _invoke(lam, name, {"mode": "sleep", "seconds": 30})
    finally:
        lam.update_function_configuration(FunctionName=name, Timeout=20)
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in body["errorMessage"]
    assert response["ResponseMetadata"]["RequestId"] in body["errorMessage"]


def test_parallel_invokes_overlap(deployed: dict[str, str], lam: Any) -> None:
    bodies: list[Any] = []

    def call() -> None:
        bodies.append(_invoke(lam, deployed["ProbeHandler"], {"mode": "sleep", "seconds": 1})[1])

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(bodies) == 2
    assert max(b["started"] for b in bodies) < min(b["ended"] for b in bodies)


def test_event_and_dry_run(
    deployed: dict[str, str], lam: Any, runtime: LocalRuntime, tmp_path: Path
) -> None:
    mark = tmp_path / "mark"
    event = {"mark": str(mark)}
    response = lam.invoke(
        FunctionName=deployed["ProbeHandler"], InvocationType="Event", Payload=json.dumps(event)
    )
    assert response["StatusCode"] == 202
    runtime.wait_background(timeout=30)
    assert len(mark.read_text().split()) == 1
    response = lam.invoke(
        FunctionName=deployed["ProbeHandler"], InvocationType="DryRun", Payload=json.dumps(event)
    )
    assert response["StatusCode"] == 204
    assert len(mark.read_text().split()) == 1


def test_logs_go_to_cloudwatch_and_the_tail(deployed: dict[str, str], lam: Any) -> None:
    name = deployed["ProbeHandler"]
    start = datetime.now(UTC) - timedelta(seconds=1)
    response, body = _invoke(lam, name, {"mode": "echo"}, LogType="Tail")
    request_id = body["context"]["aws_request_id"]
    first_stream = body["context"]["log_stream_name"]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {request_id} Version: $LATEST" in tail
    assert f"REPORT RequestId: {request_id}\tDuration: " in tail
    found = get_logs(name, start, minimum_log_entries=4, timeout=10)
    assert {"level": "INFO", "message": "probe", "mode": "echo"} in found
    assert f"END RequestId: {request_id}" in found
    response, body = _invoke(lam, name, {"mode": "spam"}, LogType="Tail")
    assert body == "spammed"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "output over 1 MiB: the rest was not kept" in tail
    streams = aws.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")
    assert first_stream in [s["logStreamName"] for s in streams["logStreams"]]


def test_the_default_session_hook_runs_a_handler_once(
    deployed: dict[str, str], runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    runtime.attach_default_session()
    runtime.attach_default_session()
    LocalRuntime(tmp_path / "other").attach_default_session()
    mark = tmp_path / "mark"
    client = boto3.client("lambda")
    runtime.attach(client)
    response = client.invoke(
        FunctionName=deployed["ProbeHandler"], Payload=json.dumps({"mark": str(mark)})
    )
    assert json.loads(response["Payload"].read())["event"] == {"mark": str(mark)}
    assert len(mark.read_text().split()) == 1


def test_code_is_extracted_once_per_digest(
    deployed: dict[str, str], lam: Any, runtime: LocalRuntime
) -> None:
    for _ in range(2):
        _invoke(lam, deployed["ProbeHandler"])
    _invoke(lam, deployed["MissingHandler"])  # same code zip, same tree
    trees = [p for p in runtime.cache_dir.iterdir() if p.is_dir() and len(p.name) == 64]
    assert len(trees) == 2  # the handlers' zip and the layer


def test_is_emulator(moto_server: Emulator) -> None:
    assert is_emulator(moto_server.endpoint)
    assert not is_emulator(None)
    assert not is_emulator("https://lambda.us-east-1.amazonaws.com")
    assert not is_emulator("http://127.0.0.1:9")
