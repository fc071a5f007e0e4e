"""Sweep: the scheduled pass over open issues and PRs (playbook: long running issues).

Three rules, each judged from the item's last *human* activity (the fair clock):

- a `revisit-in-3-months` item with no activity for ``revisit_after_days`` (90) gets one
  reminder that mentions the maintainers' team; steward's own reminder restarts this clock,
  so reminders repeat every 90 days of silence;
- an item idle for ``days_before_stale`` (60) gets the `stale` label and one comment;
- a `stale` item idle for ``days_before_close`` (7) more since it was marked is closed with
  one comment. A person's activity after it was marked (a reply) restarts that wait; a
  maintainer removes `stale` to keep it open for good.

Only a person's activity restarts a clock: steward's own comments and labels, and other
bots' activity (CI reports, dependency bots), do not. GitHub's ``updated_at`` moves for any
of them, so it only says when *something* last happened: an item idle by ``updated_at`` is
idle by any measure and costs no read. An item updated more recently is read (its timeline,
`Activity`) only when the rule could still act on it: a `stale` item (when was it marked,
and who acted since?), or an item opened at least as long ago as the rule's wait. At most
``max_activity_reads`` items a run are read, `stale` ones first, then revisit items, then
the longest idle; the others, and every item of an offline run, are judged by
``updated_at`` as before, which can only act later, never sooner.

Cost: one timeline read per such item (two for a timeline over 100 events); items idle by
``updated_at``, exempt, or too young for any rule cost nothing.

Items carrying an exempt label are never touched; the revisit label (exempt by default)
exempts only from the stale rules, and a revisit item is never marked stale. Comments are
keyed by the activity date they answer, so a rerun in the same state plans nothing new, while
an item that goes idle again later is told again.

Pure: the shell (`steward sweep`) lists the open items, reads the timelines this module asks
for and passes ``now``; no clock is read here. A scheduled policy: the engine never runs it
on an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pydantic import Field

from steward.config.lists import OnceCaseBlind
from steward.domain.models import Activity, Issue
from steward.plan import AddLabels, CloseIssue, Comment, Plan
from steward.policies.policy import Policy, PolicySection

REVISIT_KEY = "sweep-revisit"


class SweepConfig(PolicySection):
    stale_label: str = Field(default="stale", min_length=1, max_length=50)
    days_before_stale: int = Field(default=60, ge=1, le=3650)
    days_before_close: int = Field(default=7, ge=1, le=3650)
    revisit_label: str = Field(default="revisit-in-3-months", min_length=1, max_length=50)
    revisit_after_days: int = Field(default=90, ge=1, le=3650)
    exempt_labels: OnceCaseBlind = Field(
        default_factory=lambda: [
            "pending-release",
            "RFC",
            "help wanted",
            "revisit-in-3-months",
            "do-not-merge",
        ],
        description="items with any of these labels are never marked stale or closed (nor "
        "reminded, except for the revisit label itself)",
    )
    max_activity_reads: int = Field(
        default=100,
        ge=0,
        le=5000,
        description="at most this many items a run have their timeline read to tell a "
        "person's activity from steward's and bots'; the others are judged by their last "
        "activity of any kind (0: never read)",
    )
    stale_message: str = (
        "This has had no activity for {days} days, so it is now labelled `{label}`. It will "
        "be closed in {close_days} days unless there is new activity. {team}, please take a "
        "look if it should stay open."
    )
    close_message: str = (
        "Closing: no activity for {close_days} days since this was marked `{label}`. "
        "Feel free to reopen it, or to open a new issue referencing this one."
    )
    revisit_message: str = (
        "{team}: this was labelled `{label}` and has had no activity for {days} days. "
        "Time to revisit it: can it be broken into smaller pieces, moved forward or closed?"
    )


def _swept(item: Issue, cfg: SweepConfig) -> bool:
    """Whether the sweep looks at ``item`` at all (open, dated, not exempt)."""
    exempt = set(cfg.exempt_labels) - {cfg.revisit_label}
    return item.state == "open" and item.updated_at is not None and not (set(item.labels) & exempt)


def activity_wanted(items: Iterable[Issue], now: datetime, cfg: SweepConfig) -> list[int]:
    """The items whose timeline the fair clock needs, most needed first.

    An item idle by ``updated_at`` is idle by any measure (nothing happened since), and an
    item opened more recently than the rule's wait cannot be acted on yet: neither needs a
    read. What is left: `stale` items updated within the close wait, and older items updated
    within their rule's wait, by whom is what the timeline tells.
    """
    if not cfg.enabled:
        return []
    ranked: list[tuple[int, datetime, int]] = []
    for item in items:
        if not _swept(item, cfg):
            continue
        assert item.updated_at is not None
        labels = set(item.labels)
        if cfg.stale_label in labels and cfg.revisit_label not in labels:
            rank, wait = 0, cfg.days_before_close
            opened_long_ago = True  # the wait runs from the marking, read from the timeline
        else:
            revisit = cfg.revisit_label in labels
            rank = 1 if revisit else 2
            wait = cfg.revisit_after_days if revisit else cfg.days_before_stale
            opened = item.created_at
            opened_long_ago = opened is None or now - opened >= timedelta(days=wait)
        if now - item.updated_at < timedelta(days=wait) and opened_long_ago:
            ranked.append((rank, item.updated_at, item.number))
    return [number for _, _, number in sorted(ranked)]


def _human_clock(item: Issue, activity: Activity | None) -> datetime:
    """When a person last acted on ``item`` (its opening counts), or ``updated_at`` when its
    timeline was not read."""
    assert item.updated_at is not None
    if activity is None:
        return item.updated_at
    times = [t for t in (activity.human, item.created_at) if t is not None]
    return max(times) if times else item.updated_at


def _marked_clock(item: Issue, activity: Activity | None, label: str) -> datetime:
    """Where the close wait runs from: the later of the marking and a person's activity."""
    assert item.updated_at is not None
    marked = activity.labeled.get(label) if activity is not None else None
    if marked is None:
        return item.updated_at
    return max(marked, _human_clock(item, activity))


def _revisit_clock(item: Issue, activity: Activity | None) -> datetime:
    """A person's activity or steward's own last reminder, whichever is later."""
    clock = _human_clock(item, activity)
    if activity is None:
        return clock
    reminders = [t for k, t in activity.markers.items() if k.startswith(f"{REVISIT_KEY}:")]
    return max([clock, *reminders])


def plan_sweep(
    items: Iterable[Issue],
    now: datetime,
    cfg: SweepConfig,
    team: str,
    activity: Mapping[int, Activity] | None = None,
) -> Plan:
    """What the sweep does to ``items``.

    ``items``: the repository's open issues and PRs (GitHub's issues list includes PRs; a PR
    is closed through the same endpoint), each with ``labels``, ``updated_at`` and
    ``created_at``; closed items and items without ``updated_at`` are skipped. ``now``: a
    timezone-aware datetime. ``team``: the handle to mention, e.g. ``@org/maintainers``.
    ``activity``: the timelines read for `activity_wanted`'s items (``None``: none were,
    every item is judged by ``updated_at``).
    """
    if now.tzinfo is None:
        raise ValueError("sweep: 'now' must be timezone-aware")
    plan = Plan()
    if not cfg.enabled:
        return plan.note("sweep: disabled in config")
    items = list(items)
    if activity is not None:
        unread = [n for n in activity_wanted(items, now, cfg) if n not in activity]
        if unread:
            shown = ", ".join(f"#{n}" for n in unread[:20]) + (" ..." if len(unread) > 20 else "")
            plan.note(
                f"sweep: {shown} judged by their last activity of any kind (timeline not read)"
            )
    for item in items:
        if item.state != "open":
            continue
        if item.updated_at is None:
            plan.note(f"sweep: #{item.number} has no updated_at; left alone")
            continue
        if not _swept(item, cfg):
            continue
        labels = set(item.labels)
        act = activity.get(item.number) if activity is not None else None
        fields = {
            "team": team,
            "days": cfg.days_before_stale,
            "close_days": cfg.days_before_close,
            "author": item.author.login,
        }
        if cfg.revisit_label in labels:
            since = _revisit_clock(item, act)
            if now - since >= timedelta(days=cfg.revisit_after_days):
                body = cfg.revisit_message.format(
                    **{**fields, "days": cfg.revisit_after_days, "label": cfg.revisit_label}
                )
                plan.add(Comment(item.number, f"{REVISIT_KEY}:{_day(since, now)}", body))
            continue
        if cfg.stale_label in labels:
            since = _marked_clock(item, act, cfg.stale_label)
            if now - since >= timedelta(days=cfg.days_before_close):
                body = cfg.close_message.format(**fields, label=cfg.stale_label)
                plan.add(Comment(item.number, f"sweep-close:{_day(since, now)}", body))
                plan.add(CloseIssue(item.number, reason="not_planned"))
            continue
        since = _human_clock(item, act)
        if now - since >= timedelta(days=cfg.days_before_stale):
            plan.add(AddLabels(item.number, (cfg.stale_label,)))
            body = cfg.stale_message.format(**fields, label=cfg.stale_label)
            plan.add(Comment(item.number, f"sweep-stale:{_day(since, now)}", body))
    return plan


def _day(when: datetime, now: datetime) -> str:
    return f"{when.astimezone(now.tzinfo):%Y-%m-%d}"


POLICY = Policy(
    name="sweep",
    section=SweepConfig,
    help="scheduled (steward sweep): remind revisit items, mark idle items stale, close them",
    order=10,
    stage="scheduled",
    labels=lambda cfg: (cfg.stale_label,),
)
