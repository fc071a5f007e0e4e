"""Large PR: one comment suggesting a split when `size/XXL` is applied, never repeated."""

from __future__ import annotations

from steward.config.loader import parse_config
from steward.domain.models import Snapshot
from steward.engine import decide
from steward.policies import large_pr
from tests.unit._payloads import comments, context, files, pr_event


def test_labeled_xxl_gets_one_comment() -> None:
    ev = pr_event("labeled", label="size/XXL", labels=("size/XXL",))
    [comment] = comments(large_pr.evaluate(context(ev, labels_after=frozenset({"size/XXL"}))))
    assert comment.key == "large-pr"
    assert "@Codertocat" in comment.body
    assert "split" in comment.body
    assert comment.full_body.endswith("<!-- steward:large-pr -->")


def test_other_labels_or_already_xxl_plan_nothing() -> None:
    ev = pr_event("labeled", label="bug", labels=("bug", "size/XXL"))
    assert large_pr.evaluate(context(ev, labels_after=frozenset({"bug", "size/XXL"}))).actions == []
    ev = pr_event("synchronize", labels=("size/XXL",))
    assert large_pr.evaluate(context(ev, labels_after=frozenset({"size/XXL"}))).actions == []


def test_size_policy_applying_xxl_comments_in_the_same_run_once() -> None:
    ev = pr_event(
        "opened", labels=(), body="Fixes #1 By submitting this pull request, I confirm that"
    )
    snap = Snapshot(files=files(("src/big.py", 1200, 0)))
    plan = decide(ev, snap, parse_config("")).plan
    assert [c.key for c in comments(plan)] == ["large-pr"]
    # The next event sees size/XXL already on the PR: no second comment is planned.
    again = pr_event(
        "synchronize",
        labels=("size/XXL",),
        body="Fixes #1 By submitting this pull request, I confirm that",
    )
    assert comments(decide(again, snap, parse_config("")).plan) == []
