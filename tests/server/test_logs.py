"""JSON logs: one object a line, the fields given with ``extra=``, never a secret."""

from __future__ import annotations

import io
import json
import logging

from steward.server import logs

SECRET = "webhook-secret-value"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlLXBhcnQ"
TOKEN = "ghs_" + "a" * 36


def lines_from(
    *records: tuple[str, dict[str, object]], exc: bool = False
) -> list[dict[str, object]]:
    stream = io.StringIO()
    handler = logs.configure("DEBUG", secrets=[SECRET, PEM], stream=stream)
    try:
        log = logging.getLogger("steward.test")
        for message, extra in records:
            if exc:
                try:
                    raise RuntimeError(f"boom with {SECRET}")
                except RuntimeError:
                    log.exception(message, extra=extra)
            else:
                log.info(message, extra=extra)
    finally:
        logging.getLogger().removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_its_fields() -> None:
    [line] = lines_from(("processed %s", {"delivery": "d-1", "job": 4, "applied": ["#2 +bug"]}))
    assert line["level"] == "info"
    assert line["logger"] == "steward.test"
    assert line["message"] == "processed %s"
    assert line["delivery"] == "d-1"
    assert line["job"] == 4
    assert line["applied"] == ["#2 +bug"]
    assert str(line["time"]).endswith("+00:00")


def test_secrets_are_scrubbed_everywhere() -> None:
    text = f"secret {SECRET} key {PEM} jwt {JWT} token {TOKEN} Authorization: Bearer abcdef123456"
    out = lines_from((text, {"detail": text, "nested": {"k": [text]}}), exc=True)
    dumped = json.dumps(out)
    for secret in (SECRET, "MIIEowIBAAKCAQEA", JWT, TOKEN, "abcdef123456"):
        assert secret not in dumped
    assert "RuntimeError" in str(out[0]["error"])
    assert "Traceback" in str(out[0]["traceback"])
