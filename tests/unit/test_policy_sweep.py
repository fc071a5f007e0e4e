"""Sweep: reminders for `revisit-in-3-months`, `stale` after 60 idle days, close 7 days on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from steward.config.loader import parse_config
from steward.domain.events import IssueEvent
from steward.domain.models import Issue
from steward.errors import ConfigError
from steward.plan import Plan
from steward.policies.sweep import SweepConfig, plan_sweep
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
