"""Acknowledgement: a new PR keeps the template's acknowledgement section.

A PR without it gets one explanatory comment plus `do-not-merge` and `need-acknowledgment`;
once the author restores it, `need-acknowledgment` goes (and `do-not-merge` too when no other
reason label, such as `need-issue`, remains).
"""

from __future__ import annotations

from pydantic import Field

from steward.domain.events import PullRequestEvent
from steward.plan import Plan
from steward.policies.common import ReasonSection, has_text, reason_plan
from steward.policies.context import Context
from steward.policies.policy import Policy, handles


class AcknowledgementConfig(ReasonSection):
    reason_label: str = "need-acknowledgment"
    required_text: str = Field(
        default="By submitting this pull request, I confirm that",
        min_length=1,
        description="text from the PR template's acknowledgement section (case-insensitive)",
    )
    message: str = (
        "⚠️ **Missing acknowledgement section** ⚠️\n\n"
        "@{author}, the PR template's acknowledgement section is missing from the description. "
        "Please restore it so we know you agree to the contribution terms.\n\n"
        "This PR is labelled `{block_label}` and `{reason_label}` until it does."
    )


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    if not isinstance(ev, PullRequestEvent) or ev.pull_request.merged:
        return Plan()
    ok = has_text(ev.pull_request.body, cfg.required_text)
    return reason_plan(ctx, cfg, ok, "acknowledgement")


POLICY = Policy(
    name="acknowledgement",
    section=AcknowledgementConfig,
    help="a new PR keeps the template's acknowledgement, else do-not-merge + a reason label",
    order=50,
    evaluate=evaluate,
    events=handles(pull_request={"opened", "reopened", "edited"}),
    labels=lambda cfg: (cfg.block_label, cfg.reason_label),
)
