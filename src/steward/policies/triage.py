"""Triage: new issues get `triage`; first-time contributors are welcomed (issue, PR, first
merge); a closed issue gets one notice that comments on closed issues are easy to miss.

Who is new: GitHub's ``author_association`` says FIRST_TIMER or FIRST_TIME_CONTRIBUTOR for
someone who never committed here, and those are welcomed as before. But most people opening
their first issue are ``NONE`` (no commit, no membership), which says nothing about earlier
issues. For an issue opened by an author whose association is in ``first_issue_search``
(``NONE``), the shell runs one search (``repo:OWNER/NAME is:issue author:LOGIN``, oldest
first, one result) and the author is welcomed when their oldest issue here is this one (or
the search does not list any yet). MEMBER, OWNER, COLLABORATOR and CONTRIBUTOR cost no read.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from steward.config.lists import repeated
from steward.domain.events import IssueEvent, PullRequestEvent
from steward.domain.models import FIRST_TIME_ASSOCIATIONS, Issue
from steward.plan import AddLabels, Comment, Plan
from steward.policies.context import Context
from steward.policies.policy import EarlierIssues, Policy, PolicySection, handles

# GitHub's `author_association` values (its OpenAPI's `author-association` enum): what an
# event's author can be; any other value in the config would match no one.
AUTHOR_ASSOCIATIONS = frozenset(
    {
        "COLLABORATOR",
        "CONTRIBUTOR",
        "FIRST_TIMER",
        "FIRST_TIME_CONTRIBUTOR",
        "MANNEQUIN",
        "MEMBER",
        "NONE",
        "OWNER",
    }
)


class TriageConfig(PolicySection):
    label: str = "triage"
    first_time_associations: list[str] = Field(
        default_factory=lambda: sorted(FIRST_TIME_ASSOCIATIONS)
    )
    first_issue_search: list[str] = Field(
        default_factory=lambda: ["NONE"],
        description="issue authors with these associations are welcomed when one search "
        "finds no earlier issue of theirs in the repository ([]: no search)",
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

    @field_validator("first_time_associations", "first_issue_search")
    @classmethod
    def _associations(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in AUTHOR_ASSOCIATIONS:
                raise ValueError(
                    f"{item!r} is not an author association GitHub gives "
                    f"({', '.join(sorted(AUTHOR_ASSOCIATIONS))})"
                )
        problem = repeated(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    plan = Plan()
    first = set(cfg.first_time_associations)
    if isinstance(ev, IssueEvent):
        issue = ev.issue
        if ev.action == "opened":
            if cfg.label not in issue.labels:
                plan.add(AddLabels(issue.number, (cfg.label,)))
            if cfg.welcome_issue and _first_issue(ctx, issue, first, cfg):
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


def _first_issue(ctx: Context, issue: Issue, first: set[str], cfg: TriageConfig) -> bool:
    """Whether ``issue`` is its author's first here: by association, else by the search
    the shell ran (an author it did not search for is not guessed about)."""
    association = issue.author_association
    if association in first:
        return True
    if association not in cfg.first_issue_search or issue.author.is_bot:
        return False
    key = issue.author.login.casefold()
    if key not in ctx.snapshot.first_issues:
        return False
    oldest = ctx.snapshot.first_issues[key]
    return oldest is None or oldest >= issue.number


def _reads(cfg: TriageConfig) -> tuple[EarlierIssues, ...]:
    if not cfg.welcome_issue or not cfg.first_issue_search:
        return ()
    searched = frozenset(cfg.first_issue_search) - set(cfg.first_time_associations)
    return (EarlierIssues(searched),) if searched else ()


POLICY = Policy(
    name="triage",
    section=TriageConfig,
    help="new issues get triage; first-time contributors are welcomed; closed-issue notice",
    order=80,
    evaluate=evaluate,
    events=handles(issues={"opened", "closed"}, pull_request={"opened", "closed"}),
    reads=_reads,
    labels=lambda cfg: (cfg.label,),
)
