"""Run the policies for an event and merge what they plan.

Two stages: the first decides labels, comments and statuses from the event alone; the second
(merge gate, large PR) looks at the labels the PR will carry once the first stage applies, so
one run reaches the final state and a second run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from steward.config.model import StewardConfig
from steward.domain.events import Event, Ignored, IssueEvent, PullRequestEvent
from steward.domain.models import Snapshot
from steward.plan import AddLabels, Plan, RemoveLabel
from steward.policies import (
    areas,
    large_pr,
    merge_gate,
    missing_sections,
    pending_release,
    post_release,
    semantic_title,
    size,
    triage,
)
from steward.policies.context import Context

FIRST_STAGE: tuple[ModuleType, ...] = (
    size,
    areas,
    semantic_title,
    missing_sections,
    pending_release,
    post_release,
    triage,
)
SECOND_STAGE: tuple[ModuleType, ...] = (merge_gate, large_pr)


@dataclass(frozen=True, slots=True)
class Decision:
    plan: Plan
    ignored: str | None = None
    policies: tuple[str, ...] = field(default_factory=tuple)


def handles(module: ModuleType, event: Event) -> bool:
    table: dict[str, set[str]] = module.HANDLES
    return event.action in table.get(event.name, set())


def skip_reason(event: Event | Ignored, config: StewardConfig) -> str | None:
    """Why the automation leaves this event alone, or ``None`` to go ahead."""
    if isinstance(event, Ignored):
        return event.reason
    ignored = {a.casefold() for a in config.ignore_authors}
    author = None
    if isinstance(event, PullRequestEvent):
        author = event.pull_request.author.login
    elif isinstance(event, IssueEvent):
        author = event.issue.author.login
    if author is not None and author.casefold() in ignored:
        return f"author {author} is in ignore_authors"
    return None


def decide(event: Event | Ignored, snapshot: Snapshot, config: StewardConfig) -> Decision:
    reason = skip_reason(event, config)
    if reason is not None or isinstance(event, Ignored):
        return Decision(Plan(), ignored=reason)
    ran: list[str] = []

    def run(stage: tuple[ModuleType, ...], ctx: Context) -> list[Plan]:
        plans: list[Plan] = []
        for module in stage:
            if handles(module, event):
                evaluate: Callable[[Context], Plan] = module.evaluate
                plans.append(evaluate(ctx))
                ran.append(module.__name__.rsplit(".", 1)[-1])
        return plans

    first = Plan.merge(run(FIRST_STAGE, Context(event, snapshot, config)))
    labels_after = _labels_after(event, first)
    second = run(SECOND_STAGE, Context(event, snapshot, config, labels_after))
    return Decision(Plan.merge([first, *second]), policies=tuple(ran))


def _labels_after(event: Event, plan: Plan) -> frozenset[str]:
    if isinstance(event, PullRequestEvent):
        number, labels = event.pull_request.number, set(event.pull_request.labels)
    elif isinstance(event, IssueEvent):
        number, labels = event.issue.number, set(event.issue.labels)
    else:
        return frozenset()
    for a in plan.actions:
        if isinstance(a, AddLabels) and a.number == number:
            labels.update(a.labels)
        elif isinstance(a, RemoveLabel) and a.number == number:
            labels.discard(a.label)
    return frozenset(labels)
