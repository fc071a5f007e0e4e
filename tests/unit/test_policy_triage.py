"""Triage: `triage` on new issues, welcomes for first-timers, a notice on closed issues."""

from __future__ import annotations

import pytest

from steward.config.loader import parse_config
from steward.domain.events import IssueEvent
from steward.domain.models import Snapshot
from steward.policies import triage
from steward.policies.policy import EarlierIssues
from steward.policies.triage import TriageConfig
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


# ---- first issues: GitHub says NONE for most first-time issue authors ----


def _opened(association: str, *, number: int = 1, login: str = "newcomer") -> IssueEvent:
    ev = issue_event("opened", association=association, number=number, login=login)
    assert isinstance(ev, IssueEvent)
    return ev


def _searched(oldest: int | None, login: str = "newcomer") -> Snapshot:
    return Snapshot(first_issues={login.casefold(): oldest})


@pytest.mark.parametrize("oldest", [None, 1])
def test_a_none_author_whose_first_issue_this_is_is_welcomed(oldest: int | None) -> None:
    """Reproduction: a NONE author opening their first issue got no welcome."""
    plan = triage.evaluate(context(_opened("NONE"), snapshot=_searched(oldest)))
    assert [c.key for c in comments(plan)] == ["welcome-issue"]  # None: the index lags


def test_a_none_author_with_an_earlier_issue_is_not_welcomed() -> None:
    plan = triage.evaluate(context(_opened("NONE", number=9), snapshot=_searched(4)))
    assert comments(plan) == []
    assert added(plan, 9) == {"triage"}


def test_logins_compare_case_blind_and_an_author_not_searched_is_not_guessed() -> None:
    ev = _opened("NONE", login="NewComer")
    assert comments(triage.evaluate(context(ev, snapshot=_searched(None, "newcomer"))))
    assert comments(triage.evaluate(context(ev, snapshot=_searched(None, "someone")))) == []


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR"])
def test_known_associations_are_not_welcomed_even_with_a_search(association: str) -> None:
    plan = triage.evaluate(context(_opened(association), snapshot=_searched(None)))
    assert comments(plan) == []


def test_first_timers_are_welcomed_by_association_alone() -> None:
    plan = triage.evaluate(context(_opened("FIRST_TIMER"), snapshot=_searched(3)))
    assert [c.key for c in comments(plan)] == ["welcome-issue"]


def test_the_search_is_declared_only_where_it_can_decide() -> None:
    default = TriageConfig()
    assert list(triage.POLICY.reads(default)) == [EarlierIssues(frozenset({"NONE"}))]
    assert list(triage.POLICY.reads(TriageConfig(first_issue_search=[]))) == []
    assert list(triage.POLICY.reads(TriageConfig(welcome_issue=None))) == []
    # associations welcomed anyway need no search
    cfg = TriageConfig(first_issue_search=["NONE", "FIRST_TIMER"])
    assert list(triage.POLICY.reads(cfg)) == [EarlierIssues(frozenset({"NONE"}))]


def test_first_issue_search_is_configurable() -> None:
    cfg = parse_config("triage:\n  first_issue_search: []\n")
    plan = triage.evaluate(context(_opened("NONE"), snapshot=_searched(None), config=cfg))
    assert comments(plan) == []
