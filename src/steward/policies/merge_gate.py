"""Merge gate: a failing commit status while a blocking label is on, passing once it is off.

Runs in the second stage, on the labels the PR will have after this event's plan, so a PR
that the first stage labels `do-not-merge` fails the gate in the same run. In a merge queue
(`merge_group: checks_requested`) the same status goes on the group's commit, from the
labels the queued pull request carries now.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from steward.config.lists import OnceCaseBlind
from steward.domain.events import MergeGroupEvent, PullRequestEvent
from steward.domain.models import PullRequest
from steward.plan import Plan, SetStatus
from steward.policies.common import merge_group_status
from steward.policies.context import Context
from steward.policies.policy import Policy, PolicySection, QueuedPulls, handles


class MergeGateConfig(PolicySection):
    block_labels: OnceCaseBlind = Field(default_factory=lambda: ["do-not-merge"])
    status_context: str = "steward/do-not-merge"


def gate_status(number: int, sha: str, labels: Iterable[str], cfg: MergeGateConfig) -> SetStatus:
    """The gate's status on ``sha`` for an item carrying ``labels``."""
    have = set(labels)
    blocking = [lbl for lbl in cfg.block_labels if lbl in have]
    if blocking:
        return SetStatus(
            number,
            sha,
            "failure",
            cfg.status_context,
            f"blocked by label: {', '.join(blocking)}"[:140],
        )
    return SetStatus(number, sha, "success", cfg.status_context, "no blocking label")


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    plan = Plan()
    if isinstance(ev, MergeGroupEvent):

        def judge(pr: PullRequest, sha: str) -> SetStatus:
            return gate_status(pr.number, sha, pr.labels, cfg)

        return plan.add(merge_group_status(ev, ctx, cfg.status_context, judge))
    if not isinstance(ev, PullRequestEvent) or ev.pull_request.merged:
        return plan
    pr = ev.pull_request
    if pr.state != "open" or not pr.head_sha:
        return plan
    return plan.add(gate_status(pr.number, pr.head_sha, ctx.labels_after, cfg))


POLICY = Policy(
    name="merge_gate",
    section=MergeGateConfig,
    help="a failing commit status while a blocking label (do-not-merge) is on",
    order=10,
    evaluate=evaluate,
    events=handles(
        pull_request={"opened", "reopened", "edited", "synchronize", "labeled", "unlabeled"},
        merge_group={"checks_requested"},
    ),
    stage="gate",
    reads=lambda cfg: (QueuedPulls(),),
    labels=lambda cfg: cfg.block_labels,
)
