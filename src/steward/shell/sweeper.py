"""The sweep's shell, one for `steward sweep` and for the server's scheduled sweep.

Read the timelines the fair clock needs (`policies.sweep.activity_wanted`, at most
``max_activity_reads``), plan (`policies.sweep.plan_sweep`, pure), and hand the executor the
marker keys those complete timelines showed on steward's own comments, so acting on an item
does not list its comments a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from steward.plan import Plan
from steward.policies import pending_release
from steward.policies import sweep as sweep_policy
from steward.shell.executor import ApplyResult, Executor
from steward.shell.identity import Identity, identity_for
from steward.shell.snapshot import sweep_activity

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.domain.models import Issue
    from steward.github.repo_api import RepoApi


@dataclass(frozen=True, slots=True)
class SweepPlan:
    plan: Plan
    markers: dict[int, frozenset[str]] = field(default_factory=dict)
    """Per item whose whole timeline was read: steward's own marker keys on it."""


def plan_repository_sweep(
    items: list[Issue],
    now: datetime,
    config: StewardConfig,
    api: RepoApi | None,
    identity: Identity | None,
) -> SweepPlan:
    """The sweep of ``items`` as of ``now``; offline (``api`` or ``identity`` is ``None``)
    every item is judged by its last activity of any kind."""
    cfg = sweep_policy.POLICY.of(config)
    team = pending_release.POLICY.of(config).maintainers_team
    if api is None or identity is None:
        return SweepPlan(sweep_policy.plan_sweep(items, now, cfg, team, None))
    wanted = sweep_policy.activity_wanted(items, now, cfg)
    activity = sweep_activity(api, wanted, identity, cfg.max_activity_reads)[0] if wanted else {}
    plan = sweep_policy.plan_sweep(items, now, cfg, team, activity)
    # Without a known login a timeline cannot tell steward's comments: list them instead.
    # (The login is resolved already when timelines were read: no extra call.)
    markers = (
        {n: frozenset(a.markers) for n, a in activity.items() if a.complete}
        if activity and identity.login is not None
        else {}
    )
    return SweepPlan(plan, markers)


def sweep_repository(
    api: RepoApi, config: StewardConfig, now: datetime, identity: Identity | str | None
) -> ApplyResult | None:
    """What `steward sweep` does to one repository, applied (``None`` when its sweep is
    off): the open items, the timelines, the plan and the executor. ``identity``: steward's
    account, or its login (see `identity_for`)."""
    if not sweep_policy.POLICY.of(config).enabled:
        return None
    identity = identity_for(identity, api.authenticated_login)
    items = api.open_items()
    swept = plan_repository_sweep(items, now, config, api, identity)
    known = {i.number: i for i in items}
    return Executor(api, known, identity, swept.markers).apply(swept.plan)
