"""What `snapshot.gather` reads for section 4's policies, and the sweep's timeline reading:
the first-issue search (only where it can decide, once per author), the queued pull request
of a merge group, and who acted on an item."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from steward.config.loader import parse_config
from steward.domain.events import parse_event
from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.shell.identity import Identity
from steward.shell.snapshot import activity_from_timeline, gather, sweep_activity
from tests.support import openapi
from tests.support.github_material import REPO, issue_event
from tests.support.github_server import Fault, GitHubServer
from tests.support.merge_queue import merge_group_payload

CONFIG = parse_config("")


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server
        server.assert_clean()


@pytest.fixture
def api(gh: GitHubServer) -> Iterator[RepoApi]:
    with GitHubClient("test-token", gh.url, max_retries=0) as client:
        yield RepoApi(client, REPO)


def opened(association: str, author: str = "newcomer", number: int = 1):  # type: ignore[no-untyped-def]
    return parse_event(
        "issues", issue_event("opened", number=number, author=author, association=association)
    )


def test_a_none_author_costs_one_search(gh: GitHubServer, api: RepoApi):
    gh.add_issue(1, "first", author="newcomer")
    snap = gather(opened("NONE"), CONFIG, api)  # type: ignore[arg-type]
    assert snap.first_issues == {"newcomer": 1}
    assert gh.reads() == [("GET", "/search/issues")]


@pytest.mark.parametrize(
    "association",
    ["MEMBER", "OWNER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR"],
)
def test_associations_that_already_decide_cost_no_read(
    gh: GitHubServer, api: RepoApi, association: str
):
    snap = gather(opened(association), CONFIG, api)  # type: ignore[arg-type]
    assert snap.first_issues == {}
    assert gh.calls == []


def test_no_search_for_other_events_or_with_the_welcome_off(gh: GitHubServer, api: RepoApi):
    closed = parse_event("issues", issue_event("closed", association="NONE"))
    assert gather(closed, CONFIG, api).first_issues == {}  # type: ignore[arg-type]
    off = parse_config("triage:\n  welcome_issue: null\n")
    assert gather(opened("NONE"), off, api).first_issues == {}  # type: ignore[arg-type]
    assert gather(opened("NONE"), CONFIG, None).first_issues == {}  # type: ignore[arg-type]
    assert gh.calls == []


def test_one_search_per_author_per_run(gh: GitHubServer, api: RepoApi):
    gh.add_issue(4, "first", author="newcomer")
    for number in (5, 6):
        gh.add_issue(number, "more", author="newcomer")
        snap = gather(opened("NONE", number=number), CONFIG, api)  # type: ignore[arg-type]
        assert snap.first_issues == {"newcomer": 4}
    assert gh.reads() == [("GET", "/search/issues")]


def test_a_failed_search_welcomes_nobody_and_stops_nothing(
    gh: GitHubServer, api: RepoApi, caplog: pytest.LogCaptureFixture
):
    gh.faults.append(Fault(503, {"message": "Service Unavailable"}, path_contains="/search"))
    snap = gather(opened("NONE"), CONFIG, api)  # type: ignore[arg-type]
    assert snap.first_issues == {}
    assert "cannot tell whether newcomer opened issues before" in caplog.text


def test_a_merge_group_reads_its_pull_request_once(gh: GitHubServer, api: RepoApi):
    gh.add_pr(2, "feat: x", labels=("do-not-merge",))
    snap = gather(parse_event("merge_group", merge_group_payload(2)), CONFIG, api)  # type: ignore[arg-type]
    assert snap.pulls[2].labels == ("do-not-merge",)
    assert gh.reads() == [("GET", f"/repos/{REPO}/pulls/2")]
    gh.reset_calls()
    missing = gather(parse_event("merge_group", merge_group_payload(9)), CONFIG, api)  # type: ignore[arg-type]
    assert missing.pulls == {}
    nameless = merge_group_payload(head_ref="refs/heads/main")
    assert gather(parse_event("merge_group", nameless), CONFIG, api).pulls == {}  # type: ignore[arg-type]
    assert gh.reads() == [("GET", f"/repos/{REPO}/pulls/9")]


# ---- who acted on an item ----


def _events() -> dict[str, dict]:  # type: ignore[type-arg]
    return {e["event"]: e for e in openapi.example("timeline-issue-events")}


def _by(kind: str, login: str, at: str, user_type: str = "User", **extra: object) -> dict:  # type: ignore[type-arg]
    event = _events()[kind]
    event.update(created_at=at, **extra)
    for key in ("actor", "user"):
        if key in event:
            event[key].update(login=login, type=user_type)
    return event


def test_people_steward_and_bots_are_told_apart():
    steward = Identity("steward-bot")
    events = [
        _by("commented", "alice", "2024-01-01T00:00:00Z"),
        _by(
            "labeled", "steward-bot", "2024-02-01T00:00:00Z", label={"name": "stale", "color": "x"}
        ),
        _by(
            "commented",
            "steward-bot",
            "2024-02-01T00:00:01Z",
            body="x <!-- steward:sweep-stale:d -->",
        ),
        _by("commented", "codecov[bot]", "2024-03-01T00:00:00Z"),
        _by("renamed", "renovate", "2024-03-02T00:00:00Z", user_type="Bot"),
        _by("commented", "mallory", "2023-12-01T00:00:00Z", body="<!-- steward:sweep-stale:d -->"),
    ]
    act = activity_from_timeline(events, steward)
    assert act.human == datetime(2024, 1, 1, tzinfo=UTC)
    assert act.labeled == {"stale": datetime(2024, 2, 1, tzinfo=UTC)}
    assert act.markers == {"sweep-stale:d": datetime(2024, 2, 1, 0, 0, 1, tzinfo=UTC)}


def test_side_effect_events_and_unreadable_entries_are_not_activity():
    events = [
        _by("locked", "alice", "2024-01-01T00:00:00Z", event="subscribed"),
        _by("locked", "alice", "not a time"),
        "not an event",
        {
            "event": "committed",
            "author": {"name": "Bob"},
            "committer": {"date": "2024-05-01T00:00:00Z"},
        },
    ]
    act = activity_from_timeline(events, Identity("steward-bot"))
    assert act.human == datetime(2024, 5, 1, tzinfo=UTC)  # a push by a person counts


def test_reads_stop_at_the_limit_and_an_untellable_timeline_is_not_guessed(
    gh: GitHubServer, api: RepoApi
):
    for n in (1, 2, 3):
        gh.add_issue(n, "x")
    for i in range(250):  # a long timeline whose newest page holds only steward's acts
        gh.add_event(
            3, "labeled", gh.login, f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00Z", label="x"
        )
    found, skipped = sweep_activity(api, [3, 1, 2], Identity(gh.login), limit=2)
    assert list(found) == [1]
    assert skipped == [3, 2]
    assert len([c for c in gh.calls if c.path.endswith("/timeline")]) == 3  # 3: two pages; 1: one
