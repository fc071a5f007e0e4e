"""Release notes read through the one GitHub adapter: a search that shifts while it is paged
(the same PR on two pages) lists each PR once, and a deleted author is GitHub's ``ghost``.

The server is the release-notes test server (every request and answer validated against
GitHub's OpenAPI description), with its search made to repeat the last item of the previous
page at the top of the next, as offset pagination does when results move underneath it.
"""

from __future__ import annotations

from typing import Any

from steward.github.client import GitHubClient
from steward.release.notes.from_github import merged_pulls
from tests.release.releases_server import ReleasesServer


class ShiftingSearch(ReleasesServer):
    def _search(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        status, reply, headers = super()._search(path, query)
        page = int(query.get("page", 1))
        if page > 1:
            _, before, _ = super()._search(path, {**query, "page": str(page - 1)})
            reply["items"] = [before["items"][-1], *reply["items"]]
        return status, reply, headers


def test_a_pr_served_on_two_search_pages_is_listed_once():
    with ShiftingSearch("octo/app") as srv:
        for n in range(1, 151):
            srv.add_pull(n, f"fix: change {n}", "octocat", ["bug"], "2024-02-01T00:00:00Z")
        with GitHubClient("t", srv.url, max_retries=0) as client:
            pulls = merged_pulls(client, "octo/app", "2024-01-01T00:00:00Z")
    assert [p.number for p in pulls] == list(range(1, 151))
    assert srv.calls == [("GET", "/search/issues")] * 2
    assert srv.violations == []


def test_a_deleted_author_is_ghost_and_label_names_are_read():
    with ReleasesServer("octo/app") as srv:
        srv.add_pull(1, "feat: x", "octocat", ["feature"], "2024-02-01T00:00:00Z")
        original = srv._search

        def search(path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
            status, reply, headers = original(path, query)
            reply["items"][0]["user"] = None  # nullable-simple-user
            return status, reply, headers

        srv._search = search  # type: ignore[method-assign]
        with GitHubClient("t", srv.url, max_retries=0) as client:
            [pull] = merged_pulls(client, "octo/app", None)
    assert (pull.author, pull.labels) == ("ghost", ("feature",))
    assert srv.violations == []
