"""The survey's bound: one survey covers at most `survey.MAX_REPOSITORIES` of an
installation's repositories (the first by name), saves how many it left out, and the page
says so; bodies stored before the bound read as none left out, and a later survey that
covers them all forgets the count.

The repositories here cannot be surveyed (their config does not validate): each is saved
with its error at the cost of no request, so an installation of 250 is cheap to survey, and
`config_for` tells which ones the survey looked at."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from steward.config.model import StewardConfig
from steward.errors import ConfigError
from steward.github.client import GitHubClient
from steward.server import db, survey
from steward.server.metrics import Metrics
from steward.server.page.app import create_operator_app
from steward.server.page.views import repositories_view
from steward.server.processing import WorkerDeps
from steward.server.settings import Settings
from steward.server.survey import MAX_REPOSITORIES, process_survey
from steward.server.surveys import ApiBudget, RepositorySurvey, Surveys
from tests.server.conftest import SECRET

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
TOKEN = "a page token of some length"


class Installation:
    """`WorkerDeps` for an installation of ``count`` repositories, listed in reverse name
    order (the bound picks by name, not by GitHub's order)."""

    def __init__(self, count: int) -> None:
        self.names = [f"octo-org/repo-{n:04d}" for n in range(count)][::-1]
        self.looked_at: list[str] = []

    def config_for(self, installation_id: int, full_name: str) -> StewardConfig:
        self.looked_at.append(full_name)
        raise ConfigError("not a mapping", path=".github/steward.yml")

    def github_for(self, installation_id: int) -> GitHubClient:
        raise AssertionError("no request: the config fails first")

    def deps(self) -> WorkerDeps:
        return WorkerDeps(
            github_for=self.github_for,
            config_for=self.config_for,
            bot_login="repo-steward[bot]",
            repositories_for=lambda installation_id: list(self.names),
            clock=lambda: NOW,
        )


def test_a_survey_covers_at_most_the_bound_and_saves_how_many_it_left_out(
    sqlite: Engine,
) -> None:
    assert 50 <= MAX_REPOSITORIES <= 1000
    extra = 50
    inst = Installation(MAX_REPOSITORIES + extra)
    store = Surveys(sqlite)

    done = process_survey(7, inst.deps(), store)

    first = sorted(inst.names)[:MAX_REPOSITORIES]
    assert sorted(inst.looked_at) == first  # the others were never read
    assert len(inst.looked_at) == MAX_REPOSITORIES
    assert done.left_out == extra
    assert [r.repository for r in done.repositories] == first
    (saved,) = store.latest()
    assert saved.left_out == extra
    assert [r.repository for r in saved.repositories] == first
    assert all(r.error is not None and r.error.startswith("config: ") for r in saved.repositories)

    view = repositories_view(store.latest())
    assert view["installations"][0]["left_out"] == extra


def test_the_page_says_how_many_were_not_surveyed(sqlite: Engine) -> None:
    process_survey(7, Installation(MAX_REPOSITORIES + 3).deps(), Surveys(sqlite))
    settings = Settings(webhook_secret=SECRET, page_token=TOKEN)
    client = TestClient(create_operator_app(settings, sqlite, metrics=Metrics()))
    login = client.get("/login", params={"next": "/repositories"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf
    page = client.post("/login", data={"csrf": csrf[1], "token": TOKEN, "next": "/repositories"})
    assert page.url.path == "/repositories"
    assert "3 more not surveyed" in page.text
    assert page.text.count("<article") == MAX_REPOSITORIES


def test_a_survey_that_covers_them_all_forgets_the_count(sqlite: Engine) -> None:
    store = Surveys(sqlite)
    process_survey(7, Installation(MAX_REPOSITORIES + 5).deps(), store)
    assert store.latest()[0].left_out == 5
    process_survey(7, Installation(3).deps(), store)  # the installation lost repositories
    (inst,) = store.latest()
    assert inst.left_out == 0
    assert len(inst.repositories) == 3


def test_bodies_without_the_count_read_as_none_left_out(sqlite: Engine) -> None:
    """A body as stored before the bound (no ``left_out``) reads as before; a survey that
    left nothing out writes exactly such a body, so its text does not change."""
    store = Surveys(sqlite)
    repo = RepositorySurvey("o/r", sweep_enabled=False)
    store.save(7, NOW, [repo], ApiBudget(1, 1, 0))
    with sqlite.connect() as conn:
        (body,) = conn.execute(select(db.surveys.c.body)).scalars().all()
    assert "left_out" not in json.loads(body)
    assert json.loads(body) == repo.to_json()
    (inst,) = store.latest()
    assert inst.left_out == 0
    assert inst.repositories[0].sweep_enabled is False

    for bad in (-1, True, "12", None):  # a count that is not one: none left out
        data = {**repo.to_json(), "left_out": bad}
        with sqlite.begin() as conn:
            conn.execute(db.surveys.update().values(body=json.dumps(data)))
        assert store.latest()[0].left_out == 0
        assert store.latest()[0].repositories[0].error is None


def test_the_bound_is_by_name_and_counts_each_repository_once() -> None:
    names = ["b/x", "A/y", "a/z", "b/x", "c/w"]
    assert survey.bounded(names)[1] == max(0, 4 - MAX_REPOSITORIES)
    picked, _ = survey.bounded(names)
    assert picked == ["A/y", "a/z", "b/x", "c/w"]
