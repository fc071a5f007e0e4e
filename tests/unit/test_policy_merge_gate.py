"""Merge gate: failing while `do-not-merge` is on, passing once it is removed."""

from __future__ import annotations

from steward.config.loader import parse_config
from steward.domain.models import Snapshot
from steward.engine import decide
from steward.policies import merge_gate
from tests.unit._payloads import context, pr_event, statuses

GATE = "steward/do-not-merge"


def gate(ev, labels_after: frozenset[str], cfg=None):  # type: ignore[no-untyped-def]
    return statuses(merge_gate.evaluate(context(ev, labels_after=labels_after, config=cfg)))


def test_fails_while_blocked_and_passes_once_removed() -> None:
    labeled = pr_event("labeled", label="do-not-merge", labels=("do-not-merge",))
    [failing] = gate(labeled, frozenset({"do-not-merge"}))
    assert (failing.state, failing.context) == ("failure", GATE)
    assert "do-not-merge" in failing.description
    assert len(failing.description) <= 140

    unlabeled = pr_event("unlabeled", label="do-not-merge", labels=("bug",))
    [passing] = gate(unlabeled, frozenset({"bug"}))
    assert (passing.state, passing.context, passing.sha) == ("success", GATE, failing.sha)


def test_configured_block_labels() -> None:
    cfg = parse_config("merge_gate:\n  block_labels: [blocked, on-hold]\n")
    ev = pr_event("synchronize", labels=("on-hold",))
    [status] = gate(ev, frozenset({"on-hold"}), cfg)
    assert status.state == "failure"
    assert "on-hold" in status.description
    [status] = gate(ev, frozenset({"do-not-merge"}), cfg)
    assert status.state == "success"


def test_closed_plans_nothing() -> None:
    assert gate(pr_event("closed", merged=True), frozenset({"do-not-merge"})) == []


def test_a_pr_blocked_in_this_run_fails_the_gate_in_the_same_run() -> None:
    ev = pr_event("opened", body="no issue, no acknowledgement", labels=())
    decision = decide(ev, Snapshot(), parse_config(""))
    by_context = {s.context: s.state for s in statuses(decision.plan)}
    assert by_context[GATE] == "failure"


def test_removing_the_label_by_hand_unblocks() -> None:
    ev = pr_event("unlabeled", label="do-not-merge", labels=("need-issue",))
    decision = decide(ev, Snapshot(), parse_config(""))
    assert {s.context: s.state for s in statuses(decision.plan)} == {GATE: "success"}
