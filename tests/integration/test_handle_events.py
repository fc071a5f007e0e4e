"""`steward handle` (not a dry run) against the local GitHub, one test per event kind.

Payloads are GitHub's own examples (or variants derived from them and validated against the
official schema); every request and response is checked against GitHub's OpenAPI description
by the server. Each test asserts the repository state afterwards, the exact API calls, and
that a second identical run makes no write. Expectations are worked out by hand from the
playbook's defaults (size bands, label names, messages).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.conftest import Run, Steward
from tests.support.github_material import (
    REPO,
    examples,
    issue_event,
    pull_request_event,
    release_event,
)
from tests.support.github_server import GitHubServer

R = f"/repos/{REPO}"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
TITLE_CTX = "steward/semantic-title"
GATE_CTX = "steward/do-not-merge"
Handle = Callable[..., Run]


def calls(gh: GitHubServer) -> list[tuple[str, str]]:
    return [c.short for c in gh.calls]


def twice(
    handle: Handle, gh: GitHubServer, event: str, payload: dict[str, Any]
) -> list[tuple[str, str]]:
    """Run the event, check a second identical run writes nothing; return the first's calls."""
    first = handle(event, payload)
    assert first.code == 0, first.err
    made = calls(gh)
    gh.reset_calls()
    second = handle(event, payload)
    assert second.code == 0, second.err
    assert gh.writes() == [], f"second run wrote: {gh.writes()}"
    return made


def test_pr_opened_labels_size_area_type_and_passes_both_checks(handle: Handle, gh: GitHubServer):
    gh.add_pr(
        2,
        "feat(logger): add a sampling rate",
        files=[
            ("aws_lambda_powertools/logging/logger.py", 40, 5),  # 45 lines
            ("tests/unit/test_logger.py", 20, 0),  # 20 lines: 65 in all -> size/M; tests area
        ],
    )
    payload = pull_request_event("opened", head_sha=SHA)

    made = twice(handle, gh, "pull_request", payload)

    assert sorted(gh.labels_of(2)) == ["feature", "size/M", "tests"]
    assert gh.status_of(SHA, TITLE_CTX) == ("success", "feat: semantic title")
    assert gh.status_of(SHA, GATE_CTX) == ("success", "no blocking label")
    assert gh.comment_bodies(2) == []
    assert made == [
        ("GET", f"{R}/pulls/2/files"),
        ("GET", f"{R}/issues/2"),
        ("POST", f"{R}/issues/2/labels"),  # all three labels in one call
        ("GET", f"{R}/commits/{SHA}/status"),
        ("POST", f"{R}/statuses/{SHA}"),
        ("POST", f"{R}/statuses/{SHA}"),
    ]
    assert calls(gh) == [  # the second run only reads
        ("GET", f"{R}/pulls/2/files"),
        ("GET", f"{R}/issues/2"),
        ("GET", f"{R}/commits/{SHA}/status"),
    ]


def test_pr_opened_by_first_timer_without_issue_or_acknowledgement(
    handle: Handle, gh: GitHubServer
):
    gh.add_pr(2, "docs: fix a typo", files=[("README.md", 3, 1)], author="newcomer")
    payload = pull_request_event(
        "opened",
        title="docs: fix a typo",
        body="",
        head_sha=SHA,
        author="newcomer",
        association="FIRST_TIME_CONTRIBUTOR",
    )

    made = twice(handle, gh, "pull_request", payload)

    assert sorted(gh.labels_of(2)) == [
        "do-not-merge",
        "documentation",
        "need-acknowledgment",
        "need-issue",
        "size/XS",
    ]
    assert gh.status_of(SHA, GATE_CTX) == ("failure", "blocked by label: do-not-merge")
    assert gh.status_of(SHA, TITLE_CTX) == ("success", "docs: semantic title")
    bodies = gh.comment_bodies(2)
    assert len(bodies) == 3
    assert "No related issue found" in bodies[0]
    assert "@newcomer" in bodies[0]
    assert "Missing acknowledgement section" in bodies[1]
    assert "first contribution" in bodies[2]
    assert [b.rsplit("<!-- steward:", 1)[1] for b in bodies] == [
        "related-issue -->",
        "acknowledgement -->",
        "welcome-pr -->",
    ]
    [label_call] = [c for c in gh.all_calls if c.short == ("POST", f"{R}/issues/2/labels")]
    assert sorted(label_call.body["labels"]) == sorted(gh.labels_of(2))  # one call for all
    assert made.count(("POST", f"{R}/issues/2/labels")) == 1
    assert made.count(("POST", f"{R}/issues/2/comments")) == 3
    # The issue read said it had no comments yet, so none are listed to look for markers.
    assert made.count(("GET", f"{R}/issues/2/comments")) == 0


def test_pr_reopened_grown_to_xxl_swaps_size_and_asks_once_to_split(
    handle: Handle, gh: GitHubServer
):
    gh.add_pr(
        2,
        "feat: add a sampling rate",
        labels=("feature", "size/M"),
        files=[("src/app.py", 1000, 200)],
    )  # 1200 lines -> size/XXL, no area
    gh.add_status(SHA, "success", TITLE_CTX, "feat: semantic title")
    gh.add_status(SHA, "success", GATE_CTX, "no blocking label")
    payload = pull_request_event(
        "reopened", title="feat: add a sampling rate", labels=("feature", "size/M"), head_sha=SHA
    )

    made = twice(handle, gh, "pull_request", payload)

    assert gh.labels_of(2) == ["feature", "size/XXL"]
    [body] = gh.comment_bodies(2)
    assert "Large pull request" in body
    assert "@Codertocat" in body
    assert made == [
        ("GET", f"{R}/pulls/2/files"),
        ("GET", f"{R}/issues/2"),
        ("POST", f"{R}/issues/2/labels"),
        ("GET", f"{R}/commits/{SHA}/status"),  # both statuses already right: no write
        ("POST", f"{R}/issues/2/comments"),  # no comments yet (issue read): none listed
        ("DELETE", f"{R}/issues/2/labels/size%2FM"),  # removals after comments
    ]


def test_pr_title_edited_feat_to_fix_replaces_the_change_type_label(
    handle: Handle, gh: GitHubServer
):
    gh.add_pr(
        2,
        "fix(logger): keep the sampling rate",
        labels=("size/S", "feature"),
        files=[("aws_lambda_powertools/logging/logger.py", 10, 5)],
    )  # 15 -> size/S
    gh.add_status(SHA, "success", TITLE_CTX, "feat: semantic title")
    gh.add_status(SHA, "success", GATE_CTX, "no blocking label")
    payload = pull_request_event(
        "edited",
        title="fix(logger): keep the sampling rate",
        title_from="feat(logger): keep the sampling rate",
        labels=("size/S", "feature"),
        head_sha=SHA,
    )

    made = twice(handle, gh, "pull_request", payload)

    assert gh.labels_of(2) == ["size/S", "bug"]
    assert gh.status_of(SHA, TITLE_CTX) == ("success", "fix: semantic title")
    assert made == [  # a title edit cannot change the diff: files are not listed
        ("GET", f"{R}/issues/2"),
        ("POST", f"{R}/issues/2/labels"),
        ("GET", f"{R}/commits/{SHA}/status"),
        ("POST", f"{R}/statuses/{SHA}"),
        ("DELETE", f"{R}/issues/2/labels/feature"),
    ]


def test_pr_synchronize_recounts_size(handle: Handle, gh: GitHubServer):
    labels = ("size/M", "feature", "tests")
    gh.add_pr(
        2,
        "feat: add a sampling rate",
        labels=labels,
        files=[
            ("src/app.py", 100, 20),
            ("tests/test_app.py", 30, 0),  # 150 lines -> size/L
        ],
    )
    gh.add_status(SHA, "success", TITLE_CTX, "feat: semantic title")
    gh.add_status(SHA, "success", GATE_CTX, "no blocking label")
    payload = pull_request_event(
        "synchronize", title="feat: add a sampling rate", labels=labels, head_sha=SHA
    )

    made = twice(handle, gh, "pull_request", payload)

    assert gh.labels_of(2) == ["feature", "tests", "size/L"]
    assert made == [
        ("GET", f"{R}/pulls/2/files"),
        ("GET", f"{R}/issues/2"),
        ("POST", f"{R}/issues/2/labels"),
        ("GET", f"{R}/commits/{SHA}/status"),
        ("DELETE", f"{R}/issues/2/labels/size%2FM"),
    ]


def test_pr_labeled_xxl_posts_one_large_pr_comment(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "feat: big", labels=("feature", "size/XXL"))
    gh.add_status(SHA, "success", GATE_CTX, "no blocking label")
    payload = pull_request_event(
        "labeled", title="feat: big", labels=("feature", "size/XXL"), label="size/XXL", head_sha=SHA
    )

    made = twice(handle, gh, "pull_request", payload)
    handle("pull_request", payload)  # a third delivery changes nothing either

    [body] = gh.comment_bodies(2)
    assert "Large pull request" in body
    assert made == [
        ("GET", f"{R}/commits/{SHA}/status"),
        ("GET", f"{R}/issues/2/comments"),
        ("POST", f"{R}/issues/2/comments"),
    ]


def test_pr_unlabeled_do_not_merge_turns_the_merge_gate_green(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "feat: x", labels=("feature",))
    gh.add_status(SHA, "failure", GATE_CTX, "blocked by label: do-not-merge")
    payload = pull_request_event(
        "unlabeled", title="feat: x", labels=("feature",), label="do-not-merge", head_sha=SHA
    )

    made = twice(handle, gh, "pull_request", payload)

    assert gh.status_of(SHA, GATE_CTX) == ("success", "no blocking label")
    assert made == [("GET", f"{R}/commits/{SHA}/status"), ("POST", f"{R}/statuses/{SHA}")]


def test_pr_merged_labels_its_related_issue_pending_release(handle: Handle, gh: GitHubServer):
    gh.add_issue(1, "Logger drops the sampling rate", labels=("bug",))
    gh.add_pr(2, "fix(logger): keep the sampling rate", labels=("bug",), state="closed")
    payload = pull_request_event(
        "closed", merged=True, title="fix(logger): keep it", body="Fixes #1", labels=("bug",)
    )

    made = twice(handle, gh, "pull_request", payload)

    assert gh.labels_of(1) == ["bug", "pending-release"]
    assert gh.labels_of(2) == ["bug"]
    assert made == [("GET", f"{R}/issues/1"), ("POST", f"{R}/issues/1/labels")]
    assert calls(gh) == [("GET", f"{R}/issues/1")]


def test_pr_merged_without_issue_tells_the_team_once(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "fix: x", state="closed")
    payload = pull_request_event("closed", merged=True, title="fix: x", body="no issue here")

    made = twice(handle, gh, "pull_request", payload)

    [body] = gh.comment_bodies(2)
    assert "@maintainers" in body
    assert "pending-release" in body
    assert made == [("GET", f"{R}/issues/2/comments"), ("POST", f"{R}/issues/2/comments")]


def test_pr_closed_unmerged_does_nothing(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "fix: x", state="closed")
    run = handle("pull_request", pull_request_event("closed", merged=False, body="Fixes #1"))
    assert run.code == 0
    assert "nothing to change" in run.out
    assert gh.calls == []


def test_issue_opened_by_first_timer_gets_triage_and_a_welcome(handle: Handle, gh: GitHubServer):
    gh.add_issue(1, "Logger drops the sampling rate")
    payload = issue_event("opened", association="FIRST_TIME_CONTRIBUTOR")

    made = twice(handle, gh, "issues", payload)

    assert gh.labels_of(1) == ["triage"]
    [body] = gh.comment_bodies(1)
    assert body.startswith("Thanks for opening your first issue here!")
    assert made == [
        ("GET", f"{R}/issues/1"),
        ("POST", f"{R}/issues/1/labels"),
        ("POST", f"{R}/issues/1/comments"),  # the issue read showed no comments to search
    ]


def test_issue_labeled_needs_nothing(handle: Handle, gh: GitHubServer):
    gh.add_issue(1, "x", labels=("bug",))
    run = handle("issues", issue_event("labeled", labels=("bug",), label="bug"))
    assert run.code == 0
    assert "nothing to change" in run.out
    assert gh.calls == []


def test_issue_closed_gets_one_visibility_notice(handle: Handle, gh: GitHubServer):
    gh.add_issue(1, "x", state="closed")
    made = twice(handle, gh, "issues", issue_event("closed"))
    [body] = gh.comment_bodies(1)
    assert "COMMENT VISIBILITY WARNING" in body
    assert made == [("GET", f"{R}/issues/1/comments"), ("POST", f"{R}/issues/1/comments")]


def test_ignored_event_makes_no_call(handle: Handle, gh: GitHubServer):
    star = examples("star", "created")[-1]
    run = handle("star", star)
    assert run.code == 0
    assert run.out.strip() == "ignored: event 'star' is not handled"
    assert gh.calls == []


def test_ignored_bot_author_makes_no_call(handle: Handle, gh: GitHubServer):
    gh.add_pr(7, "chore(deps): bump x", files=[("poetry.lock", 900, 900)])
    payload = pull_request_event(
        "opened", number=7, title="chore(deps): bump x", author="dependabot[bot]", author_kind="Bot"
    )
    run = handle("pull_request", payload)
    assert run.code == 0
    assert run.out.strip() == "ignored: author dependabot[bot] is in ignore_authors"
    assert gh.calls == []


def test_release_published_closes_the_twenty_pending_release_issues(
    handle: Handle, gh: GitHubServer
):
    pending = list(range(10, 30))  # 20 issues
    for n in pending:
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    gh.add_issue(30, "not pending", labels=("bug",))
    gh.add_issue(31, "already closed", labels=("pending-release",), state="closed")
    gh.add_pr(32, "feat: a PR is not an issue", labels=("pending-release",))
    payload = release_event("published", tag="v3.2.0")

    made = twice(handle, gh, "release", payload)

    link = f"[v3.2.0](https://github.com/{REPO}/releases/tag/v3.2.0)"
    for n in pending:
        assert gh.labels_of(n) == ["bug"]
        assert gh.issues[n].state == "closed"
        assert gh.issues[n].state_reason == "completed"
        [body] = gh.comment_bodies(n)
        assert link in body
    assert gh.labels_of(30) == ["bug"]
    assert gh.comment_bodies(30) == []
    # Closed by "Fixes #31" at merge, it still waits for its notice: told, label off, closed.
    [body31] = gh.comment_bodies(31)
    assert link in body31
    assert gh.labels_of(31) == []
    assert gh.issues[31].state == "closed"
    assert gh.issues[32].state == "open"
    assert gh.labels_of(32) == ["pending-release"]
    order = sorted([*pending, 31], reverse=True)  # GitHub lists newest first
    assert made == [
        ("GET", f"{R}/issues"),
        # the list read gave each issue's comment count (0): no comment listing needed
        *[("POST", f"{R}/issues/{n}/comments") for n in order],
        # closed already: label only, and only once it has been told (the label is what
        # lists it for a retry if the comment fails)
        ("DELETE", f"{R}/issues/31/labels/pending-release"),
        # one PATCH closes each issue and takes its label off (`labels`: the new set)
        *[("PATCH", f"{R}/issues/{n}") for n in order if n != 31],
    ]
    assert gh.all_calls[0].query == {
        "per_page": "100",
        "state": "all",
        "labels": "pending-release",
    }
    assert calls(gh) == [("GET", f"{R}/issues")]  # the second run finds nothing pending


def test_dry_run_with_a_token_reads_but_never_writes(handle: Handle, gh: GitHubServer):
    gh.add_pr(2, "feat: x", files=[("src/app.py", 5, 0)])
    run = handle(
        "pull_request", pull_request_event("opened", title="feat: x", head_sha=SHA), "--dry-run"
    )
    assert run.code == 0, run.err
    assert "#2: add labels size/XS, feature" in run.out
    assert gh.writes() == []
    assert calls(gh) == [("GET", f"{R}/pulls/2/files")]
    assert gh.labels_of(2) == []


def test_unreadable_files_json_is_one_clear_error(steward: Steward, tmp_path: Path):
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(pull_request_event("opened", title="feat: x")), "utf-8")
    files = tmp_path / "files.json"
    files.write_bytes(b"\xff\xfe[")  # neither UTF-8 nor JSON
    run = steward(
        "handle", "--event-name", "pull_request", "--payload", str(payload),
        "--files", str(files), "--dry-run",
    )  # fmt: skip
    assert run.code == 2  # an input the user must change
    assert run.err.strip() == f"error: {files}: changed files is not UTF-8: invalid start byte"
    assert "Traceback" not in run.err
