"""JSON logs, one object a line, without secrets.

Every record becomes ``{"time", "level", "logger", "message", ...}`` plus the fields passed
in ``extra=`` (``delivery``, ``event``, ``job``, ``installation``...). Every string that goes
out is redacted: the configured secrets (webhook secret, private key), PEM blocks, JSON web
tokens, GitHub token formats and ``Authorization`` values (`steward.github.sansio.redact`).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from steward.github.sansio import redact
from steward.logstream import CurrentStderrHandler

_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?(?:-----END [A-Z ]+-----|$)", re.S)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# Attributes every LogRecord has: anything else on a record came in through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without secrets: PEM blocks, JWTs, tokens and the given values."""
    text = _PEM.sub("***", text)
    text = _JWT.sub("***", text)
    return redact(text, secrets)


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = tuple(sorted((s for s in secrets if s), key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage(), self.secrets),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            data[key] = self._clean(value)
        if record.exc_info and record.exc_info[0] is not None:
            exc = record.exc_info[1]
            data["error"] = scrub(f"{type(exc).__name__}: {exc}", self.secrets)
            data["traceback"] = scrub(
                "".join(traceback.format_exception(*record.exc_info)), self.secrets
            )
        return json.dumps(data, ensure_ascii=False, default=str)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value, self.secrets)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self._clean(v) for k, v in value.items()}
        return scrub(str(value), self.secrets)


def configure(
    level: str = "INFO",
    *,
    as_json: bool = True,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record (uvicorn's too) to ``stream`` as JSON lines; the handler."""
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else CurrentStderrHandler()
    )
    if as_json:
        handler.setFormatter(JsonFormatter(secrets))
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # One line per request would cost more than the request: the metrics count them.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler
