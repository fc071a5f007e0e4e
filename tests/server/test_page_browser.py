"""The maintainers' page in a real headless Chromium (Debian's), against a real `steward
serve` process: sign-in refused and granted, each view looked at and kept as a screenshot
(light and dark), the retry button end to end, a forged form from another page refused, the
page used with JavaScript off, and its colours and labels checked in the browser.

The inbox is filled the way GitHub fills it (signed deliveries through the intake); the
server runs no workers, so the test decides which jobs die, through the jobs' own code.
The Repositories and Releases views read surveys the test stores through the survey store
(`server.surveys`): the survey job itself is tested against the local GitHub in
tests/server/test_survey.py.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from steward.server import db
from steward.server.jobs import Jobs
from tests.server.conftest import signed_headers, with_installation
from tests.server.page_seed import page_server_env, seed_surveys
from tests.server.processes import Server
from tests.support.browser import artifacts, browser_fixture  # noqa: F401 (a fixture)
from tests.support.github_material import issue_event

pytestmark = [pytest.mark.usefixtures("no_steward_env"), pytest.mark.slow]

PAGE_TOKEN = "correct horse battery staple"
ERROR = "422 Unprocessable Entity: Validation Failed (label 'size/XXL' too long)"


@dataclass
class Served:
    server: Server
    engine: Engine
    url: str
    """The page's origin (the operator listener)."""
    dead: list[int]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("page")
    url = f"sqlite:///{tmp}/inbox.db"
    env = page_server_env(
        url,
        STEWARD_PAGE_TOKEN=PAGE_TOKEN,
        STEWARD_SURVEY_INTERVAL_SECONDS="900",  # as deployed (no worker runs one here)
        STEWARD_LOG_JSON="false",
    )
    server = Server(env, tmp / "server.log")
    engine = db.make_engine(url)
    try:
        for n in range(1, 7):
            payload = with_installation(issue_event("opened", number=n), 7)
            body = json.dumps(payload).encode()
            r = httpx.post(
                f"{server.url}/webhook",
                content=body,
                headers=signed_headers("issues", f"delivery-{n}", body),
                timeout=30,
            )
            assert r.status_code == 202, r.text
        jobs = Jobs(engine)
        dead = []
        for k in range(3):
            job = jobs.claim("test/0", 60)
            assert job is not None
            assert jobs.fail(job, f"{ERROR} #{k}", permanent=True) == "dead"
            dead.append(job.id)
        seed_surveys(engine)
        yield Served(server, engine, server.metrics_url.removesuffix("/metrics"), dead)
    finally:
        server.stop()
        engine.dispose()


def job_state(engine: Engine, job: int) -> str:
    return db.job_states(engine, [job])[job]


def sign_in(context: Any, served: Served, token: str = PAGE_TOKEN) -> Any:
    page = context.new_page()
    page.goto(f"{served.url}/queue")
    assert "/login" in page.url
    page.fill("input[name=token]", token)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    return page


def follow(page: Any, link: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=link).click()


def shot(page: Any, name: str) -> Path:
    path = artifacts() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000  # a page, not a blank
    return path


# -- access -----------------------------------------------------------------------------


def test_without_sign_in_every_view_sends_to_the_sign_in(browser: Any, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    for view in ("/queue", "/repositories", "/releases", "/"):
        page.goto(served.url + view)
        assert page.url.startswith(f"{served.url}/login"), page.url
        assert page.locator("input[name=token]").count() == 1
        assert ERROR not in page.content()
    shot(page, "sign-in")
    context.close()


def test_a_retry_without_a_session_is_refused(served: Served) -> None:
    job = served.dead[-1]
    r = httpx.post(f"{served.url}/queue/retry", data={"job": str(job), "csrf": "x"})
    assert r.status_code == 403
    assert job_state(served.engine, job) == "dead"


def test_a_wrong_token_is_refused(browser: Any, served: Served) -> None:
    context = browser.new_context()
    page = sign_in(context, served, token="not the token")
    assert "/login" in page.url
    assert page.get_by_role("alert").count() >= 1 or "wrong" in page.content().lower()
    page.goto(f"{served.url}/queue")
    assert "/login" in page.url
    assert context.cookies() == [] or all(ERROR not in page.content() for _ in (0,))
    context.close()


# -- the views ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_view_signed_in(browser: Any, served: Served, scheme: str) -> None:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1200, "height": 900})
    page = sign_in(context, served)
    outside: list[str] = []
    page.on(
        "request",
        lambda req: outside.append(req.url) if not req.url.startswith(served.url) else None,
    )
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{served.url}/queue")
    assert page.url == f"{served.url}/queue"
    assert page.get_by_role("heading", name="Queue", exact=True).is_visible()
    assert page.locator("svg.chart rect.received").count() == 24
    # Six deliveries received this hour; three dead, three queued.
    legend = page.locator(".legend").inner_text()
    assert "received: 6" in legend
    assert "dead: 3" in legend
    for job in served.dead:
        assert page.get_by_role("button", name=f"Retry job {job}").count() == 1
    assert f"{ERROR} #0" in page.locator("table.dead").inner_text()
    assert "Oldest waiting job" in page.content()
    shot(page, f"queue-{scheme}")

    follow(page, "Repositories")
    assert page.url == f"{served.url}/repositories"
    text = page.locator("main").inner_text()
    assert "octo-org/widgets" in text
    assert "Release the frobnicator" in text  # a pending-release issue
    assert "do-not-merge" in text  # a blocked PR
    assert "stale" in text.lower()  # what the next sweep does
    assert "every 15 min" in text
    shot(page, f"repositories-{scheme}")

    follow(page, "Releases")
    assert page.url == f"{served.url}/releases"
    assert page.locator("svg.gantt rect").count() >= 5
    assert "v2.4.0" in page.locator("main").inner_text()
    shot(page, f"releases-{scheme}")

    assert outside == []
    assert errors == []
    context.close()


def test_colours_and_labels_hold_up(browser: Any, served: Served) -> None:
    """Every form control has an accessible name; body, muted and link text reach WCAG AA
    contrast (4.5:1) against the page, in both colour schemes."""
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = sign_in(context, served)
        for view in ("/queue", "/repositories", "/releases"):
            page.goto(served.url + view)
            unnamed = page.evaluate(
                """() => [...document.querySelectorAll('input:not([type=hidden]), button')]
                    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                                 && !e.textContent.trim()).map(e => e.outerHTML)"""
            )
            assert unnamed == [], (scheme, view)
            ratios = page.evaluate(CONTRAST)
            low = {k: v for k, v in ratios.items() if v < 4.5}
            assert low == {}, (scheme, view, ratios)
        context.close()


# -- the retry button ---------------------------------------------------------------------


def test_the_retry_button_queues_the_job_again(browser: Any, served: Served) -> None:
    job = served.dead[0]
    context = browser.new_context()
    page = sign_in(context, served)
    page.goto(f"{served.url}/queue")
    with page.expect_navigation():
        page.get_by_role("button", name=f"Retry job {job}").click()
    assert page.url == f"{served.url}/queue?retried={job}"
    assert page.get_by_role("status").inner_text() == f"Job {job} is queued again."
    assert page.get_by_role("button", name=f"Retry job {job}").count() == 0
    assert job_state(served.engine, job) == "queued"
    assert f"job {job} queued again by token (token)" in served.server.tail(100_000)
    shot(page, "queue-retried")
    # The same form sent again (a double click, a reload) changes nothing.
    page.go_back()
    page.goto(f"{served.url}/queue")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(f"{served.url}/queue/retry", form={"job": str(job), "csrf": csrf})
    assert answer.url.endswith(f"/queue?missing={job}")
    assert job_state(served.engine, job) == "queued"
    context.close()


def test_a_forged_form_from_another_page_is_refused(browser: Any, served: Served) -> None:
    """A page on another port (same site to the browser, so the session cookie goes along)
    posts the retry form for a signed-in maintainer: without the page's CSRF token it is
    refused and the job stays dead."""
    job = served.dead[1]
    evil = (
        "<!doctype html><title>win a prize</title>"
        f"<form id=f method=post action='{served.url}/queue/retry'>"
        f"<input name=job value={job}><input name=csrf value=guess></form>"
        "<script>document.getElementById('f').submit()</script>"
    ).encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(evil)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        context = browser.new_context()
        sign_in(context, served)
        page = context.new_page()
        with page.expect_navigation(url=f"{served.url}/queue/retry"):
            page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        assert "Refused" in page.content()
        assert job_state(served.engine, job) == "dead"
        other.shutdown()
        context.close()


def test_the_page_works_without_javascript(browser: Any, served: Served) -> None:
    job = served.dead[2]
    context = browser.new_context(java_script_enabled=False)
    page = sign_in(context, served)
    assert page.url == f"{served.url}/queue"
    assert page.locator("svg.chart rect").count() == 24 * 4
    with page.expect_navigation():
        page.get_by_role("button", name=f"Retry job {job}").click()
    assert page.get_by_role("status").inner_text() == f"Job {job} is queued again."
    assert job_state(served.engine, job) == "queued"
    context.close()


# WCAG 2 relative luminance and contrast, for the page's text against its background.
CONTRAST = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const bg = rgb(getComputedStyle(document.body).backgroundColor);
  const out = {};
  for (const [name, sel] of [['body', 'main'], ['muted', 'caption, small, .muted'],
                             ['link', 'main a, nav a'], ['heading', 'h1']]) {
    const el = document.querySelector(sel);
    if (el) out[name] = Math.round(ratio(rgb(getComputedStyle(el).color), bg) * 100) / 100;
  }
  return out;
}"""
