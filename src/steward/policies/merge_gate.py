"""Merge gate: a failing commit status while a blocking label is on, passing once it is off.

Runs in the second stage, on the labels the PR will have after this event's plan, so a PR
that the first stage labels `do-not-merge` fails the gate in the same run.
"""

from __future__ import annotations

from pydantic import Field

from steward.domain.events import PullRequestEvent
from steward.plan import Plan, SetStatus
from steward.policies.context import Context
from steward.policies.policy import Policy, PolicySection, handles


class MergeGateConfig(PolicySection):
    block_labels: list[str] = Field(default_factory=lambda: ["do-not-merge"])
    status_context: str = "steward/do-not-merge"


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    plan = Plan()
    if not cfg.enabled or not isinstance(ev, PullRequestEvent) or ev.pull_request.merged:
        return plan
    pr = ev.pull_request
    if pr.state != "open" or not pr.head_sha:
        return plan
    blocking = [lbl for lbl in cfg.block_labels if lbl in ctx.labels_after]
    if blocking:
        return plan.add(
            SetStatus(
                pr.number,
                pr.head_sha,
                "failure",
                cfg.status_context,
                f"blocked by label: {', '.join(blocking)}"[:140],
            )
        )
    return plan.add(
        SetStatus(pr.number, pr.head_sha, "success", cfg.status_context, "no blocking label")
    )


POLICY = Policy(
    name="merge_gate",
    section=MergeGateConfig,
    help="a failing commit status while a blocking label (do-not-merge) is on",
    order=10,
    evaluate=evaluate,
    events=handles(
        pull_request={"opened", "reopened", "edited", "synchronize", "labeled", "unlabeled"}
    ),
    stage="gate",
    labels=lambda cfg: cfg.block_labels,
)
