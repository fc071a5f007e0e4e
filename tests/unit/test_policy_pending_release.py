"""Pending release: a merged PR's related issue gets `pending-release`."""

from __future__ import annotations

from steward.config.loader import parse_config
from steward.domain.events import IssueEvent
from steward.domain.models import Snapshot
from steward.policies import pending_release
from tests.unit._payloads import added, comments, context, issue_event, kinds, pr_event


def merged(body: str, **kw):  # type: ignore[no-untyped-def]
    return pr_event("closed", merged=True, body=body, **kw)


def test_merged_pr_labels_its_related_issues() -> None:
    plan = pending_release.evaluate(context(merged("**Issue number:** #12\n\nAlso fixes #13")))
    assert kinds(plan) == [("add_labels", 12), ("add_labels", 13)]
    assert added(plan, 12) == {"pending-release"} == added(plan, 13)


def test_issue_already_pending_costs_nothing() -> None:
    ev = issue_event("opened", number=12, labels=("bug", "pending-release"))
    assert isinstance(ev, IssueEvent)
    snap = Snapshot(issues={12: ev.issue})
    assert pending_release.evaluate(context(merged("Fixes #12"), snapshot=snap)).actions == []


def test_no_related_issue_tells_the_team_once() -> None:
    cfg = parse_config("pending_release:\n  maintainers_team: '@aws-powertools/maintainers'\n")
    plan = pending_release.evaluate(context(merged("no issue here"), config=cfg))
    [comment] = comments(plan)
    assert comment.number == 2  # on the PR itself
    assert "@aws-powertools/maintainers" in comment.body
    assert comment.key == "pending-release-no-issue"


def test_closed_without_merge_plans_nothing() -> None:
    ev = pr_event("closed", merged=False, body="Fixes #12")
    assert pending_release.evaluate(context(ev)).actions == []


def test_other_repositories_issues_are_not_labelled() -> None:
    plan = pending_release.evaluate(context(merged("Fixes other/repo#12")))
    assert [c.key for c in comments(plan)] == ["pending-release-no-issue"]


def test_configured_label() -> None:
    cfg = parse_config("pending_release:\n  label: awaiting-release\n")
    assert added(pending_release.evaluate(context(merged("Fixes #4"), config=cfg))) == {
        "awaiting-release"
    }


def test_a_pr_naming_itself_is_not_its_own_issue() -> None:
    plan = pending_release.evaluate(context(merged("Fixes #2")))  # the example PR is #2
    assert [c.key for c in comments(plan)] == ["pending-release-no-issue"]
    assert added(plan) == set()


def test_a_longer_number_labels_no_issue_and_is_reported() -> None:
    """`Fixes #12345678901` once labelled #123456789 (and the release closed it), and
    `Fixes #123abc` labelled #123 (#16): a reference is read whole or not at all."""
    for body in ("Fixes #12345678901", "Fixes #123abc", "**Issue number:** #12345678901"):
        plan = pending_release.evaluate(context(merged(body)))
        assert added(plan) == set(), body
        assert [c.key for c in comments(plan)] == ["pending-release-no-issue"], body
