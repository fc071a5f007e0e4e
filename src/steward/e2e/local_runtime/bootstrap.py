"""The child side of a local Lambda invoke: import the handler, call it once, write the result.

Run by path as ``python -S bootstrap.py <spec.json>``; it imports nothing from steward (the
child cannot: its ``sys.path`` is the function's, as on Lambda). Python handlers only. The
spec names the task root, the layers' dirs, the runtime dir (boto3 and the few packages the
AWS Python runtime ships), the event file, the result file and the context's fields. The
result file gets one JSON object: ``{"ok": bool, "body": str, "max_rss_kb": int}``, where
``body`` is the serialised return value or Lambda's error shape. Errors are shaped and named
as the AWS Python runtime names them (``Runtime.ImportModuleError`` and the others).
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

MAX_RESULT = 6 * 1024 * 1024  # Lambda's synchronous response limit (6,291,456 bytes)


class LambdaContext:
    """The context object of the AWS Python runtime; memory is reported, not enforced."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.function_name: str = spec["function_name"]
        self.function_version: str = spec["function_version"]
        self.invoked_function_arn: str = spec["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(spec["memory_limit_in_mb"])
        self.aws_request_id: str = spec["aws_request_id"]
        self.log_group_name: str = spec["log_group_name"]
        self.log_stream_name: str = spec["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms: int = int(spec["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stdout.write(message)


class _Encoder(json.JSONEncoder):
    """The runtime's marshaller: Decimal becomes a number, anything else unknown an error."""

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


class _RequestIdFilter(logging.Filter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _configure_logging(request_id: str) -> None:
    """The root handler the runtime installs (Powertools and plain `logging` rely on it)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(_RequestIdFilter(request_id))
    logging.getLogger().addHandler(handler)


def fault(message: str, error_type: str, request_id: str, stack: list[str]) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }


class HandlerError(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["errorMessage"])
        self.body = body


def load_handler(handler: str) -> Any:
    """Import `module.function` as the runtime does (a `/` in the module path is a dot)."""
    try:
        module_path, name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise HandlerError(
            fault(f"Bad handler '{handler}': {exc}", "Runtime.MalformedHandlerName", "", [])
        ) from None
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerError(
            fault(
                f"Unable to import module '{module_name}': {exc}",
                "Runtime.ImportModuleError",
                "",
                [],
            )
        ) from None
    except SyntaxError as exc:
        raise HandlerError(
            fault(
                f"Syntax error in module '{module_name}': {exc}",
                "Runtime.UserCodeSyntaxError",
                "",
                [f'  File "{exc.filename}" Line {exc.lineno}\n', f"    {exc.text}\n"],
            )
        ) from None
    except Exception as exc:
        raise HandlerError(_exception_fault(exc, "")) from None
    function = getattr(module, name, None)
    if function is None:
        raise HandlerError(
            fault(
                f"Handler '{name}' missing on module '{module_name}'",
                "Runtime.HandlerNotFound",
                "",
                [],
            )
        )
    return function


def _exception_fault(exc: BaseException, request_id: str) -> dict[str, Any]:
    stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
    body = fault(str(exc), type(exc).__name__, request_id, stack)
    lines = [f"[ERROR] {type(exc).__name__}: {exc}", "Traceback (most recent call last):"]
    lines += [s.rstrip("\n") for s in stack]
    print("\r".join(lines), flush=True)  # one log event, as the runtime writes it
    return body


def run(spec: dict[str, Any]) -> tuple[bool, str]:
    request_id = spec["context"]["aws_request_id"]
    try:
        function = load_handler(spec["handler"])
    except HandlerError as exc:
        print(f"[ERROR] {exc.body['errorType']}: {exc.body['errorMessage']}", flush=True)
        return False, json.dumps(exc.body)
    with open(spec["event_file"], "rb") as f:
        raw = f.read()
    event = json.loads(raw) if raw.strip() else {}
    context = LambdaContext(spec["context"])
    try:
        result = function(event, context)
    except Exception as exc:
        return False, json.dumps(_exception_fault(exc, request_id))
    try:
        body = json.dumps(result, cls=_Encoder)
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        print(f"[ERROR] Runtime.MarshalError: {message}", flush=True)
        return False, json.dumps(fault(message, "Runtime.MarshalError", request_id, []))
    if len(body.encode()) > MAX_RESULT:
        message = (
            f"Response payload size ({len(body.encode())} bytes) exceeded maximum allowed "
            f"payload size ({MAX_RESULT} bytes)."
        )
        return False, json.dumps(fault(message, "Function.ResponseSizeTooLarge", request_id, []))
    return True, body


def main() -> None:
    # the script's own folder must not be importable: only the function's path is
    del sys.path[0]
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    sys.path[0:0] = spec["path"]
    os.chdir(spec["task_root"])
    _configure_logging(spec["context"]["aws_request_id"])
    ok, body = run(spec)
    sys.stdout.flush()
    sys.stderr.flush()
    import resource

    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(spec["result_file"], "w", encoding="utf-8") as f:
        json.dump({"ok": ok, "body": body, "max_rss_kb": max_rss}, f)


if __name__ == "__main__":
    main()
