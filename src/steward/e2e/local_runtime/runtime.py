"""`LocalRuntime`: answer a Lambda Invoke by running the deployed Python handler here.

moto's server only echoes an invoke; this reads the function from the emulator (config,
code, layers), runs its handler in a child process (one per invoke, so every invoke is a
cold start; memory is not enforced) and answers with the shape botocore parses from a real
Invoke. `attach` hooks one boto3 client, `attach_default_session` every later client of
boto3's default session; only `Invoke` is short-circuited, so the runtime's own clients
(GetFunction, S3, Logs) reach the emulator as usual.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import os
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward.e2e import aws
from steward.e2e.local_runtime.code import CodeStore, download_url, moto_key, runtime_dir
from steward.e2e.local_runtime.cwlogs import LogWriter
from steward.e2e.local_runtime.detect import is_emulator
from steward.e2e.local_runtime.moto_layers import stack_layers
from steward.e2e.local_runtime.process import Outcome, parent_env, run_child
from steward.e2e.naming import asset_bucket

log = logging.getLogger(__name__)

HOOK_ID = "steward-e2e-local-runtime"
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_EVENT_PAYLOAD = 1024 * 1024
TAIL_BYTES = 4096
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations")


def _client_error(code: str, message: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }
    return ClientError(response, "Invoke")


def split_function_name(name: str, qualifier: str | None) -> tuple[str, str | None]:
    """A name, `name:qualifier`, a partial ARN (`account:function:name[:q]`) or a full
    ARN, as (name, qualifier); an explicit `qualifier` wins. moto fails on partial ARNs."""
    parts = name.split(":")
    if name.startswith("arn:") and len(parts) >= 7:
        base, found = parts[6], (parts[7] if len(parts) > 7 else None)
    elif len(parts) >= 3 and parts[1] == "function":
        base, found = parts[2], (parts[3] if len(parts) > 3 else None)
    elif len(parts) == 2:
        base, found = parts
    else:
        base, found = name, None
    return base, qualifier or found


def trace_id() -> str:
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0"


def _iso_now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _timed_out(request_id: str, timeout: float) -> str:
    return f"{_iso_now()} {request_id} Task timed out after {timeout:.2f} seconds"


class _NoBody:
    """The raw response of a short-circuited call: botocore may read `.content`."""

    def stream(self, **_: Any) -> Any:
        return iter(())


class LocalRuntime:
    """Runs deployed Python Lambda handlers locally, for targets without a real Lambda."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        lambda_client: Any = None,
        s3_client: Any = None,
        logs_client: Any = None,
        cfn_client: Any = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self._clients: dict[str, Any] = {
            "lambda": lambda_client,
            "s3": s3_client,
            "logs": logs_client,
            "cloudformation": cfn_client,
        }
        self._lock = threading.Lock()
        self._layers: dict[str, list[str]] = {}
        self._background: set[threading.Thread] = set()
        self._writer: LogWriter | None = None

    # -- clients (created once, under a lock: boto3's default session is not thread-safe) --
    def _client(self, service: str) -> Any:
        with self._lock:
            if self._clients[service] is None:
                self._clients[service] = aws.client(service)
            return self._clients[service]

    @property
    def _logs(self) -> LogWriter:
        client = self._client("logs")
        with self._lock:
            if self._writer is None:
                self._writer = LogWriter(client)
            return self._writer

    # -- the public surface ------------------------------------------------------------
    def invoke(
        self,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        log_type: str = "None",
        qualifier: str | None = None,
    ) -> dict[str, Any]:
        """Invoke as Lambda would; a dict shaped like botocore's parsed Invoke response.
        Request errors (bad JSON, unknown function) raise botocore's ClientError."""
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise _client_error(
                "InvalidParameterValueException",
                f"Invalid InvocationType: {invocation_type}",
                400,
            )
        limit = MAX_EVENT_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            raise _client_error(
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
                413,
            )
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as exc:
                raise _client_error(
                    "InvalidRequestContentException",
                    f"Could not parse request body into json: Could not parse payload into "
                    f"json: {exc}",
                    400,
                ) from None
        config = self._function(function_name, qualifier)
        if invocation_type == "DryRun":
            return _response(204, uuid.uuid4().hex, b"")
        if invocation_type == "Event":
            request_id = str(uuid.uuid4())
            thread = threading.Thread(
                target=self._background_run, args=(config, payload, request_id), daemon=True
            )
            with self._lock:
                self._background.add(thread)
            thread.start()
            return _response(202, request_id, b"")
        return self._run(config, payload, log_type, str(uuid.uuid4()))

    def wait_background(self, timeout: float | None = None) -> None:
        """Wait for `Event` invokes still running (e.g. before reading what they wrote)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._background)
        for thread in threads:
            left = None if deadline is None else max(deadline - time.monotonic(), 0)
            thread.join(left)

    def attach(self, client: Any) -> None:
        """Short-circuit `Invoke` on one boto3 Lambda client (no HTTP request is made)."""
        client.meta.events.register(
            "before-call.lambda.Invoke", self._before_call, unique_id=HOOK_ID
        )

    def attach_default_session(self) -> None:
        """`attach` for every client boto3's default session creates from now on;
        registering again (from any runtime) changes nothing."""
        import boto3

        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register(
            "before-call.lambda.Invoke",
            self._before_call,  # type: ignore[arg-type]
            unique_id=HOOK_ID,
        )

    # -- the hook ----------------------------------------------------------------------
    def _before_call(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import ClientError

        match = _INVOKE_PATH.match(params["url_path"])
        if match is None:
            raise ValueError(f"not an Invoke path: {params['url_path']!r}")
        headers = {k.lower(): v for k, v in params.get("headers", {}).items()}
        body = params.get("body") or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        query = params.get("query_string") or {}
        try:
            parsed = self.invoke(
                urllib.parse.unquote(match["name"]),
                bytes(body),
                invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
                log_type=headers.get("x-amz-log-type", "None"),
                qualifier=query.get("Qualifier") if isinstance(query, dict) else None,
            )
        except ClientError as exc:
            parsed = dict(exc.response)
        meta = parsed.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode", 200))
        return AWSResponse(
            params.get("url", ""), status, meta.get("HTTPHeaders", {}), _NoBody()
        ), parsed

    # -- one invoke --------------------------------------------------------------------
    def _function(self, function_name: str, qualifier: str | None) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        name, qual = split_function_name(function_name, qualifier)
        kwargs = {"FunctionName": name, **({"Qualifier": qual} if qual else {})}
        try:
            found: dict[str, Any] = self._client("lambda").get_function(**kwargs)
        except ClientError as exc:
            raise ClientError(exc.response, "Invoke") from None
        config = found["Configuration"]
        runtime = str(config.get("Runtime") or "")
        if not runtime.startswith("python3"):
            raise _client_error(
                "InvalidRuntimeException",
                f"steward's local runtime runs Python handlers only; {name} is "
                f"{runtime or config.get('PackageType', 'an image')}",
                502,
            )
        return {**config, "_CodeLocation": found.get("Code", {}).get("Location", "")}

    def _background_run(self, config: dict[str, Any], payload: bytes, request_id: str) -> None:
        try:
            self._run(config, payload, "None", request_id)
        except Exception:  # nobody waits for an Event invoke: say why it did not run
            log.exception("Event invoke of %s failed", config["FunctionName"])
        finally:
            with self._lock:
                self._background.discard(threading.current_thread())

    def _run(
        self, config: dict[str, Any], payload: bytes, log_type: str, request_id: str
    ) -> dict[str, Any]:
        name = config["FunctionName"]
        arn = config["FunctionArn"]
        _, _, _, region, account, *_ = arn.split(":")
        version = str(config.get("Version") or "$LATEST")
        runtime = str(config["Runtime"])
        python = runtime.removeprefix("python")
        timeout = float(config.get("Timeout") or 3)
        memory = int(config.get("MemorySize") or 128)
        store = CodeStore(self.cache_dir, self._client("s3"))
        bucket = asset_bucket(account, region)
        task_root = self._code(store, config, bucket)
        path = [str(task_root)]
        for layer in self._layer_arns(config):
            tree = self._layer(store, layer, bucket)
            path += [
                str(tree / "python"),
                str(tree / "python" / "lib" / f"python{python}" / "site-packages"),
            ]
        path.append(str(runtime_dir(self.cache_dir)))

        now = datetime.now(UTC)
        group = f"/aws/lambda/{name}"
        stream = f"{now:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
        env = parent_env(os.environ)
        env.update((config.get("Environment") or {}).get("Variables") or {})
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                "AWS_LAMBDA_LOG_GROUP_NAME": group,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
                "LAMBDA_TASK_ROOT": str(task_root),
                "LAMBDA_RUNTIME_DIR": path[-1],
                "_HANDLER": str(config["Handler"]),
                "TZ": ":UTC",
                "_X_AMZN_TRACE_ID": trace_id(),
            }
        )
        start_ms = int(time.time() * 1000)
        spec = {
            "handler": config["Handler"],
            "task_root": str(task_root),
            "path": path,
            "context": {
                "function_name": name,
                "function_version": version,
                "invoked_function_arn": arn,
                "memory_limit_in_mb": memory,
                "aws_request_id": request_id,
                "log_group_name": group,
                "log_stream_name": stream,
                "deadline_ms": start_ms + int(timeout * 1000),
            },
        }
        outcome = run_child(spec, env, timeout, payload)
        body, error = _result(outcome, request_id, timeout)
        lines = self._log(
            outcome=outcome,
            group=group,
            stream=stream,
            request_id=request_id,
            version=version,
            memory=memory,
            start_ms=start_ms,
            timeout=timeout,
        )
        response = _response(200, request_id, body.encode(), version=version)
        if error:
            response["FunctionError"] = "Unhandled"
            response["ResponseMetadata"]["HTTPHeaders"]["x-amz-function-error"] = "Unhandled"
        if log_type == "Tail":
            tail = ("\n".join(lines) + "\n").encode()[-TAIL_BYTES:]
            response["LogResult"] = base64.b64encode(tail).decode()
            response["ResponseMetadata"]["HTTPHeaders"]["x-amz-log-result"] = response["LogResult"]
        return response

    def _code(self, store: CodeStore, config: dict[str, Any], bucket: str) -> Path:
        sha = str(config["CodeSha256"])
        location = str(config["_CodeLocation"])
        what = f"the code of {config['FunctionName']}"
        key = moto_key(location)

        def fetch() -> bytes:
            if key is not None:
                return store.by_key(key, bucket, sha, what)
            return download_url(location, what)

        return store.tree(sha, fetch, what)

    def _layer_arns(self, config: dict[str, Any]) -> list[str]:
        arns = [str(layer["Arn"]) for layer in config.get("Layers") or []]
        lam = self._client("lambda")
        if arns or not is_emulator(lam.meta.endpoint_url):
            return arns
        key = f"{config['FunctionArn']}@{config.get('CodeSha256')}@{config.get('LastModified')}"
        with self._lock:
            cached = self._layers.get(key)
        if cached is None:
            cached = stack_layers(self._client("cloudformation"), lam, config["FunctionName"])
            with self._lock:
                self._layers[key] = cached
        return cached

    def _layer(self, store: CodeStore, arn: str, bucket: str) -> Path:
        layer_arn, _, number = arn.rpartition(":")
        found = self._client("lambda").get_layer_version(
            LayerName=layer_arn, VersionNumber=int(number)
        )
        content = found["Content"]
        sha, size = str(content["CodeSha256"]), int(content["CodeSize"])
        location = str(content.get("Location") or "")
        what = f"layer {arn}"

        def fetch() -> bytes:
            if location.startswith("https://") and moto_key(location) is None:
                return download_url(location, what)
            return store.by_digest(size, sha, bucket, what)

        return store.tree(sha, fetch, what)

    def _log(
        self,
        *,
        outcome: Outcome,
        group: str,
        stream: str,
        request_id: str,
        version: str,
        memory: int,
        start_ms: int,
        timeout: float,
    ) -> list[str]:
        end_ms = int(time.time() * 1000)
        events = [(start_ms, f"START RequestId: {request_id} Version: {version}"), *outcome.lines]
        if outcome.truncated:
            events.append((end_ms, "[steward] output over 1 MiB: the rest was not kept"))
        if outcome.timed_out:
            events.append((end_ms, _timed_out(request_id, timeout)))
        events.append((end_ms, f"END RequestId: {request_id}"))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(outcome.duration_ms)} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {outcome.max_rss_mb} MB"
        )
        events.append((end_ms, report + ("\tStatus: timeout" if outcome.timed_out else "")))
        self._logs.write(group, stream, events)
        return [message for _, message in events]


def _result(outcome: Outcome, request_id: str, timeout: float) -> tuple[str, bool]:
    """(payload, is it an error) from what the child did."""
    if outcome.timed_out:
        return json.dumps({"errorMessage": _timed_out(request_id, timeout)}), True
    if outcome.body is None:
        code = outcome.exit_code
        status = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return json.dumps(
            {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"{status}",
            }
        ), True
    return outcome.body, not outcome.ok


def _response(
    status: int, request_id: str, payload: bytes, *, version: str | None = None
) -> dict[str, Any]:
    from botocore.response import StreamingBody

    headers = {"x-amzn-requestid": request_id, "content-length": str(len(payload))}
    response: dict[str, Any] = {
        "ResponseMetadata": {
            "RequestId": request_id,
            "HTTPStatusCode": status,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        },
        "StatusCode": status,
        "Payload": StreamingBody(io.BytesIO(payload), len(payload)),
    }
    if version is not None:
        response["ExecutedVersion"] = version
        headers["x-amz-executed-version"] = version
    return response


__all__ = ["LocalRuntime", "split_function_name"]
