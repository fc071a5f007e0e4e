"""Sweep: the scheduled pass over open issues and PRs (playbook: long running issues).

Three rules, each judged from the item's last activity (GitHub's ``updated_at``), which any
comment or label change, ours included, moves forward:

- a `revisit-in-3-months` item idle for ``revisit_after_days`` (90) gets one reminder that
  mentions the maintainers' team;
- an item idle for ``days_before_stale`` (60) gets the `stale` label and one comment;
- a `stale` item idle for ``days_before_close`` (7) more is closed with one comment. Any
  activity after it was marked (a reply) restarts that wait; a maintainer removes `stale`
  to keep it open for good.

Items carrying an exempt label are never touched; the revisit label (exempt by default)
exempts only from the stale rules, and a revisit item is never marked stale. Comments are
keyed by the activity date they answer, so a rerun in the same state plans nothing new, while
an item that goes idle again later is told again.

Pure: the shell (`steward sweep`) lists the open items and passes ``now``; no clock is read
here. A scheduled policy: the engine never runs it on an event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import Field

from steward.domain.models import Issue
from steward.plan import AddLabels, CloseIssue, Comment, Plan
from steward.policies.policy import Policy, PolicySection


class SweepConfig(PolicySection):
    stale_label: str = Field(default="stale", min_length=1, max_length=50)
    days_before_stale: int = Field(default=60, ge=1, le=3650)
    days_before_close: int = Field(default=7, ge=1, le=3650)
    revisit_label: str = Field(default="revisit-in-3-months", min_length=1, max_length=50)
    revisit_after_days: int = Field(default=90, ge=1, le=3650)
    exempt_labels: list[str] = Field(
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


def plan_sweep(items: Iterable[Issue], now: datetime, cfg: SweepConfig, team: str) -> Plan:
    """What the sweep does to ``items``.

    ``items``: the repository's open issues and PRs (GitHub's issues list includes PRs; a PR
    is closed through the same endpoint), each with ``labels`` and ``updated_at``; closed
    items and items without ``updated_at`` are skipped. ``now``: a timezone-aware datetime.
    ``team``: the handle to mention, e.g. ``@org/maintainers``.
    """
    if now.tzinfo is None:
        raise ValueError("sweep: 'now' must be timezone-aware")
    plan = Plan()
    if not cfg.enabled:
        return plan.note("sweep: disabled in config")
    exempt = set(cfg.exempt_labels) - {cfg.revisit_label}
    for item in items:
        if item.state != "open":
            continue
        if item.updated_at is None:
            plan.note(f"sweep: #{item.number} has no updated_at; left alone")
            continue
        labels = set(item.labels)
        if labels & exempt:
            continue
        idle = now - item.updated_at
        since = f"{item.updated_at.astimezone(now.tzinfo):%Y-%m-%d}"
        fields = {
            "team": team,
            "days": cfg.days_before_stale,
            "close_days": cfg.days_before_close,
            "author": item.author.login,
        }
        if cfg.revisit_label in labels:
            if idle >= timedelta(days=cfg.revisit_after_days):
                body = cfg.revisit_message.format(
                    **{**fields, "days": cfg.revisit_after_days, "label": cfg.revisit_label}
                )
                plan.add(Comment(item.number, f"sweep-revisit:{since}", body))
            continue
        if cfg.stale_label in labels:
            if idle >= timedelta(days=cfg.days_before_close):
                body = cfg.close_message.format(**fields, label=cfg.stale_label)
                plan.add(Comment(item.number, f"sweep-close:{since}", body))
                plan.add(CloseIssue(item.number, reason="not_planned"))
            continue
        if idle >= timedelta(days=cfg.days_before_stale):
            plan.add(AddLabels(item.number, (cfg.stale_label,)))
            body = cfg.stale_message.format(**fields, label=cfg.stale_label)
            plan.add(Comment(item.number, f"sweep-stale:{since}", body))
    return plan


POLICY = Policy(
    name="sweep",
    section=SweepConfig,
    help="scheduled (steward sweep): remind revisit items, mark idle items stale, close them",
    order=10,
    stage="scheduled",
    labels=lambda cfg: (cfg.stale_label,),
)
