"""Triage: `triage` on new issues, welcomes for first-timers, a notice on closed issues."""

from __future__ import annotations

import pytest

from steward.config.loader import parse_config
from steward.policies import triage
from tests.unit._payloads import added, comments, context, issue_event, pr_event


def test_new_issue_gets_triage() -> None:
    plan = triage.evaluate(context(issue_event("opened", labels=("bug",))))
    assert added(plan, 1) == {"triage"}
    assert comments(plan) == []  # the example's author is the OWNER


def test_issue_template_already_labelled_triage_costs_nothing() -> None:
    assert triage.evaluate(context(issue_event("opened", labels=("triage",)))).actions == []


@pytest.mark.parametrize("association", ["FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR"])
def test_first_time_contributors_are_welcomed(association: str) -> None:
    issue_plan = triage.evaluate(context(issue_event("opened", association=association)))
    assert [c.key for c in comments(issue_plan)] == ["welcome-issue"]
    pr_plan = triage.evaluate(context(pr_event("opened", association=association)))
    assert [c.key for c in comments(pr_plan)] == ["welcome-pr"]
    merge_plan = triage.evaluate(context(pr_event("closed", merged=True, association=association)))
    assert [c.key for c in comments(merge_plan)] == ["welcome-merge"]


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "CONTRIBUTOR", "NONE"])
def test_others_are_not_welcomed(association: str) -> None:
    for ev in (
        issue_event("opened", association=association),
        pr_event("opened", association=association),
        pr_event("closed", merged=True, association=association),
    ):
        assert comments(triage.evaluate(context(ev))) == []


def test_unmerged_close_is_not_a_first_merge() -> None:
    ev = pr_event("closed", merged=False, association="FIRST_TIME_CONTRIBUTOR")
    assert triage.evaluate(context(ev)).actions == []


def test_closed_issue_gets_one_visibility_notice() -> None:
    plan = triage.evaluate(context(issue_event("closed")))
    [notice] = comments(plan)
    assert notice.key == "closed-issue"
    assert "closed" in notice.body.lower()
    assert added(plan) == set()


def test_messages_are_configurable_and_can_be_turned_off() -> None:
    cfg = parse_config(
        "triage:\n  welcome_issue: 'Hello newcomer'\n  closed_issue: null\n  label: needs-triage\n"
    )
    plan = triage.evaluate(context(issue_event("opened", association="FIRST_TIMER"), config=cfg))
    assert added(plan) == {"needs-triage"}
    assert [c.body for c in comments(plan)] == ["Hello newcomer"]
    assert triage.evaluate(context(issue_event("closed"), config=cfg)).actions == []
