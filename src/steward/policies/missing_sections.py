"""Related issue and acknowledgement: a new PR must name an issue and keep the template's
acknowledgement. Each missing piece gets one explanatory comment plus `do-not-merge` and its
own reason label; once the author fixes the body, the reason label goes (and `do-not-merge`
too when no other reason label remains).
"""

from __future__ import annotations

from pydantic import Field

from steward.config.base import Section
from steward.domain.events import PullRequestEvent
from steward.plan import AddLabels, Comment, Plan, RemoveLabel
from steward.policies.common import has_text, related_issues
from steward.policies.context import Context

HANDLES = {"pull_request": {"opened", "reopened", "edited"}}


class RelatedIssueConfig(Section):
    enabled: bool = True
    block_label: str = "do-not-merge"
    reason_label: str = "need-issue"
    clear_when_fixed: bool = True
    message: str = (
        "⚠️ **No related issue found** ⚠️\n\n"
        "Thank you for your contribution, @{author}! Please link the issue this PR addresses "
        "in its description (the template's `Issue number:` field, or a closing keyword such "
        "as `Fixes #123`), so maintainers can track why the change is needed.\n\n"
        "This PR is labelled `{block_label}` and `{reason_label}` until it does."
    )


class AcknowledgementConfig(Section):
    enabled: bool = True
    block_label: str = "do-not-merge"
    reason_label: str = "need-acknowledgment"
    clear_when_fixed: bool = True
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


def _section(
    ctx: Context,
    cfg: RelatedIssueConfig | AcknowledgementConfig,
    present: bool,
    key: str,
    other_reasons: set[str],
) -> Plan:
    plan = Plan()
    ev = ctx.event
    assert isinstance(ev, PullRequestEvent)
    pr = ev.pull_request
    if not present and ev.action == "opened":
        text = cfg.message.format(
            author=pr.author.login, block_label=cfg.block_label, reason_label=cfg.reason_label
        )
        plan.add(Comment(pr.number, key, text))
        missing = tuple(x for x in (cfg.block_label, cfg.reason_label) if x not in pr.labels)
        if missing:
            plan.add(AddLabels(pr.number, missing))
    elif present and cfg.clear_when_fixed and cfg.reason_label in pr.labels:
        plan.add(RemoveLabel(pr.number, cfg.reason_label))
        if cfg.block_label in pr.labels and not (other_reasons & set(pr.labels)):
            plan.add(RemoveLabel(pr.number, cfg.block_label))
    return plan


def evaluate(ctx: Context) -> Plan:
    ev = ctx.event
    if not isinstance(ev, PullRequestEvent) or ev.pull_request.merged:
        return Plan()
    rel, ack = ctx.config.related_issue, ctx.config.acknowledgement
    pr = ev.pull_request
    plans: list[Plan] = []
    if rel.enabled:
        # A PR that names only itself ("Fixes #<its own number>") names no issue.
        found = any(n != pr.number for n in related_issues(pr.body, ev.repo.full_name))
        others = {ack.reason_label} if ack.enabled else set()
        plans.append(_section(ctx, rel, found, "related-issue", others))
    if ack.enabled:
        ok = has_text(pr.body, ack.required_text)
        others = {rel.reason_label} if rel.enabled else set()
        plans.append(_section(ctx, ack, ok, "acknowledgement", others))
    return Plan.merge(plans)
