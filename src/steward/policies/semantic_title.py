"""Semantic title: the PR title must be a conventional commit; it decides the change type.

The title becomes the squash commit and so the CHANGELOG and release notes line. The policy
keeps exactly one change-type label (replacing a stale one when the title is edited), adds
`breaking-change` for `!` or a BREAKING CHANGE note, maps a scope that names an area to that
area label, and sets a commit status so the check can be required for merging. WIP titles
leave the status pending. In a merge queue (`merge_group: checks_requested`) the same status
goes on the group's commit, judged from the queued pull request's current title.
"""

from __future__ import annotations

import re

from pydantic import Field

from steward.conventional import Header, is_wip, parse_header
from steward.domain.events import MergeGroupEvent, PullRequestEvent
from steward.domain.models import PullRequest
from steward.plan import AddLabels, Plan, RemoveLabel, SetStatus
from steward.policies.areas import POLICY as AREAS
from steward.policies.common import merge_group_status, strip_html_comments
from steward.policies.context import Context
from steward.policies.policy import Policy, PolicySection, QueuedPulls, handles
from steward.text import MAX_BODY, cap

_BREAKING_NOTE = re.compile(r"^BREAKING[ -]CHANGE:", re.MULTILINE)


class SemanticTitleConfig(PolicySection):
    types: dict[str, str | None] = Field(
        default_factory=lambda: {
            "feat": "feature",
            "fix": "bug",
            "bug": "bug",
            "docs": "documentation",
            "doc": "documentation",
            "chore": "internal",
            "refactor": "enhancement",
            "deprecated": "deprecated",
            "perf": "enhancement",
            "test": None,
            "tests": None,
            "ci": None,
            "build": None,
            "style": None,
            "revert": None,
        },
        description="allowed commit types -> change-type label (null: allowed, no label)",
    )
    breaking_label: str = "breaking-change"
    scope_to_area: bool = True
    scope_labels: dict[str, str] = Field(
        default_factory=dict, description="extra scope -> label aliases (e.g. deps: dependencies)"
    )
    status_context: str = "steward/semantic-title"

    def type_labels(self) -> set[str]:
        return {v for v in self.types.values() if v}


def check(title: str, cfg: SemanticTitleConfig) -> tuple[Header | None, str]:
    """Parse and judge a title: the header (if valid) and a one-line reason."""
    header = parse_header(title)
    if header is None:
        return None, "title must look like 'type(scope): subject', e.g. 'feat(logger): add x'"
    if header.type not in cfg.types:
        return None, f"type '{header.type[:30]}' is not one of {', '.join(sorted(cfg.types))}"[:140]
    return header, f"{header.type}{'!' if header.breaking else ''}: semantic title"[:140]


def title_status(pr: PullRequest, sha: str, cfg: SemanticTitleConfig) -> SetStatus:
    """The title check's status on ``sha`` for ``pr``'s title."""
    if is_wip(pr.title):
        return SetStatus(
            pr.number, sha, "pending", cfg.status_context, "work in progress: title check waits"
        )
    header, reason = check(pr.title, cfg)
    return SetStatus(pr.number, sha, "success" if header else "failure", cfg.status_context, reason)


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    plan = Plan()
    ev = ctx.event
    if isinstance(ev, MergeGroupEvent):

        def judge(pr: PullRequest, sha: str) -> SetStatus:
            return title_status(pr, sha, cfg)

        return plan.add(merge_group_status(ev, ctx, cfg.status_context, judge))
    if not isinstance(ev, PullRequestEvent):
        return plan
    pr = ev.pull_request
    plan.add(title_status(pr, pr.head_sha, cfg))
    if is_wip(pr.title):
        return plan
    header, _ = check(pr.title, cfg)
    if header is None:
        return plan
    wanted: list[str] = []
    type_label = cfg.types.get(header.type)
    if type_label:
        wanted.append(type_label)
    breaking = header.breaking or bool(
        _BREAKING_NOTE.search(strip_html_comments(cap(pr.body, MAX_BODY)))
    )
    if breaking:
        wanted.append(cfg.breaking_label)
    elif cfg.breaking_label in pr.labels and ev.previous_title is not None:
        before = parse_header(ev.previous_title)
        if before is not None and before.breaking:
            plan.add(RemoveLabel(pr.number, cfg.breaking_label))
    if cfg.scope_to_area:
        areas = {a.casefold(): a for a in AREAS.of(ctx.config).labels()}
        for scope in header.scopes:
            label = cfg.scope_labels.get(scope) or areas.get(scope.casefold())
            if label:
                wanted.append(label)
    for stale in sorted(cfg.type_labels() - set(wanted)):
        if stale in pr.labels and _owned_by_title(ctx, ev, stale, cfg):
            plan.add(RemoveLabel(pr.number, stale))
    missing = tuple(dict.fromkeys(lbl for lbl in wanted if lbl not in pr.labels))
    if missing:
        plan.add(AddLabels(pr.number, missing))
    return plan


def _owned_by_title(
    ctx: Context, ev: PullRequestEvent, label: str, cfg: SemanticTitleConfig
) -> bool:
    """May the title's check remove this stale change-type label?

    Some change-type labels are also area labels (`documentation`, `internal`): those are
    removed only when the changed files do not earn them, or (files unknown) when the
    previous title is what put them there. Otherwise the two policies would undo each other
    on every event.
    """
    areas = AREAS.of(ctx.config)
    if label not in areas.labels():
        return True
    files = ctx.snapshot.files
    if files is not None:
        return label not in areas.matching(files)
    before = parse_header(ev.previous_title) if ev.previous_title is not None else None
    return before is not None and cfg.types.get(before.type) == label


def _labels(cfg: SemanticTitleConfig) -> list[str]:
    return [*cfg.type_labels(), *cfg.scope_labels.values(), cfg.breaking_label]


POLICY = Policy(
    name="semantic_title",
    section=SemanticTitleConfig,
    help="the title is a conventional commit: a status, a change-type label, breaking-change",
    order=30,
    evaluate=evaluate,
    events=handles(
        pull_request={"opened", "reopened", "edited", "synchronize"},
        merge_group={"checks_requested"},
    ),
    reads=lambda cfg: (QueuedPulls(),),
    labels=_labels,
)
