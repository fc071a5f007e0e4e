"""Run the policies for an event and merge what they plan.

The policies come from the registry (`steward.policies.registry`). Two stages: ``labels``
decides labels, comments and statuses from the event alone; ``gate`` (merge gate, large PR)
looks at the labels the PR will carry once the first stage applies, so one run reaches the
final state and a second run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.domain.events import Event, Ignored, IssueEvent, PullRequestEvent
from steward.plan import AddLabels, Plan, RemoveLabel
from steward.policies import registry
from steward.policies.context import Context
from steward.policies.policy import Policy, Stage

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.domain.models import Snapshot


@dataclass(frozen=True, slots=True)
class Decision:
    plan: Plan
    ignored: str | None = None
    policies: tuple[str, ...] = field(default_factory=tuple)


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
    handling = registry.handling(event, config)
    ran: list[str] = []

    def run(stage: Stage, ctx: Context) -> list[Plan]:
        plans: list[Plan] = []
        for policy in _in_stage(handling, stage):
            assert policy.evaluate is not None  # registry.handling keeps enabled, evaluating ones
            plans.append(policy.evaluate(ctx))
            ran.append(policy.name)
        return plans

    first = Plan.merge(run("labels", Context(event, snapshot, config)))
    labels_after = _labels_after(event, first)
    second = run("gate", Context(event, snapshot, config, labels_after))
    return Decision(Plan.merge([first, *second]), policies=tuple(ran))


def _in_stage(policies: tuple[Policy[Any], ...], stage: Stage) -> list[Policy[Any]]:
    return [p for p in policies if p.stage == stage]


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
