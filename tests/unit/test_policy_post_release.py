"""Post-release: each open `pending-release` issue is told the version, unlabelled, closed."""

from __future__ import annotations

from steward.config.loader import parse_config
from steward.domain.events import IssueEvent
from steward.domain.models import Issue, Snapshot
from steward.plan import CloseIssue, Comment, RemoveLabel
from steward.policies import post_release
from steward.policies.post_release import PostReleaseConfig, post_release_plan
from tests.unit._payloads import context, issue_event, release_event

URL = "https://github.com/Codertocat/Hello-World/releases/tag/v3.2.0"


def issue(number: int, labels: tuple[str, ...], action: str = "opened") -> Issue:
    ev = issue_event(action, number=number, labels=labels)
    assert isinstance(ev, IssueEvent)
    return ev.issue


def test_each_pending_issue_gets_comment_label_removal_and_close() -> None:
    pending = (
        issue(10, ("pending-release", "bug", "tracer")),
        issue(11, ("pending-release",)),
        issue(12, ("bug",)),  # not pending: untouched
        issue(13, ("pending-release",), action="closed"),  # closed by "Fixes #13" at merge
    )
    ev = release_event(tag="v3.2.0")
    plan = post_release.evaluate(context(ev, snapshot=Snapshot(pending_release_issues=pending)))
    assert {a.number for a in plan.actions} == {10, 11, 13}
    # Already closed: told and unlabelled, not closed again.
    assert sorted(a.kind for a in plan.actions if a.number == 13) == ["comment", "remove_label"]
    for n in (10, 11):
        mine = [a for a in plan.actions if a.number == n]
        [comment] = [a for a in mine if isinstance(a, Comment)]
        assert "v3.2.0" in comment.body
        assert URL in comment.body
        assert comment.key == "released:v3.2.0"
        assert [a.label for a in mine if isinstance(a, RemoveLabel)] == ["pending-release"]
        assert [a.kind for a in mine if isinstance(a, CloseIssue)] == ["close_issue"]
    # Other labels stay: the only label change is the pending-release removal.
    assert all(a.kind != "add_labels" for a in plan.actions)


def test_prereleases_are_skipped_by_default_and_can_be_included() -> None:
    pending = (issue(10, ("pending-release",)),)
    snap = Snapshot(pending_release_issues=pending)
    pre = release_event(tag="v3.2.0a1", prerelease=True)
    plan = post_release.evaluate(context(pre, snapshot=snap))
    assert plan.actions == []
    assert len(plan.notes) == 1
    cfg = parse_config("post_release:\n  include_prereleases: true\n")
    assert len(post_release.evaluate(context(pre, snapshot=snap, config=cfg)).actions) == 3


def test_issues_not_read_is_a_note_not_an_error() -> None:
    plan = post_release.evaluate(context(release_event(tag="v1.0.0")))
    assert plan.actions == []
    assert plan.notes


def test_pipeline_entry_point_and_keeping_issues_open() -> None:
    cfg = PostReleaseConfig(close_issues=False, message="shipped in {version}: {url}")
    plan = post_release_plan(
        "v9.9.9", "https://example.test/v9", (issue(5, ("pending-release",)),), cfg
    )
    assert [a.kind for a in plan.actions] == ["comment", "remove_label"]
    assert plan.actions[0].body == "shipped in v9.9.9: https://example.test/v9"  # type: ignore[union-attr]
