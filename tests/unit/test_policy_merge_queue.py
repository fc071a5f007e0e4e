"""Merge queue: on `merge_group: checks_requested` the merge gate and the title check report
their statuses on the group's commit, judged from the queued pull request as read now."""

from __future__ import annotations

from dataclasses import replace

import pytest

from steward.config.loader import parse_config
from steward.domain.events import MergeGroupEvent, PullRequestEvent, parse_event
from steward.domain.models import PullRequest, Snapshot
from steward.engine import decide
from steward.plan import SetStatus
from steward.policies.policy import QueuedPulls
from steward.shell.snapshot import needed
from tests.support.merge_queue import GROUP_SHA, merge_group_payload
from tests.unit._payloads import pr_event

CONFIG = parse_config("")
TITLE, GATE = "steward/semantic-title", "steward/do-not-merge"


def group(number: int | None = 2, **kw: str) -> MergeGroupEvent:
    ev = parse_event("merge_group", merge_group_payload(number, **kw))
    assert isinstance(ev, MergeGroupEvent)
    return ev


def queued(
    title: str = "feat(logger): add a sampling rate", labels: tuple[str, ...] = ()
) -> PullRequest:
    ev = pr_event("opened", title=title, labels=labels)
    assert isinstance(ev, PullRequestEvent)
    return replace(ev.pull_request, number=2)


def statuses_of(ev: MergeGroupEvent, *pulls: PullRequest) -> dict[str, SetStatus]:
    snap = Snapshot(pulls={p.number: p for p in pulls})
    decision = decide(ev, snap, CONFIG)
    assert set(decision.policies) == {"semantic_title", "merge_gate"}
    found = {a.context: a for a in decision.plan.actions if isinstance(a, SetStatus)}
    assert len(found) == len(decision.plan.actions)  # statuses only: no label, no comment
    return found


def test_a_clean_queued_pull_request_passes_both_checks_on_the_groups_commit() -> None:
    found = statuses_of(group(), queued())
    assert {c: (s.sha, s.state, s.number) for c, s in found.items()} == {
        TITLE: (GROUP_SHA, "success", 2),
        GATE: (GROUP_SHA, "success", 2),
    }


def test_a_pull_request_labelled_do_not_merge_while_queued_fails_the_group() -> None:
    """Reproduction: the generated workflow reported success on every group, blindly."""
    found = statuses_of(group(), queued(labels=("do-not-merge",)))
    assert (found[GATE].state, found[GATE].description) == (
        "failure",
        "blocked by label: do-not-merge",
    )
    assert found[TITLE].state == "success"


@pytest.mark.parametrize(
    ("title", "state"), [("update readme", "failure"), ("WIP: feat: later", "pending")]
)
def test_the_title_is_judged_as_on_the_pull_request(title: str, state: str) -> None:
    found = statuses_of(group(), queued(title=title))
    assert found[TITLE].state == state
    assert found[GATE].state == "success"


def test_a_group_steward_cannot_judge_is_an_error_not_a_pass() -> None:
    unread = statuses_of(group())  # the pull request could not be read
    assert {c: (s.state, s.description) for c, s in unread.items()} == {
        TITLE: ("error", "pull request #2 could not be read"),
        GATE: ("error", "pull request #2 could not be read"),
    }
    nameless = statuses_of(group(head_ref="refs/heads/main"))
    assert {s.state for s in nameless.values()} == {"error"}
    assert {s.description for s in nameless.values()} == {"merge group names no pull request"}


def test_configured_contexts_and_disabled_policies() -> None:
    cfg = parse_config(
        "merge_gate:\n  status_context: ci/gate\nsemantic_title:\n  enabled: false\n"
    )
    plan = decide(group(), Snapshot(pulls={2: queued()}), cfg).plan
    assert [(a.context, a.sha) for a in plan.actions if isinstance(a, SetStatus)] == [
        ("ci/gate", GROUP_SHA)
    ]


def test_the_queued_pull_request_is_the_only_read() -> None:
    assert needed(group(), CONFIG) == [QueuedPulls()]
