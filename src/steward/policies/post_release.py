"""Post-release: every `pending-release` issue is told the version (with a link), loses that
label and, if open, is closed; its other labels stay. Runs on `release: published`, and the
release pipeline's post-release stage runs it the same way (`shell.executor.handle_event`
with the event the stage stands for): the issues come from one query of every state.

An issue a closing keyword (`Fixes #12`) already closed at merge still carries the label: it
gets the comment and loses the label too, so its author hears about the release as well.
"""

from __future__ import annotations

from steward.domain.events import ReleaseEvent
from steward.domain.models import Issue
from steward.plan import CloseIssue, Comment, Plan, RemoveLabel
from steward.policies.context import Context
from steward.policies.policy import LabelledIssues, Policy, PolicySection, handles


class PostReleaseConfig(PolicySection):
    label: str = "pending-release"
    include_prereleases: bool = False
    close_issues: bool = True
    message: str = (
        "This is now released under [{version}]({url}) version! 🚀\n\n"
        "Thank you for reporting it and for your patience."
    )


def post_release_plan(
    version: str, url: str, issues: tuple[Issue, ...], cfg: PostReleaseConfig
) -> Plan:
    """The post-release actions for ``issues`` still carrying the label (others are skipped)."""
    plan = Plan()
    for issue in issues:
        if cfg.label not in issue.labels:
            continue
        key = f"released:{version}"
        plan.add(Comment(issue.number, key, cfg.message.format(version=version, url=url)))
        plan.add(RemoveLabel(issue.number, cfg.label))
        if cfg.close_issues and issue.state == "open":
            plan.add(CloseIssue(issue.number))
    return plan


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    ev = ctx.event
    if not isinstance(ev, ReleaseEvent):
        return Plan()
    rel = ev.release
    if rel.draft or (rel.prerelease and not cfg.include_prereleases):
        return Plan().note(f"post-release: {rel.tag} is a draft or pre-release; nothing closed")
    issues = ctx.snapshot.pending_release_issues
    if issues is None:
        return Plan().note("post-release: pending-release issues were not read")
    return post_release_plan(rel.tag, rel.html_url, issues, cfg)


POLICY = Policy(
    name="post_release",
    section=PostReleaseConfig,
    help="on a published release, pending-release issues are told, unlabelled and closed",
    order=70,
    evaluate=evaluate,
    events=handles(release={"published"}),
    reads=lambda cfg: (LabelledIssues(cfg.label),),
    labels=lambda cfg: (cfg.label,),
)
