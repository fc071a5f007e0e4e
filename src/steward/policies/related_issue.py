"""Related issue: a new PR must name the issue it addresses.

A PR without one gets one explanatory comment plus `do-not-merge` and `need-issue`; once the
author names an issue, `need-issue` goes (and `do-not-merge` too when no other reason label,
such as `need-acknowledgment`, remains).
"""

from __future__ import annotations

from steward.domain.events import PullRequestEvent
from steward.plan import Plan
from steward.policies.common import ReasonSection, reason_plan, related_issues
from steward.policies.context import Context
from steward.policies.policy import Policy, handles


class RelatedIssueConfig(ReasonSection):
    reason_label: str = "need-issue"
    message: str = (
        "⚠️ **No related issue found** ⚠️\n\n"
        "Thank you for your contribution, @{author}! Please link the issue this PR addresses "
        "in its description (the template's `Issue number:` field, or a closing keyword such "
        "as `Fixes #123`), so maintainers can track why the change is needed.\n\n"
        "This PR is labelled `{block_label}` and `{reason_label}` until it does."
    )


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    if not isinstance(ev, PullRequestEvent) or ev.pull_request.merged:
        return Plan()
    pr = ev.pull_request
    # A PR that names only itself ("Fixes #<its own number>") names no issue.
    found = any(n != pr.number for n in related_issues(pr.body, ev.repo.full_name))
    return reason_plan(ctx, cfg, found, "related-issue")


POLICY = Policy(
    name="related_issue",
    section=RelatedIssueConfig,
    help="a new PR names its issue, else do-not-merge + need-issue and one comment",
    order=40,
    evaluate=evaluate,
    events=handles(pull_request={"opened", "reopened", "edited"}),
    labels=lambda cfg: (cfg.block_label, cfg.reason_label),
)
