"""Pending release: when a PR merges, its related issue gets `pending-release`; with no
related issue, one comment on the PR tells the maintainers' team to link one by hand.
"""

from __future__ import annotations

from steward.domain.events import PullRequestEvent
from steward.plan import AddLabels, Comment, Plan
from steward.policies.common import related_issues
from steward.policies.context import Context
from steward.policies.policy import NamedIssues, Policy, PolicySection, handles


class PendingReleaseConfig(PolicySection):
    label: str = "pending-release"
    maintainers_team: str = "@maintainers"
    missing_issue_message: str = (
        "⚠️ **Pending release** ⚠️\n\n"
        "{team}: this PR merged but names no related issue, so no issue was labelled "
        "`{label}`. Please label the issue it addresses by hand so its author hears when it "
        "is released."
    )


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    plan = Plan()
    if not isinstance(ev, PullRequestEvent):
        return plan
    pr = ev.pull_request
    if ev.action != "closed" or not pr.merged:
        return plan
    # "Fixes #N" naming the PR itself is no issue.
    numbers = tuple(n for n in related_issues(pr.body, ev.repo.full_name) if n != pr.number)
    if not numbers:
        return plan.add(
            Comment(
                pr.number,
                "pending-release-no-issue",
                cfg.missing_issue_message.format(team=cfg.maintainers_team, label=cfg.label),
            )
        )
    for n in numbers:
        issue = ctx.snapshot.issues.get(n)
        if issue is not None and cfg.label in issue.labels:
            continue
        plan.add(AddLabels(n, (cfg.label,)))
    return plan


POLICY = Policy(
    name="pending_release",
    section=PendingReleaseConfig,
    help="a merged PR's related issues get pending-release (no issue: one comment)",
    order=60,
    evaluate=evaluate,
    events=handles(pull_request={"closed"}),
    reads=lambda _: (NamedIssues(),),
    labels=lambda cfg: (cfg.label,),
)
