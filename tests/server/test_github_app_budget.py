"""The API budget through the real client and the spec-validating test server: conditional
GETs answered 304 from a shared store (no rate limit spent), writes paced per installation,
rate-limit pauses shared by an installation's workers, faults injected at a rate, and the
remaining budget published for metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from steward.errors import GitHubError
from steward.github.budget import Budget, PacingPolicy
from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.server.etag import MemoryEtagStore
from steward.server.github_app import GitHubApp
from tests.server.conftest import app_on
from tests.support.fake_clock import FakeClock
from tests.support.github_app_server import INSTALLATION_ID, Chaos, GitHubAppServer
from tests.support.github_material import REPO

R = f"/repos/{REPO}"
WHO = f"installation:{INSTALLATION_ID}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gh(clock: FakeClock) -> Iterator[GitHubAppServer]:
    with GitHubAppServer(clock=clock) as server:
        for n in (1, 2, 3):
            server.add_issue(n, f"issue {n}", labels=("bug",))
        yield server
        server.assert_clean()


def api_for(app: GitHubApp, installation: int = INSTALLATION_ID) -> RepoApi:
    return RepoApi(app.github_for(installation), REPO)


# -- conditional GETs ---------------------------------------------------------------------


def test_a_read_another_worker_made_is_a_304_from_the_shared_store_and_costs_nothing(
    gh: GitHubAppServer, clock: FakeClock
):
    store = MemoryEtagStore()  # the database table all worker processes share
    one, other = app_on(gh, clock, etags=store), app_on(gh, clock, etags=store)
    issue = api_for(one).issue(1)
    spent = gh.rate_used[WHO]
    again = api_for(other).issue(1)
    assert again == issue
    assert other.github_for(INSTALLATION_ID).log.not_modified == [("GET", f"{R}/issues/1")]
    assert gh.not_modified == 1
    assert gh.rate_used[WHO] == spent  # the 304 cost the installation nothing
    assert other.budgets()[INSTALLATION_ID].not_modified == 1


def test_a_change_is_read_again_in_full(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock, etags=MemoryEtagStore())
    api = api_for(app)
    api.issue(1)
    gh.issues[1].labels.append("triage")
    assert api.issue(1).labels == ("bug", "triage")
    assert api.client.log.not_modified == []
    assert api.issue(1).labels == ("bug", "triage")
    assert len(api.client.log.not_modified) == 1


def test_pages_answered_304_keep_their_links_and_cost_nothing(
    gh: GitHubAppServer, clock: FakeClock
):
    repos = tuple(f"Codertocat/repo-{i}" for i in range(5))
    gh.add_installation(INSTALLATION_ID, (REPO, *repos))
    store = MemoryEtagStore()
    app = app_on(gh, clock, etags=store)
    client = app.github_for(INSTALLATION_ID)

    def listing() -> list[object]:
        return list(
            client.paginate("/installation/repositories", {"per_page": 2}, items_key="repositories")
        )

    first = listing()
    assert len(first) == 6
    assert len(store) == 3  # one entry per page
    spent = gh.rate_used[WHO]
    assert listing() == first
    assert len(client.log.not_modified) == 3  # every page, its next link read from the store
    assert gh.rate_used[WHO] == spent
    assert sorted(app.repositories(INSTALLATION_ID)) == sorted([REPO, *repos])


def test_a_full_timeline_page_is_not_stored_but_the_issue_is(gh: GitHubAppServer, clock: FakeClock):
    """A timeline grows at its end, under an unchanged first page: not kept for a 304."""
    for i in range(100):
        gh.add_event(
            1, "labeled", "octocat", f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z", label="x"
        )
    store = MemoryEtagStore()
    api = api_for(app_on(gh, clock, etags=store))
    events, complete = api.timeline(1)
    assert (len(events), complete) == (100, True)
    assert len(store) == 0
    api.issue(1)
    assert len(store) == 1


def test_timelines_are_read_unconditionally(gh: GitHubAppServer, clock: FakeClock):
    """`RepoApi.timeline` trusts `rel="last"`, which a page answered by a 304 may have
    stale: even a short timeline is not kept."""
    gh.add_event(1, "labeled", "octocat", "2026-01-01T00:00:00Z", label="x")
    store = MemoryEtagStore()
    api = api_for(app_on(gh, clock, etags=store))
    api.timeline(1)
    api.timeline(1)
    assert len(store) == 0
    assert gh.not_modified == 0


def test_without_a_store_nothing_is_conditional(gh: GitHubAppServer, clock: FakeClock):
    api = api_for(app_on(gh, clock))
    api.issue(1)
    api.issue(1)
    assert gh.not_modified == 0
    assert gh.rate_used[WHO] == 2


def test_stored_keys_hold_the_installation_never_the_token(gh: GitHubAppServer, clock: FakeClock):
    store = MemoryEtagStore()
    app = app_on(gh, clock, etags=store)
    api_for(app).issue(1)
    token = app.installation_token(INSTALLATION_ID)
    assert list(store._items) == [f"v2 {WHO} GET {R}/issues/1"]
    assert all(token.encode() not in v for _, v in store._items.values())


def test_the_plain_client_behaves_as_before_against_the_app_server(gh: GitHubAppServer):
    with GitHubClient(gh.token, gh.url) as client:
        assert client.get_object(f"{R}/issues/1")["number"] == 1
        assert client.get_object(f"{R}/issues/1")["number"] == 1
    assert [c.status for c in gh.calls] == [200, 200]  # no If-None-Match sent
    assert client.log.not_modified == []


# -- pacing -------------------------------------------------------------------------------


def test_writes_of_one_installation_are_a_second_apart_reads_are_not_paced(
    gh: GitHubAppServer, clock: FakeClock
):
    app = app_on(gh, clock)
    api = api_for(app)
    api.add_labels(1, ["x"])
    api.add_labels(2, ["x"])
    api.issue(3)
    api.comment(3, "hi")
    assert clock.sleeps == [1.0, 1.0]
    budget = app.budgets()[INSTALLATION_ID]
    assert (budget.writes_last_minute, budget.writes_left_minute) == (3, 77)
    assert (budget.writes_last_hour, budget.writes_left_hour) == (3, 497)


def test_writes_from_many_threads_go_one_at_a_time(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    api = api_for(app)
    threads = [
        threading.Thread(target=api.comment, args=(n, f"hello {i}"))
        for i in range(3)
        for n in (1, 2)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len([w for w in gh.writes() if w[1].endswith("/comments")]) == 6
    assert clock.sleeps == [1.0] * 5


def test_installations_are_paced_apart(gh: GitHubAppServer, clock: FakeClock):
    gh.add_installation(7, (REPO,))
    app = app_on(gh, clock)
    a, b = api_for(app), api_for(app, 7)
    clock.sleeps.clear()  # the App's own token requests are paced too (its own budget)
    a.add_labels(1, ["x"])
    b.add_labels(2, ["x"])
    assert clock.sleeps == []


def test_a_secondary_limit_one_request_met_holds_the_next(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock, pacing=PacingPolicy(min_interval=0))
    api = api_for(app)
    gh.chaos = Chaos(rate=1.0, statuses=(429,), retry_after=30, methods=frozenset({"POST"}))
    api.client.max_retries = 0  # this request gives up at once: the pause stays
    with pytest.raises(GitHubError, match="rate limited"):
        api.add_labels(1, ["x"])
    gh.chaos = None
    api.issue(1)  # the next request (a read, another job) waits the pause out first
    assert clock.sleeps == [30.0]
    assert gh.calls[-1].status == 200


def test_retry_after_is_honoured_once_and_the_write_goes_through(
    gh: GitHubAppServer, clock: FakeClock
):
    app = app_on(gh, clock, pacing=PacingPolicy(min_interval=0))
    api = api_for(app)
    gh.chaos = Chaos(rate=1.0, statuses=(403,), retry_after=5, methods=frozenset({"POST"}), times=1)
    api.add_labels(1, ["x"])
    assert gh.labels_of(1) == ["bug", "x"]
    assert clock.sleeps == [5.0]  # by the client, not again by the pacer


def test_budget_callback_reports_the_remaining_rate_limit(gh: GitHubAppServer, clock: FakeClock):
    seen: list[tuple[int, Budget]] = []
    app = app_on(gh, clock, on_budget=lambda iid, b: seen.append((iid, b)))
    api = api_for(app)
    api.issue(1)
    api.add_labels(1, ["x"])
    installation = [b for iid, b in seen if iid == INSTALLATION_ID]
    assert [b.rate.remaining for b in installation if b.rate] == [4999, 4998]
    assert installation[-1].writes_last_hour == 1
    assert 0 in {iid for iid, _ in seen}  # the App's own (token) request is reported too
    assert app.budgets()[INSTALLATION_ID] == installation[-1]


# -- faults at a rate -----------------------------------------------------------------------


def test_reads_survive_5xx_and_429_injected_at_a_rate(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock, pacing=PacingPolicy(min_interval=0), client_options={"max_retries": 10})
    api = api_for(app)
    gh.chaos = Chaos(rate=0.3, statuses=(502, 503, 429), retry_after=2, seed=7)
    got = [api.issue(n).number for n in (1, 2, 3) for _ in range(5)]
    assert got == [1] * 5 + [2] * 5 + [3] * 5
    statuses = {s for _, _, s in gh.chaos.injected}
    assert 429 in statuses
    assert statuses & {502, 503}
    assert 2.0 in clock.sleeps  # the 429's retry-after


def test_a_post_is_not_resent_after_an_injected_5xx(gh: GitHubAppServer, clock: FakeClock):
    api = api_for(app_on(gh, clock))
    gh.chaos = Chaos(rate=1.0, statuses=(502,), methods=frozenset({"POST"}))
    with pytest.raises(GitHubError, match="502"):
        api.comment(1, "hello")
    assert len(gh.chaos.injected) == 1
    assert gh.comment_bodies(1) == []
