"""`steward handle` on `merge_group: checks_requested` (section 4): the required statuses go
on the group's commit, judged from the queued pull request, read once."""

from __future__ import annotations

from collections.abc import Callable

from tests.integration.conftest import Run
from tests.support.github_material import REPO
from tests.support.github_server import Fault, GitHubServer
from tests.support.merge_queue import GROUP_SHA, merge_group_payload

R = f"/repos/{REPO}"
TITLE_CTX = "steward/semantic-title"
GATE_CTX = "steward/do-not-merge"
Handle = Callable[..., Run]


def test_a_queued_pull_request_that_passes_lets_the_group_merge(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "feat(logger): add a sampling rate", labels=("feature",))
    payload = merge_group_payload(2)

    run = handle("merge_group", payload)

    assert run.code == 0, run.err
    assert gh.status_of(GROUP_SHA, TITLE_CTX) == ("success", "feat: semantic title")
    assert gh.status_of(GROUP_SHA, GATE_CTX) == ("success", "no blocking label")
    assert [c.short for c in gh.calls] == [
        ("GET", f"{R}/pulls/2"),
        ("GET", f"{R}/commits/{GROUP_SHA}/status"),
        ("POST", f"{R}/statuses/{GROUP_SHA}"),
        ("POST", f"{R}/statuses/{GROUP_SHA}"),
    ]
    assert gh.labels_of(2) == ["feature"]  # nothing but statuses
    gh.reset_calls()
    assert handle("merge_group", payload).code == 0
    assert gh.writes() == []
    assert [c.short for c in gh.calls] == [
        ("GET", f"{R}/pulls/2"),
        ("GET", f"{R}/commits/{GROUP_SHA}/status"),
    ]


def test_do_not_merge_added_while_queued_holds_the_group(handle: Handle, gh: GitHubServer):
    """Reproduction: the generated workflow reported success on every merge group."""
    gh.add_pr(2, "fix: keep the sampling rate", labels=("bug", "do-not-merge"))
    run = handle("merge_group", merge_group_payload(2))
    assert run.code == 0, run.err
    assert gh.status_of(GROUP_SHA, GATE_CTX) == ("failure", "blocked by label: do-not-merge")
    assert gh.status_of(GROUP_SHA, TITLE_CTX) == ("success", "fix: semantic title")


def test_a_group_whose_pull_request_cannot_be_read_is_an_error(handle: Handle, gh: GitHubServer):
    run = handle("merge_group", merge_group_payload(7))  # no such pull request
    assert run.code == 0, run.err
    for ctx in (TITLE_CTX, GATE_CTX):
        assert gh.status_of(GROUP_SHA, ctx) == ("error", "pull request #7 could not be read")


def test_a_dry_run_reads_but_does_not_write(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "not conventional")
    run = handle("merge_group", merge_group_payload(2), "--dry-run", "--json")
    assert run.code == 0, run.err
    assert gh.writes() == []
    assert '"state": "failure"' in run.out
    assert GROUP_SHA in run.out


def test_a_pull_request_github_fails_to_give_is_an_error_not_a_silent_queue(
    handle: Handle, gh: GitHubServer
):
    gh.add_pr(2, "feat: x")
    gh.faults.append(
        Fault(403, {"message": "Resource not accessible by integration"}, path_contains="/pulls/2")
    )
    run = handle("merge_group", merge_group_payload(2))
    assert run.code == 0, run.err
    assert gh.status_of(GROUP_SHA, GATE_CTX) == ("error", "pull request #2 could not be read")
