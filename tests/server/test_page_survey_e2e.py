"""The maintainers' page fed the real way, end to end, on SQLite and PostgreSQL.

A real `steward serve` process (one worker, the page's token sign-in) with the App's own
dependencies (`processing.app_deps`: installation tokens signed with the App's key, the
database's ETag store and config cache; no test deps factory) against the local GitHub App
(`test_survey.SurveyGitHub`: every request and answer checked against GitHub's OpenAPI
description) holding one repository with an issue labelled ``pending-release``, an open pull
request labelled ``do-not-merge``, an issue idle since 2011 that the sweep will mark stale,
and two published releases, one carrying the ``steward-run.json`` the release pipeline
attaches (`release_assets.attach_run_record`, uploaded through GitHub's uploads host).

GitHub then delivers ``installation: created`` (the App was just installed); the worker
schedules the installation's survey due at once and runs it, the survey reads GitHub and
stores what it found, and a maintainer signed in over plain HTTP sees it on /repositories and
/releases (the run's Gantt drawn from the record on the release): nothing is seeded in the
database, everything on the page came from GitHub through the survey job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from steward.config.model import StewardConfig
from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.pipeline.context import Context
from steward.pipeline.release_assets import attach_run_record
from steward.pipeline.report import RUN_RECORD, RunRecord, gantt_rows
from tests.server.conftest import SECRET, signed_headers
from tests.server.fakes import app_server_env
from tests.server.processes import Server
from tests.server.test_survey import REPO, SurveyGitHub, run_state
from tests.support.github_app_server import INSTALLATION_ID
from tests.support.github_material import base_example

pytestmark = [pytest.mark.usefixtures("no_steward_env"), pytest.mark.slow]

PAGE_TOKEN = "correct horse battery staple"
WEB = f"https://github.com/{REPO}"
RECORDED_AT = 105.0


# -- the page, read as text ---------------------------------------------------------------


class Sections(HTMLParser):
    """A view's ``<main>``: the text of each ``<li>`` under each ``<h4>`` (the Repositories
    view's lists), the ``<title>`` of each bar of each ``svg.gantt``, the value of each
    ``csrf`` field, and all its text."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, list[str]] = {}
        self.csrf: list[str] = []
        self.gantts: list[list[str]] = []
        self.text: list[str] = []
        self._tags: list[str] = []
        self._h4: str | None = None
        self._heading = False
        self._li: list[str] | None = None
        self._rect_title: list[str] | None = None
        self._main = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "main":
            self._main = True
        elif tag == "input" and a.get("name") == "csrf":
            self.csrf.append(a.get("value") or "")
        elif tag == "h4":
            self._heading, self._h4 = True, ""
        elif tag == "li" and self._h4 is not None:
            self._li = []
        elif tag == "svg" and "gantt" in (a.get("class") or "").split():
            self.gantts.append([])
        elif tag == "title" and self._tags and self._tags[-1] == "rect" and self.gantts:
            self._rect_title = []
        self._tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._tags and self._tags.pop() != tag:
            pass
        if tag == "h4":
            self._heading = False
            self.items.setdefault(self._h4 or "", [])
        elif tag == "li" and self._li is not None:
            assert self._h4 is not None
            self.items[self._h4].append(" ".join("".join(self._li).split()))
            self._li = None
        elif tag == "title" and self._rect_title is not None:
            self.gantts[-1].append("".join(self._rect_title))
            self._rect_title = None
        elif tag == "main":
            self._main = False

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._h4 = (self._h4 or "") + data
        if self._li is not None:
            self._li.append(data)
        if self._rect_title is not None:
            self._rect_title.append(data)
        if self._main:
            self.text.append(data)

    @classmethod
    def of(cls, html: str) -> Sections:
        parser = cls()
        parser.feed(html)
        return parser

    @property
    def main(self) -> str:
        return " ".join("".join(self.text).split())


def sign_in(page_url: str) -> httpx.Client:
    """A maintainer's session, as a browser gets one: the sign-in form, its CSRF field, the
    token; the cookie kept by the client."""
    client = httpx.Client(base_url=page_url, follow_redirects=True, timeout=30)
    form = client.get("/login", params={"next": "/repositories"})
    assert form.status_code == 200
    csrf = Sections.of(form.text).csrf
    assert len(csrf) == 1, form.text
    assert csrf[0], form.text
    signed = client.post(
        "/login", data={"token": PAGE_TOKEN, "csrf": csrf[0], "next": "/repositories"}
    )
    assert signed.status_code == 200
    assert signed.url.path == "/repositories"
    return client


# -- GitHub -----------------------------------------------------------------------------------


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[SurveyGitHub]:
    recent = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    server = SurveyGitHub(REPO)
    with server:
        server.add_installation(INSTALLATION_ID, (REPO,))
        server.add_issue(1, "Sampling rate is dropped", labels=("pending-release",)).touch(recent)
        server.add_pr(3, "feat: new sink", labels=("do-not-merge",)).touch(recent)
        server.add_issue(5, "Idea: a YAML logger")  # idle since 2011: the sweep marks it stale
        server.add_release("v0.9.0")  # made by hand: no run record
        server.add_release("v1.0.0")
        attach_record(server, "v1.0.0", tmp_path / "release")
        yield server
    assert server.violations == []


def attach_record(gh: SurveyGitHub, tag: str, rdir: Path) -> None:
    """The run record on the release the way the pipeline's post-release stage puts it there:
    `attach_run_record` with the run's state, uploaded to the uploads host."""
    rdir.mkdir()
    client = GitHubClient(gh.token, gh.url, max_retries=0, uploads_url=gh.uploads_url)
    api = RepoApi(client, gh.repo)
    ctx = Context(rdir, "1.0.0", False, StewardConfig(), run_state(), rdir, {}, lambda _m: None)
    assert attach_run_record(ctx, api, api.release_by_tag(tag), lambda: RECORDED_AT) == "uploaded"
    client.close()


def record_on(gh: SurveyGitHub, tag: str) -> RunRecord:
    """The run record the release carries, read back from GitHub's own bytes."""
    rel = next(r for r in gh.releases if r["tag_name"] == tag)
    data = json.loads(gh.asset_bytes(rel)[RUN_RECORD])
    return RunRecord.from_json(data, "the asset")


# -- the test ---------------------------------------------------------------------------------


def test_what_github_holds_reaches_the_page_through_the_survey(
    gh: SurveyGitHub, database_url: str, tmp_path: Path
) -> None:
    env = app_server_env(
        gh.private_key_pem,
        gh.url,
        gh.app_id,
        SECRET,
        database_url,
        tmp_path,
        STEWARD_WORKERS="1",
        STEWARD_PAGE_TOKEN=PAGE_TOKEN,
        STEWARD_LOG_JSON="false",
        STEWARD_SURVEY_INTERVAL_SECONDS="900",  # the default, as the housekeeping's (30 s)
    )
    server = Server(env, tmp_path / "server.log")
    try:
        page_url = server.metrics_url.removesuffix("/metrics")
        client = sign_in(page_url)
        assert "No survey yet" in client.get("/repositories").text

        installed = base_example("installation", "created")
        installed["installation"]["id"] = INSTALLATION_ID
        body = json.dumps(installed).encode()
        r = httpx.post(
            f"{server.url}/webhook",
            content=body,
            headers=signed_headers("installation", "d-installed", body),
            timeout=30,
        )
        assert r.status_code == 202, r.text

        deadline = time.monotonic() + 20
        while "No survey yet" in (repos := client.get("/repositories")).text:
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.1)
        releases = client.get("/releases")
        client.close()
    finally:
        server.stop()

    assert repos.status_code == 200
    view = Sections.of(repos.text)
    assert f"Installation {INSTALLATION_ID}" in view.main
    assert REPO in view.main
    assert "could not read it" not in view.main
    assert view.items["Pending release"] == ["#1 Sampling rate is dropped"]
    assert view.items["Blocked pull requests"] == ["#3 feat: new sink do-not-merge"]
    assert view.items["The next sweep"] == ["#5 Idea: a YAML logger mark stale"]
    assert f'href="{WEB}/issues/1"' in repos.text
    assert f'href="{WEB}/pull/3"' in repos.text
    # The rate limit GitHub reported to the survey, and no "N more not surveyed".
    assert f"{gh.rate_remaining(f'installation:{INSTALLATION_ID}')} / 5000" in view.main
    assert "more not surveyed" not in view.main

    assert releases.status_code == 200
    rels = Sections.of(releases.text)
    assert f"{REPO} v1.0.0" in rels.main
    assert f"{REPO} v0.9.0" in rels.main
    assert "No run record on this release" in rels.main  # v0.9.0's
    (bars,) = rels.gantts  # v1.0.0's run only
    record = record_on(gh, "v1.0.0")
    drawn = [r for r in gantt_rows(record) if r.seconds is not None]
    expected = [r.title for r in drawn] + [p.title for r in drawn for p in r.parts]
    assert sorted(b.split(":")[0] for b in bars) == sorted(expected)
    assert len(bars) >= 5  # seal, build and its two tasks, post-release
    assert "Build and seal" in " ".join(bars)  # the pipeline's own stage title
    assert len(gh.storage.seen) == 1  # the record downloaded once, through the storage host
