"""Large PR: when `size/XXL` is applied, one comment suggesting a split, never repeated."""

from __future__ import annotations

from steward.domain.events import PullRequestEvent
from steward.plan import Comment, Plan
from steward.policies.context import Context
from steward.policies.policy import Policy, PolicySection, handles


class LargePrConfig(PolicySection):
    label: str = "size/XXL"
    message: str = (
        "### ⚠️ Large pull request ⚠️\n\n"
        "@{author}, this PR changes over a thousand lines. Large PRs take much longer to "
        "review and are more likely to hide bugs. Could it be split into smaller PRs (for "
        "example: refactoring first, then the feature, then documentation)?\n\n"
        "If it can't be split, please add a short guide for reviewers to the description."
    )


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    plan = Plan()
    if not isinstance(ev, PullRequestEvent):
        return plan
    pr = ev.pull_request
    newly = (ev.action == "labeled" and ev.label == cfg.label) or (
        cfg.label in ctx.labels_after and cfg.label not in pr.labels
    )
    if newly and cfg.label in ctx.labels_after:
        plan.add(Comment(pr.number, "large-pr", cfg.message.format(author=pr.author.login)))
    return plan


POLICY = Policy(
    name="large_pr",
    section=LargePrConfig,
    help="one comment suggesting a split once a PR is labelled size/XXL",
    order=20,
    evaluate=evaluate,
    events=handles(pull_request={"opened", "reopened", "synchronize", "labeled"}),
    stage="gate",
    labels=lambda cfg: (cfg.label,),
)
