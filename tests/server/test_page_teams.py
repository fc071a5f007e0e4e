"""One server, several organisations: each GitHub sign-in sees its own.

``maintainers_team`` names one team per organisation (``org-a/maintainers,
org-b/maintainers``). A person signs in with GitHub when they are an active member of any
of them, and sees the installations of the organisations whose team they are in: their
repositories, their releases, their dead letters, and the retry button for those only.
The counts per hour stay the server's (numbers, no names). The static token sees all.

The sign-in goes through the local GitHub (`tests/support/github_oauth.py`: the web flow
as GitHub documents it, the REST reads validated against GitHub's OpenAPI description);
the page runs in-process (Starlette's test client) on a real SQLite inbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from steward.server import db
from steward.server.jobs import Jobs, job_row
from steward.server.metrics import Metrics
from steward.server.page.app import create_operator_app
from steward.server.settings import Settings
from steward.server.surveys import ApiBudget, Listing, PendingIssue, RepositorySurvey, Surveys
from tests.server.conftest import SECRET
from tests.support.github_oauth import OAuthApi, OAuthWeb, oauth_github

CLIENT_ID = "Iv23liTEAMS000000001"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef0123cafe"
TOKEN = "a page token of some length"
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
# installation id -> (its repository, its issue waiting for a release)
INSTALLATIONS = {
    1: ("org-a/widgets", "Widgets need a release"),
    2: ("org-b/gadgets", "Gadgets too"),
}


@pytest.fixture
def github() -> Iterator[tuple[OAuthWeb, OAuthApi]]:
    with oauth_github(CLIENT_ID, CLIENT_SECRET) as (web, api):
        api.add_member("org-a", "maintainers", "alice")
        api.add_member("org-b", "maintainers", "bob")
        api.add_member("org-a", "maintainers", "carol")
        api.add_member("org-b", "maintainers", "carol")
        yield web, api


@pytest.fixture
def dead(sqlite: Engine) -> dict[str, int]:
    """The inbox: each installation surveyed, and a dead letter per subject."""
    store = Surveys(sqlite)
    for inst, (repo, title) in INSTALLATIONS.items():
        url = f"https://github.com/{repo}/issues/1"
        survey = RepositorySurvey(
            repo, NOW, pending_release=Listing.of([PendingIssue(1, title, url, "open")])
        )
        store.save(inst, NOW, [survey], ApiBudget(1, 1, 0))
    subjects = {"org-a/widgets#1": 1, "org-b/gadgets#2": 2, "sweep:2": 2}
    with sqlite.begin() as conn:
        for subject, inst in subjects.items():
            kind = "sweep" if subject.startswith("sweep") else "event"
            conn.execute(db.jobs.insert(), [job_row(kind, subject, inst, NOW, max_attempts=1)])
    jobs = Jobs(sqlite)
    ids = {}
    while (job := jobs.claim("test/0", 60)) is not None:
        assert jobs.fail(job, f"422 on {job.subject}", permanent=True) == "dead"
        ids[job.subject] = job.id
    return ids


def page(engine: Engine, web: OAuthWeb, api: OAuthApi) -> TestClient:
    settings = Settings(
        webhook_secret=SECRET,
        page_token=TOKEN,
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        maintainers_team="org-a/maintainers, org-b/maintainers",
        github_url=web.url,
        api_url=api.url,
    )
    return TestClient(create_operator_app(settings, engine, metrics=Metrics()))


def github_sign_in(client: TestClient, web: OAuthWeb, who: str) -> httpx.Response:
    web.signed_in = who
    start = client.get("/login/github", params={"next": "/queue"}, follow_redirects=False)
    back = httpx.get(start.headers["location"], follow_redirects=False)
    return client.get(back.headers["location"])


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found[1]


def test_a_maintainer_sees_their_organisation_only(
    sqlite: Engine, github: tuple[OAuthWeb, OAuthApi], dead: dict[str, int]
) -> None:
    web, api = github
    client = page(sqlite, web, api)
    queue = github_sign_in(client, web, "bob")
    assert queue.url.path == "/queue"
    assert "Signed in as <strong>bob</strong> <small>(org-b)</small>" in queue.text
    assert "422 on org-b/gadgets#2" in queue.text
    assert "422 on sweep:2" in queue.text  # a sweep of org-b's installation
    assert "org-a/widgets" not in queue.text
    assert "received: 0" in queue.text  # the server's counts, as for everyone
    repos = client.get("/repositories").text
    assert "Gadgets too" in repos
    assert "org-a" not in repos
    assert "Widgets need a release" not in repos

    # Another organisation's job: refused, and it stays dead.
    token = csrf(queue.text)
    refused = client.post("/queue/retry", data={"job": str(dead["org-a/widgets#1"]), "csrf": token})
    assert refused.status_code == 403
    assert f"Job {dead['org-a/widgets#1']} is not a job of your organisations" in refused.text
    assert db.job_states(sqlite, [dead["org-a/widgets#1"]]) == {dead["org-a/widgets#1"]: "dead"}
    # Their own: queued again.
    mine = dead["org-b/gadgets#2"]
    done = client.post("/queue/retry", data={"job": str(mine), "csrf": token})
    assert done.url.path == "/queue"
    assert db.job_states(sqlite, [mine]) == {mine: "queued"}


def test_a_member_of_both_teams_and_the_token_see_both(
    sqlite: Engine, github: tuple[OAuthWeb, OAuthApi], dead: dict[str, int]
) -> None:
    web, api = github
    client = page(sqlite, web, api)
    assert "<small>(org-a, org-b)</small>" in github_sign_in(client, web, "carol").text
    both = client.get("/repositories").text
    assert "Widgets need a release" in both
    assert "Gadgets too" in both

    by_token = page(sqlite, web, api)
    login = by_token.get("/login")
    queue = by_token.post(
        "/login", data={"csrf": csrf(login.text), "token": TOKEN, "next": "/queue"}
    )
    assert all(f"422 on {subject}" in queue.text for subject in dead)


def test_someone_in_neither_team_is_refused(
    sqlite: Engine, github: tuple[OAuthWeb, OAuthApi], dead: dict[str, int]
) -> None:
    web, api = github
    client = page(sqlite, web, api)
    refused = github_sign_in(client, web, "mallory")
    assert refused.status_code == 403
    assert "not a member of the team org-a/maintainers or org-b/maintainers" in refused.text
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_the_setting_takes_one_team_per_organisation() -> None:
    assert Settings(maintainers_team="a/x, b/y").maintainers_team == "a/x, b/y"
    with pytest.raises(ValueError, match="maintainers_team"):
        Settings(maintainers_team="a/x, b")
