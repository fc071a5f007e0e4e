"""Helpers shared by several policies: reading untrusted PR text, the reason checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from steward.domain.events import MergeGroupEvent, PullRequestEvent
from steward.domain.refs import NUMBER, number
from steward.plan import AddLabels, Comment, Plan, RemoveLabel, SetStatus
from steward.policies.policy import PolicySection
from steward.text import MAX_BODY, cap

if TYPE_CHECKING:
    from collections.abc import Callable

    from steward.domain.models import PullRequest
    from steward.policies.context import Context

# Closing keywords GitHub recognises, followed by #N, owner/repo#N or an issue URL; every
# number is read whole (`steward.domain.refs.NUMBER`): `#12345678901` and `#123abc` are none.
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?[ \t]{0,4}"
    rf"(?:(?P<repo>[A-Za-z0-9_.-]{{1,100}}/[A-Za-z0-9_.-]{{1,100}})?#(?P<num>{NUMBER})"
    r"|https?://[A-Za-z0-9.-]{1,100}/(?P<urlrepo>[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})"
    rf"/issues/(?P<urlnum>{NUMBER}))",
    re.IGNORECASE,
)
# The PR template's field, e.g. "**Issue number:** #123" or "Issue number: https://.../issues/9".
_FIELD = re.compile(
    r"^[ \t>*_#-]{0,8}issue number[ \t*_]{0,4}:[ \t*_]{0,4}(?P<rest>[^\r\n]{0,300})",
    re.IGNORECASE | re.MULTILINE,
)
_REF = re.compile(
    rf"(?:(?P<repo>[A-Za-z0-9_.-]{{1,100}}/[A-Za-z0-9_.-]{{1,100}})?#(?P<num>{NUMBER})"
    r"|https?://[A-Za-z0-9.-]{1,100}/(?P<urlrepo>[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})"
    rf"/issues/(?P<urlnum>{NUMBER}))"
)
_BARE_NUMBER = re.compile(rf"[ \t]{{0,4}}(?P<num>{NUMBER})")


def strip_html_comments(text: str) -> str:
    """Drop ``<!-- ... -->`` (template hints); an unclosed one hides the rest, as on GitHub.

    A scan with `str.find`, not a regex: a lazy ``<!--.*?-->`` is quadratic on a body full
    of unclosed openers.
    """
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start == -1:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        end = text.find("-->", start + 4)
        if end == -1:
            break
        pos = end + 3
    return "".join(out)


def related_issues(body: str, repo_full_name: str) -> tuple[int, ...]:
    """Issue numbers in this repository that a PR body names as related.

    Reads the template's "Issue number:" field (``#12``, ``owner/repo#12``, an issue URL or a
    bare ``12``) and GitHub's closing keywords (``Fixes #12``); references to other
    repositories are not ours to label, and HTML comments (template hints) are skipped.
    """
    text = strip_html_comments(cap(body, MAX_BODY))
    found: list[int] = []
    own = repo_full_name.lower()

    def take(repo: str | None, num: str | None) -> None:
        if num is None:
            return
        if repo is not None and repo.lower() != own:
            return
        value = number(num)
        if value is not None and value not in found:
            found.append(value)

    for m in _FIELD.finditer(text):
        rest = m.group("rest")
        refs = list(_REF.finditer(rest))
        for r in refs:
            take(r.group("repo") or r.group("urlrepo"), r.group("num") or r.group("urlnum"))
        bare = _BARE_NUMBER.match(rest) if not refs else None
        if bare is not None:  # "Issue number: 123", as authors often fill the field
            take(None, bare.group("num"))
    for m in _CLOSING.finditer(text):
        take(m.group("repo") or m.group("urlrepo"), m.group("num") or m.group("urlnum"))
    return tuple(found)


def has_text(body: str, needle: str) -> bool:
    """Case-insensitive substring test (no regex: the needle comes from config)."""
    return needle.casefold() in cap(body, MAX_BODY).casefold()


class ReasonSection(PolicySection):
    """A check that blocks a new PR with `block_label` plus its own `reason_label` and one
    comment, and lifts them once the author fixes the description."""

    block_label: str = "do-not-merge"
    reason_label: str
    clear_when_fixed: bool = True
    message: str


def reason_plan(ctx: Context, cfg: ReasonSection, present: bool, key: str) -> Plan:
    """The plan of one reason check for a PR event; ``present``: the description passes it.

    On `opened` a missing piece gets the comment and both labels; once present again the
    reason label goes, and the block label too unless another enabled reason check's label
    is still on the PR (whatever policy that is: they are found in the registry).
    """
    from steward.policies import registry

    plan = Plan()
    ev = ctx.event
    if not isinstance(ev, PullRequestEvent):
        return plan
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
        others = {
            section.reason_label
            for p in registry.policies()
            if isinstance(section := p.of(ctx.config), ReasonSection)
            and section is not cfg
            and section.enabled
        }
        if cfg.block_label in pr.labels and not (others & set(pr.labels)):
            plan.add(RemoveLabel(pr.number, cfg.block_label))
    return plan


def merge_group_status(
    ev: MergeGroupEvent,
    ctx: Context,
    context: str,
    judge: Callable[[PullRequest, str], SetStatus],
) -> SetStatus:
    """A required status for a merge group's commit, judged from the pull request it was
    made for (read fresh into the snapshot) exactly as on the pull request itself.

    A group whose ref names no pull request, or whose pull request could not be read, gets
    ``error``: a required check steward cannot judge must not let the queue merge.
    """
    number = ev.pull_number
    if number is None:
        return SetStatus(0, ev.head_sha, "error", context, "merge group names no pull request")
    pr = ctx.snapshot.pulls.get(number)
    if pr is None:
        return SetStatus(
            number, ev.head_sha, "error", context, f"pull request #{number} could not be read"
        )
    return judge(pr, ev.head_sha)
