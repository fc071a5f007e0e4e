"""Sweep: reminders for `revisit-in-3-months`, `stale` after 60 idle days, close 7 days on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from steward.config.loader import parse_config
from steward.domain.events import IssueEvent
from steward.domain.models import Activity, Issue
from steward.errors import ConfigError
from steward.plan import Plan
from steward.policies.sweep import SweepConfig, activity_wanted, plan_sweep
from tests.unit._payloads import added, comments, issue_event, kinds

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEAM = "@aws-powertools/maintainers"


def item(number: int, idle_days: float, labels: tuple[str, ...] = (), state: str = "open") -> Issue:
    ev = issue_event("opened", number=number, labels=labels)
    assert isinstance(ev, IssueEvent)
    return replace(ev.issue, updated_at=NOW - timedelta(days=idle_days), state=state)


def sweep(*items: Issue, cfg: SweepConfig | None = None) -> Plan:
    return plan_sweep(items, NOW, cfg or SweepConfig(), TEAM)


def test_payload_updated_at_is_parsed() -> None:
    ev = issue_event("opened", updated_at="2019-05-15T15:20:18Z")
    assert isinstance(ev, IssueEvent)
    assert ev.issue.updated_at == datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)


def test_idle_for_60_days_becomes_stale_with_one_comment() -> None:
    plan = sweep(item(1, 59.9), item(2, 60))
    assert kinds(plan) == [("add_labels", 2), ("comment", 2)]
    assert added(plan, 2) == {"stale"}
    assert TEAM in comments(plan)[0].body


def test_stale_item_closes_after_7_more_idle_days() -> None:
    plan = sweep(item(3, 6.9, ("stale",)), item(4, 7, ("stale", "bug")))
    assert kinds(plan) == [("comment", 4), ("close_issue", 4)]
    # Closing keeps the other labels; nothing is added or removed.
    assert [a.kind for a in plan.actions if "label" in a.kind] == []


def test_revisit_items_get_a_reminder_after_90_days_never_stale() -> None:
    plan = sweep(item(5, 89, ("revisit-in-3-months",)), item(6, 90, ("revisit-in-3-months",)))
    assert kinds(plan) == [("comment", 6)]
    [reminder] = comments(plan)
    assert TEAM in reminder.body
    assert "revisit-in-3-months" in reminder.body
    assert added(plan) == set()


@pytest.mark.parametrize("label", ["pending-release", "RFC", "help wanted", "do-not-merge"])
def test_exempt_labels_are_never_touched(label: str) -> None:
    assert sweep(item(7, 400, (label,)), item(8, 400, (label, "stale"))).actions == []
    assert sweep(item(9, 400, (label, "revisit-in-3-months"))).actions == []


def test_closed_and_undated_items_are_skipped() -> None:
    undated = replace(item(10, 0), updated_at=None)
    plan = sweep(item(11, 400, state="closed"), undated)
    assert plan.actions == []
    assert len(plan.notes) == 1


def test_rerun_after_acting_plans_nothing() -> None:
    # Acting moves `updated_at` to now (GitHub does this for labels and comments).
    first = sweep(item(12, 70))
    assert added(first, 12) == {"stale"}
    after = item(12, 0, ("stale",))
    assert sweep(after).actions == []


def test_rerun_in_the_same_state_plans_the_same_keyed_comment() -> None:
    a, b = sweep(item(13, 70)), sweep(item(13, 70))
    assert [c.key for c in comments(a)] == [c.key for c in comments(b)]
    # Going idle again later (a new activity date) is a new comment.
    revived = replace(item(13, 0), updated_at=NOW + timedelta(days=30))
    later = plan_sweep([revived], NOW + timedelta(days=100), SweepConfig(), TEAM)
    assert added(later) == {"stale"}
    assert [c.key for c in comments(later)] != [c.key for c in comments(a)]


def test_config_days_labels_and_messages() -> None:
    cfg = parse_config(
        "sweep:\n  days_before_stale: 10\n  stale_label: inactive\n"
        "  stale_message: '{team} idle {days}d'\n  exempt_labels: []\n"
    ).sweep
    plan = sweep(item(14, 10, ("pending-release",)), cfg=cfg)
    assert added(plan) == {"inactive"}
    assert comments(plan)[0].body == f"{TEAM} idle 10d"


def test_disabled_and_bad_config() -> None:
    assert sweep(item(15, 400), cfg=SweepConfig(enabled=False)).actions == []
    with pytest.raises(ConfigError, match=r"sweep\.days_before_stale"):
        parse_config("sweep:\n  days_before_stale: 0\n")


def test_naive_now_is_refused_and_offsets_are_respected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_sweep([item(16, 100)], NOW.replace(tzinfo=None), SweepConfig(), TEAM)
    plus2 = NOW.astimezone(timezone(timedelta(hours=2)))
    assert kinds(plan_sweep([item(16, 60)], plus2, SweepConfig(), TEAM))[0] == ("add_labels", 16)


def test_stale_is_in_the_default_taxonomy() -> None:
    assert "stale" in parse_config("").label_names()


# ---- the fair clock: only a person's activity restarts it ----


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def opened(
    number: int, created_days: float, updated_days: float, labels: tuple[str, ...] = ()
) -> Issue:
    return replace(item(number, updated_days, labels), created_at=ago(created_days))


def test_a_stale_item_closes_7_days_after_marking_despite_steward_and_bot_activity() -> None:
    """Reproduction: steward's (or a bot's) comment after the marking moved `updated_at` and
    restarted the 7-day wait, so the item never closed on time."""
    stale = opened(20, 200, 2, ("stale",))  # something touched it 2 days ago
    activity = Activity(human=ago(75), labeled={"stale": ago(8)})  # marked 8 days ago
    assert sweep(stale).actions == []  # judged by updated_at: the wait restarted
    plan = plan_sweep([stale], NOW, SweepConfig(), TEAM, {20: activity})
    assert kinds(plan) == [("comment", 20), ("close_issue", 20)]
    assert comments(plan)[0].key == f"sweep-close:{ago(8):%Y-%m-%d}"


def test_a_persons_reply_after_marking_restarts_the_wait() -> None:
    stale = opened(21, 200, 2, ("stale",))
    activity = Activity(human=ago(2), labeled={"stale": ago(8)})
    assert plan_sweep([stale], NOW, SweepConfig(), TEAM, {21: activity}).actions == []


def test_bot_activity_alone_does_not_keep_an_item_fresh() -> None:
    """Only a bot (or steward) acted in the last 60 days: the item goes stale."""
    busy = opened(22, 300, 1)
    plan = plan_sweep([busy], NOW, SweepConfig(), TEAM, {22: Activity(human=ago(61))})
    assert added(plan, 22) == {"stale"}
    assert comments(plan)[0].key == f"sweep-stale:{ago(61):%Y-%m-%d}"
    # No person ever acted after opening it: the clock runs from its opening.
    never = plan_sweep([busy], NOW, SweepConfig(), TEAM, {22: Activity()})
    assert comments(never)[0].key == f"sweep-stale:{ago(300):%Y-%m-%d}"
    fresh = plan_sweep([busy], NOW, SweepConfig(), TEAM, {22: Activity(human=ago(59))})
    assert fresh.actions == []


def test_stewards_own_reminder_restarts_the_revisit_clock_and_bots_do_not() -> None:
    revisit = opened(23, 400, 3, ("revisit-in-3-months",))
    reminded = Activity(human=ago(200), markers={f"sweep-revisit:{ago(200):%Y-%m-%d}": ago(100)})
    # steward reminded 100 days ago; a bot commented 3 days ago: due again
    plan = plan_sweep([revisit], NOW, SweepConfig(), TEAM, {23: reminded})
    assert [c.key for c in comments(plan)] == [f"sweep-revisit:{ago(100):%Y-%m-%d}"]
    recent = Activity(human=ago(200), markers={"sweep-revisit:x": ago(30)})
    assert plan_sweep([revisit], NOW, SweepConfig(), TEAM, {23: recent}).actions == []


def test_only_items_the_rule_could_act_on_have_their_timeline_read() -> None:
    items = [
        opened(30, 400, 100),  # idle by updated_at: acted on without a read
        opened(31, 30, 1),  # opened 30 days ago: too young for any rule
        opened(32, 400, 1),  # old, updated yesterday by someone: read
        opened(33, 400, 5, ("stale",)),  # stale, updated within the close wait: read first
        opened(34, 400, 10, ("stale",)),  # stale, idle past the wait: closes without a read
        opened(35, 400, 1, ("pending-release",)),  # exempt
        opened(36, 400, 2, ("revisit-in-3-months",)),  # revisit, updated lately: read
        opened(37, 400, 3),  # old, updated 3 days ago: read (longest idle first among them)
        replace(opened(38, 400, 1), state="closed"),
        replace(opened(39, 400, 1), created_at=None),  # age unknown: read
    ]
    assert activity_wanted(items, NOW, SweepConfig()) == [33, 36, 37, 32, 39]
    assert activity_wanted(items, NOW, SweepConfig(enabled=False)) == []


def test_items_not_read_are_judged_by_updated_at_and_noted() -> None:
    busy = opened(40, 300, 1)
    plan = plan_sweep([busy], NOW, SweepConfig(), TEAM, {})
    assert plan.actions == []
    assert plan.notes == [
        "sweep: #40 judged by their last activity of any kind (timeline not read)"
    ]
    assert sweep(busy).notes == []  # offline: no timeline was asked for at all
