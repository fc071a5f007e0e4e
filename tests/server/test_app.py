"""The server under real uvicorn on 127.0.0.1, on SQLite and PostgreSQL: what GitHub's
requests get back, what reaches the inbox, and what the metrics say."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from steward.server.db import deliveries, jobs
from steward.server.deliveries import decode_body
from steward.server.metrics import InstrumentedTransport, Metrics
from tests.server.conftest import (
    SECRET,
    TOKEN,
    Running,
    ServeFactory,
    signed_headers,
    with_installation,
)
from tests.server.fakes import BOT, token_deps
from tests.support.github_material import pull_request_event
from tests.support.github_server import GitHubServer

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def pr_opened(number: int = 2) -> dict[str, Any]:
    return with_installation(pull_request_event("opened", number=number, head_sha=SHA))


def rows(engine: Engine) -> tuple[list[Any], list[Any]]:
    with engine.connect() as conn:
        d = conn.execute(select(deliveries).order_by(deliveries.c.id)).all()
        j = conn.execute(select(jobs).order_by(jobs.c.id)).all()
    return list(d), list(j)


def wait_for(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_a_delivery_is_committed_before_it_is_acknowledged(
    serve: ServeFactory, engine: Engine
) -> None:
    run = serve()
    payload = pr_opened()
    body = json.dumps(payload).encode()
    r = run.post("pull_request", body, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert r.status_code == 202
    assert r.headers["x-steward-status"] == "queued"
    assert r.content == b""  # the acknowledgement is its headers: one write
    [d], [j] = rows(engine)  # read at once, through another connection: it is there
    assert d.body_encoding == "lz4"
    assert decode_body(d.body_encoding, d.body) == body
    assert (d.event, d.action, d.installation_id, d.hook_id) == ("pull_request", "opened", 7, "42")
    assert d.repository == payload["repository"]["full_name"]
    assert (j.kind, j.state, j.delivery_pk) == ("event", "queued", d.id)
    assert j.subject == f"{d.repository}#2"


def test_a_redelivery_is_acknowledged_and_not_processed_again(
    serve: ServeFactory, engine: Engine
) -> None:
    run = serve()
    assert run.post("pull_request", pr_opened(), "d-1").status_code == 202
    again = run.post("pull_request", pr_opened(), "d-1")
    assert again.status_code == 200
    assert again.headers["x-steward-status"] == "duplicate"
    other_hook = run.post("pull_request", pr_opened(), "d-1", hook="43")  # unsigned header
    assert other_hook.headers["x-steward-status"] == "duplicate"
    d, j = rows(engine)
    assert len(d) == 1
    assert len(j) == 1
    assert run.metrics.value("steward_webhooks_deduplicated_total") == 2
    assert run.metrics.value("steward_webhooks_received_total", event="pull_request") == 3


def _post(run: Running, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return run.client.post(f"{run.url}/webhook", content=body, headers=headers)


def test_requests_that_are_not_githubs_are_refused_and_never_stored(
    serve: ServeFactory, engine: Engine
) -> None:
    run = serve()
    body = json.dumps(pr_opened()).encode()
    good = signed_headers("pull_request", "d-1", body)
    assert run.client.get(f"{run.url}/webhook").status_code == 405
    assert run.client.put(f"{run.url}/webhook", content=body, headers=good).status_code == 405
    for header in ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256"):
        partial = {k: v for k, v in good.items() if k != header}
        r = _post(run, body, partial)
        assert r.status_code == 400
        assert header in r.json()["error"]
    wrong = signed_headers("pull_request", "d-1", body, secret="wrong")
    assert _post(run, body, wrong).status_code == 401
    assert _post(run, body + b" ", good).status_code == 401  # body changed after signing
    sha1 = {k: v for k, v in good.items() if k != "X-Hub-Signature-256"}
    sha1["X-Hub-Signature"] = "sha1=" + "0" * 40
    assert _post(run, body, sha1).status_code == 400
    not_json = b"{not json"
    assert _post(run, not_json, signed_headers("pull_request", "d-2", not_json)).status_code == 400
    assert rows(engine) == ([], [])
    assert run.metrics.value("steward_webhooks_rejected_total", reason="signature") == 2
    assert run.metrics.value("steward_webhooks_rejected_total", reason="headers") == 4


def test_a_body_over_githubs_25_mb_cap_is_refused(serve: ServeFactory, engine: Engine) -> None:
    run = serve()
    body = b'{"a": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    r = _post(run, body, signed_headers("pull_request", "big", body))
    assert r.status_code == 413

    def chunks() -> Any:  # no Content-Length: the cap holds while the body streams in
        for i in range(0, len(body), 1 << 20):
            yield body[i : i + (1 << 20)]

    r = run.client.post(
        f"{run.url}/webhook", content=chunks(), headers=signed_headers("pull_request", "big2", body)
    )
    assert r.status_code == 413
    assert rows(engine) == ([], [])
    assert run.metrics.value("steward_webhooks_rejected_total", reason="size") == 2


def test_a_large_payload_under_the_cap_is_taken(serve: ServeFactory, engine: Engine) -> None:
    run = serve()
    payload = pr_opened()
    payload["pull_request"]["body"] = "x" * (3 * 1024 * 1024)
    assert run.post("pull_request", payload, "large").status_code == 202
    [d], [_] = rows(engine)
    assert len(decode_body(d.body_encoding, d.body)) > 3 * 1024 * 1024


def test_the_apps_own_events_and_unhandled_events_make_no_job(
    serve: ServeFactory, engine: Engine
) -> None:
    run = serve()
    own = pr_opened()
    own["sender"] = {**own["sender"], "login": BOT.upper(), "type": "Bot"}
    r = run.post("pull_request", own, "own")
    assert (r.status_code, r.headers["x-steward-status"]) == (200, "ignored")
    star = with_installation({"action": "created", "repository": own["repository"]})
    r = run.post("star", star, "star-1")
    assert (r.status_code, r.headers["x-steward-status"]) == (200, "recorded")
    d, j = rows(engine)
    assert [x.event for x in d] == ["star"]
    assert j == []
    assert run.metrics.value("steward_webhooks_ignored_total", reason="own_bot") == 1
    assert run.metrics.value("steward_webhooks_ignored_total", reason="unhandled_event") == 1


def test_a_form_encoded_delivery_is_stored_as_its_json(serve: ServeFactory, engine: Engine) -> None:
    from urllib.parse import urlencode

    run = serve()
    payload_json = json.dumps(pr_opened())
    body = urlencode({"payload": payload_json}).encode()
    headers = signed_headers("pull_request", "form", body)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert _post(run, body, headers).status_code == 202
    [d], _ = rows(engine)
    assert decode_body(d.body_encoding, d.body) == payload_json.encode()


def test_an_inbox_that_cannot_commit_is_a_503_and_nothing_is_acknowledged(
    serve: ServeFactory, engine: Engine
) -> None:
    run = serve()
    with engine.begin() as conn:  # the table is gone: every insert fails
        conn.exec_driver_sql("ALTER TABLE deliveries RENAME TO deliveries_away")
    assert run.post("pull_request", pr_opened(), "d-1").status_code == 503
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE deliveries_away RENAME TO deliveries")
    assert run.post("pull_request", pr_opened(), "d-1").status_code == 202  # GitHub redelivers
    assert run.metrics.value("steward_webhooks_rejected_total", reason="unavailable") == 1
    [_], [_] = rows(engine)


def test_a_writer_process_that_dies_is_replaced(serve: ServeFactory, engine: Engine) -> None:
    import os
    import signal

    run = serve()
    writer = run.core.writer
    assert run.post("pull_request", pr_opened(), "d-1").status_code == 202
    first = writer._proc.pid
    os.kill(first, signal.SIGKILL)
    writer._proc.join(10)
    wait_for(lambda: run.client.get(f"{run.url}/healthz").status_code == 503)
    r = run.client.get(f"{run.url}/healthz")
    assert r.json()["problems"] == ["intake writer stopped"]
    assert run.post("pull_request", pr_opened(3), "d-2").status_code == 202
    assert writer._proc.pid != first
    assert run.client.get(f"{run.url}/healthz").status_code == 200
    d, _ = rows(engine)
    assert [x.delivery_id for x in d] == ["d-1", "d-2"]


def test_health_and_metrics(serve: ServeFactory) -> None:
    run = serve()
    r = run.client.get(f"{run.url}/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "workers": 0})
    run.post("pull_request", pr_opened(), "d-1")
    run.post("pull_request", pr_opened(), "d-1")
    r = run.client.get(f"{run.url}/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    for line in (
        'steward_webhooks_received_total{event="pull_request"} 2.0',
        "steward_webhooks_deduplicated_total 1.0",
        "steward_webhook_ack_seconds_count 2.0",
        'steward_jobs{state="queued"} 1.0',
        'steward_jobs{state="dead"} 0.0',
    ):
        assert line in text, line
    for name in (
        "steward_jobs_processed_total",
        "steward_jobs_failed_total",
        "steward_jobs_dead_total",
        "steward_processing_seconds",
        "steward_github_api_calls_total",
        "steward_github_rate_limit_remaining",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert SECRET not in text


def test_workers_beside_the_intake_process_the_delivery(
    serve: ServeFactory, engine: Engine, gh: GitHubServer
) -> None:
    gh.add_pr(
        2,
        "feat(logger): add a sampling rate",
        files=[
            ("aws_lambda_powertools/logging/logger.py", 40, 5),
            ("tests/unit/test_logger.py", 20, 0),
        ],
    )
    metrics = Metrics()
    deps = token_deps(gh.url, TOKEN, repos=(gh.repo,), metrics=metrics)
    run = serve(workers=2, metrics=metrics, deps=deps)
    assert run.post("pull_request", pr_opened(), "d-1").status_code == 202
    wait_for(lambda: run.core.inbox.maintenance.counts()["done"] == 1)
    assert sorted(gh.labels_of(2)) == ["feature", "size/M", "tests"]
    assert gh.status_of(SHA, "steward/semantic-title") == ("success", "feat: semantic title")
    m = run.metrics
    assert m.value("steward_jobs_processed_total", kind="event") == 1
    assert m.value("steward_processing_seconds_count", kind="event") == 1
    assert m.value("steward_github_api_calls_total", method="GET", status="2xx") >= 2
    assert m.value("steward_github_api_calls_total", method="POST", status="2xx") >= 1
    assert m.value("steward_github_rate_limit_remaining", installation="7", resource="core") == 4999
    r = run.client.get(f"{run.url}/healthz")
    assert r.json() == {"status": "ok", "workers": 2}


@pytest.mark.parametrize("length", ["²", "٣", "\uff11\uff12", "9" * 5000])
def test_a_content_length_that_is_no_ascii_number_is_not_read_as_one(length: str) -> None:
    """`str.isdigit` takes "²" and "٣" for digits; `int` then fails (or reads another
    number): the body is read, bounded as it streams, whatever the header claims."""
    import asyncio

    from steward.server import app, intake

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    if length == "9" * 5000:
        with pytest.raises(intake.Rejected):
            asyncio.run(app._read_body(length, receive))
    else:
        assert asyncio.run(app._read_body(length, receive)) == b"{}"


@pytest.mark.parametrize("remaining", ["²", "٣", "4999x", "9" * 5000])
def test_a_rate_limit_header_that_is_no_count_is_not_a_gauge(remaining: str) -> None:
    def github(request: httpx.Request) -> httpx.Response:
        header = (b"x-ratelimit-remaining", remaining.encode())
        return httpx.Response(200, headers=[header], json={})

    metrics = Metrics()
    transport = InstrumentedTransport("7", httpx.MockTransport(github), metrics)
    with httpx.Client(transport=transport) as client:
        assert client.get("https://api.github.com/rate_limit").status_code == 200
    assert metrics.value("steward_github_api_calls_total", method="GET", status="2xx") == 1
    gauge = {"installation": "7", "resource": "core"}
    assert metrics.registry.get_sample_value("steward_github_rate_limit_remaining", gauge) is None
