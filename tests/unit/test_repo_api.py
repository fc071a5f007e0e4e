"""`RepoApi`: paths quoted for GitHub, and the list-files response parsed strictly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from steward.errors import PayloadError
from steward.github.client import GitHubClient, path
from steward.github.records import Label
from steward.github.repo_api import RepoApi, files_from_api
from tests.support.github_material import REPO
from tests.support.github_server import GitHubServer


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server
        server.assert_clean()


def test_label_names_with_slash_and_space_are_quoted():
    assert path("/x/{name}", name="size/XXL") == "/x/size%2FXXL"
    assert path("/x/{name}", name="help wanted") == "/x/help%20wanted"


@pytest.mark.parametrize("name", ["o", "o/r/x", "/r", "o/"])
def test_repository_must_be_owner_slash_name(name: str):
    with pytest.raises(PayloadError, match="OWNER/NAME"):
        RepoApi(GitHubClient("t"), name)


def test_files_from_api_reads_githubs_shape():
    files = files_from_api(
        [
            {
                "filename": "b.py",
                "additions": 1,
                "deletions": 2,
                "status": "renamed",
                "previous_filename": "a.py",
            },
        ]
    )
    assert [(f.filename, f.additions, f.deletions, f.previous_filename) for f in files] == [
        ("b.py", 1, 2, "a.py")
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"filename": "x"}, "must be a JSON list"),
        ([{"additions": 1, "deletions": 1}], r"files\[0\].filename"),
        ([{"filename": "x", "additions": "1", "deletions": 0}], "must be integers"),
    ],
)
def test_files_from_api_rejects_other_shapes(items: object, message: str):
    with pytest.raises(PayloadError, match=message):
        files_from_api(items)  # type: ignore[arg-type]


def test_operations_round_trip_through_the_spec_checked_server(gh: GitHubServer):
    gh.add_pr(3, "feat: x", files=[(f"f{i}.py", 1, 0) for i in range(130)])
    gh.add_issue(4, "done", labels=("pending-release", "help wanted"))
    with GitHubClient("test-token", gh.url) as client:
        api = RepoApi(client, REPO)
        assert len(api.pr_files(3)) == 130  # two pages of 100
        assert [i.number for i in api.open_issues_with_label("pending-release")] == [4]
        api.remove_label(4, "help wanted")
        api.remove_label(4, "help wanted")  # already gone: GitHub's 404 is not an error
        assert gh.labels_of(4) == ["pending-release"]
        api.close_issue(4, "completed")
        assert api.issue(4).state == "closed"
        assert api.open_issues_with_label("pending-release") == []


@pytest.mark.parametrize(
    ("value", "encoded"), [("..", "%2E%2E"), (".", "%2E"), ("a/../b", "a%2F..%2Fb")]
)
def test_dot_segments_are_encoded_so_no_path_leaves_its_prefix(value: str, encoded: str):
    assert path("/repos/{owner}/x", owner=value) == f"/repos/{encoded}/x"


@pytest.mark.parametrize("name", ["../evil", "o/..", "o/r/x", "o /r"])
def test_the_adapter_refuses_names_outside_githubs_rules(name: str):
    with pytest.raises(PayloadError, match="OWNER/NAME"):
        RepoApi(GitHubClient("t"), name)


def test_negative_counts_in_changed_files_are_zero(caplog: pytest.LogCaptureFixture):
    [f] = files_from_api([{"filename": "a.py", "additions": -5, "deletions": 2}])
    assert (f.additions, f.deletions) == (0, 2)
    assert "changed file 'a.py': additions is -5; counted as 0" in caplog.text


def test_a_listing_that_serves_an_item_twice_yields_it_once(gh: GitHubServer):
    for n in range(1, 131):
        gh.add_issue(n, f"i{n}", labels=("pending-release",))
    gh.page_overlap = 3
    with GitHubClient("test-token", gh.url) as client:
        api = RepoApi(client, REPO)
        numbers = [i.number for i in api.issues_with_label("pending-release")]
        assert sorted(numbers) == list(range(1, 131))
        assert len(api.open_items()) == 130


def test_labels_are_normalised_and_nameless_ones_skipped(gh: GitHubServer):
    gh.add_label("bug", "d73a4a", None)
    gh.add_label("Help Wanted", "008672", "extra attention")
    with GitHubClient("test-token", gh.url) as client:
        labels = RepoApi(client, REPO).labels()
    assert labels == [
        Label("bug", "d73a4a", None),
        Label("Help Wanted", "008672", "extra attention"),
    ]


# ---- the reads section 4 added: issue search, timeline, one pull request, the token user ----


def test_first_issue_by_is_one_search_kept_once_found(gh: GitHubServer):
    gh.add_issue(3, "first", author="newcomer")
    gh.add_issue(8, "second", author="NewComer")
    gh.add_issue(5, "someone else's")
    gh.add_pr(6, "a PR is not an issue", author="newcomer")
    with GitHubClient("test-token", gh.url) as client:
        api = RepoApi(client, REPO)
        assert api.first_issue_by("newcomer") == 3
        assert api.first_issue_by("NEWCOMER") == 3  # logins compare case-blind: kept
        assert api.first_issue_by("stranger") is None
        assert api.first_issue_by("stranger") is None  # not found is not kept: read again
    searches = [c for c in gh.calls if c.path == "/search/issues"]
    assert [c.query for c in searches] == [
        {
            "q": f"repo:{REPO} is:issue author:newcomer",
            "sort": "created",
            "order": "asc",
            "per_page": "1",
        },
        {
            "q": f"repo:{REPO} is:issue author:stranger",
            "sort": "created",
            "order": "asc",
            "per_page": "1",
        },
        {
            "q": f"repo:{REPO} is:issue author:stranger",
            "sort": "created",
            "order": "asc",
            "per_page": "1",
        },
    ]


@pytest.mark.parametrize("login", ["a b", "x author:y", "dependabot[bot]", "-x", "a" * 40, ""])
def test_only_a_github_login_goes_into_a_search(login: str):
    with pytest.raises(PayloadError, match="not a GitHub login"):
        RepoApi(GitHubClient("t", "http://127.0.0.1:9"), REPO).first_issue_by(login)


@pytest.mark.parametrize(("events", "reads", "complete"), [(3, 1, True), (150, 2, True)])
def test_a_short_timeline_is_read_whole(gh: GitHubServer, events: int, reads: int, complete: bool):
    gh.add_issue(1, "x")
    for i in range(events):
        gh.add_event(
            1, "labeled", "octocat", f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z", label="bug"
        )
    with GitHubClient("test-token", gh.url) as client:
        got, whole = RepoApi(client, REPO).timeline(1)
    assert (len(got), whole) == (events, complete)
    assert len(gh.reads()) == reads


def _label_events(gh: GitHubServer, n: int) -> None:
    """``n`` `labeled` events on issue 1, a minute apart from 2024-01-01T00:00Z."""
    for i in range(n):
        gh.add_event(
            1, "labeled", "octocat", f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00Z", label="bug"
        )


def test_a_long_timeline_costs_two_reads_first_and_last_page(gh: GitHubServer):
    gh.add_issue(1, "x")
    _label_events(gh, 250)
    with GitHubClient("test-token", gh.url) as client:
        got, whole = RepoApi(client, REPO).timeline(1)
    assert whole is False
    assert len(got) == 50  # the newest page
    assert got[-1]["created_at"] == "2024-01-01T04:09:00Z"
    assert [c.query.get("page") for c in gh.calls] == [None, "3"]


class _OddLastPage(GitHubServer):
    """A server whose ``rel="last"`` link names its page with `last` (percent-encoded)."""

    last = "3"

    def _page(
        self, items: list[Any], path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        status, chunk, headers = super()._page(items, path, query)
        if "link" in headers:
            odd = quote(self.last)
            headers["link"] = re.sub(
                r'page=[0-9]+>; rel="last"', f'page={odd}>; rel="last"', headers["link"]
            )
        return status, chunk, headers


@pytest.mark.parametrize(
    "last",
    [
        "\u00b2",  # superscript two: `isdigit()` is true, `int()` raises
        "\u0662",  # Arabic-Indic two: `int()` reads 2
        "\uff12",  # fullwidth two
        "9" * 5000,  # more digits than `int()` converts
        "2x",
    ],
)
def test_a_last_page_that_is_no_ascii_number_is_not_believed(last: str):
    """#16: the page in a ``rel="last"`` link is ASCII digits or no page: the timeline is
    read as one page, as when the link is missing, never a page read from other digits."""
    with _OddLastPage() as gh:
        gh.last = last
        gh.add_issue(1, "x")
        _label_events(gh, 250)
        with GitHubClient("test-token", gh.url) as client:
            got, whole = RepoApi(client, REPO).timeline(1)
        assert (len(got), whole) == (100, True)
        assert [c.query.get("page") for c in gh.calls] == [None]
        gh.assert_clean()


def test_one_pull_request_and_the_token_user_read_once(gh: GitHubServer):
    gh.add_pr(2, "feat: x", labels=("do-not-merge",))
    with GitHubClient("test-token", gh.url) as client:
        api = RepoApi(client, REPO)
        pr = api.pull(2)
        assert (pr.number, pr.title, pr.labels, pr.state) == (
            2,
            "feat: x",
            ("do-not-merge",),
            "open",
        )
        assert pr.head_sha == gh.issues[2].head_sha
        assert api.authenticated_login() == api.authenticated_login() == gh.login
    assert gh.reads() == [("GET", f"/repos/{REPO}/pulls/2"), ("GET", "/user")]


def test_open_items_carry_when_they_were_opened(gh: GitHubServer):
    gh.add_issue(1, "x").created_at = "2024-02-03T04:05:06Z"
    with GitHubClient("test-token", gh.url) as client:
        [item] = RepoApi(client, REPO).open_items()
    assert item.created_at is not None
    assert item.created_at.isoformat() == "2024-02-03T04:05:06+00:00"
