"""`steward handle` on `issues: opened` by people GitHub marks ``NONE``: one search tells
whether it is their first issue here, so the welcome reaches them (section 4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.conftest import Run
from tests.support.github_material import REPO, issue_event
from tests.support.github_server import Fault, GitHubServer

R = f"/repos/{REPO}"
Handle = Callable[..., Run]
WELCOME = "Thanks for opening your first issue here!"


def test_a_first_issue_by_a_none_author_is_welcomed_with_one_search(
    handle: Handle, gh: GitHubServer
):
    """Reproduction: GitHub marks the author NONE, and no welcome was posted."""
    gh.add_issue(1, "Logger drops the sampling rate", author="newcomer")
    payload = issue_event("opened", author="newcomer", association="NONE")

    run = handle("issues", payload)

    assert run.code == 0, run.err
    assert gh.labels_of(1) == ["triage"]
    [body] = gh.comment_bodies(1)
    assert body.startswith(WELCOME)
    assert [c.short for c in gh.calls] == [
        ("GET", "/search/issues"),
        ("GET", f"{R}/issues/1"),
        ("POST", f"{R}/issues/1/labels"),
        ("POST", f"{R}/issues/1/comments"),
    ]
    assert gh.calls[0].query["q"] == f"repo:{REPO} is:issue author:newcomer"
    gh.reset_calls()
    assert handle("issues", payload).code == 0
    assert gh.writes() == []  # a redelivery welcomes nobody twice


def test_a_first_issue_the_search_index_has_not_seen_yet_is_welcomed(
    handle: Handle, gh: GitHubServer
):
    gh.add_issue(1, "Brand new", author="newcomer")
    gh.search_lag.add(1)  # GitHub's search lags behind an issue opened a moment ago
    run = handle("issues", issue_event("opened", author="newcomer", association="NONE"))
    assert run.code == 0, run.err
    [body] = gh.comment_bodies(1)
    assert body.startswith(WELCOME)


def test_a_none_author_with_an_earlier_issue_is_not_welcomed(handle: Handle, gh: GitHubServer):
    gh.add_issue(3, "My first one, last year", author="regular", state="closed")
    gh.add_issue(12, "Another one", author="regular")
    run = handle("issues", issue_event("opened", number=12, author="regular", association="NONE"))
    assert run.code == 0, run.err
    assert gh.comment_bodies(12) == []
    assert gh.labels_of(12) == ["triage"]


@pytest.mark.parametrize("association", ["MEMBER", "OWNER", "COLLABORATOR", "CONTRIBUTOR"])
def test_known_associations_cost_no_search(handle: Handle, gh: GitHubServer, association: str):
    gh.add_issue(1, "x", author="someone")
    run = handle("issues", issue_event("opened", author="someone", association=association))
    assert run.code == 0, run.err
    assert ("GET", "/search/issues") not in [c.short for c in gh.calls]
    assert gh.comment_bodies(1) == []


def test_a_failed_search_still_triages(handle: Handle, gh: GitHubServer):
    gh.faults.append(
        Fault(
            422, {"message": "Validation Failed", "documentation_url": "x"}, path_contains="/search"
        )
    )
    gh.add_issue(1, "x", author="newcomer")
    run = handle("issues", issue_event("opened", author="newcomer", association="NONE"))
    assert run.code == 0, run.err
    assert gh.labels_of(1) == ["triage"]
    assert gh.comment_bodies(1) == []  # not known to be new: not told it is
