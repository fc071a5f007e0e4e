"""Triage: new issues get `triage`; first-time contributors are welcomed (issue, PR, first
merge); a closed issue gets one notice that comments on closed issues are easy to miss.
"""

from __future__ import annotations

from pydantic import Field

from steward.domain.events import IssueEvent, PullRequestEvent
from steward.domain.models import FIRST_TIME_ASSOCIATIONS
from steward.plan import AddLabels, Comment, Plan
from steward.policies.context import Context
from steward.policies.policy import Policy, PolicySection, handles


class TriageConfig(PolicySection):
    label: str = "triage"
    first_time_associations: list[str] = Field(
        default_factory=lambda: sorted(FIRST_TIME_ASSOCIATIONS)
    )
    welcome_issue: str | None = (
        "Thanks for opening your first issue here! We'll come back to you as soon as we can."
    )
    welcome_pr: str | None = (
        "Thanks a lot for your first contribution! Please check out our contributing guide "
        "and don't hesitate to ask whatever you need."
    )
    welcome_merge: str | None = (
        "Awesome work, congrats on your first merged pull request and thank you for helping "
        "improve everyone's experience!"
    )
    closed_issue: str | None = (
        "⚠️**COMMENT VISIBILITY WARNING**⚠️\n\n"
        "This issue is now closed. Please be mindful that future comments are hard for our "
        "team to see. If you need more assistance, please either reopen the issue, or open a "
        "new issue referencing this one."
    )


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    plan = Plan()
    if not cfg.enabled:
        return plan
    first = set(cfg.first_time_associations)
    if isinstance(ev, IssueEvent):
        issue = ev.issue
        if ev.action == "opened":
            if cfg.label not in issue.labels:
                plan.add(AddLabels(issue.number, (cfg.label,)))
            if cfg.welcome_issue and issue.author_association in first:
                plan.add(Comment(issue.number, "welcome-issue", cfg.welcome_issue))
        elif ev.action == "closed" and cfg.closed_issue:
            plan.add(Comment(issue.number, "closed-issue", cfg.closed_issue))
    elif isinstance(ev, PullRequestEvent):
        pr = ev.pull_request
        if pr.author_association not in first:
            return plan
        if ev.action == "opened" and cfg.welcome_pr:
            plan.add(Comment(pr.number, "welcome-pr", cfg.welcome_pr))
        elif ev.action == "closed" and pr.merged and cfg.welcome_merge:
            plan.add(Comment(pr.number, "welcome-merge", cfg.welcome_merge))
    return plan


POLICY = Policy(
    name="triage",
    section=TriageConfig,
    help="new issues get triage; first-time contributors are welcomed; closed-issue notice",
    order=80,
    evaluate=evaluate,
    events=handles(issues={"opened", "closed"}, pull_request={"opened", "closed"}),
    labels=lambda cfg: (cfg.label,),
)
