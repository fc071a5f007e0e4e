"""Offline release notes: the pulls are read back from git history.

Each squash-merged commit stands for its PR: the number from the subject's `(#123)`, the
labels from the commit type (the semantic-title mapping, plus the breaking label), the author
from the commit (a GitHub login when the e-mail is a `users.noreply.github.com` one) and the
co-authors from `Co-authored-by:` trailers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from steward.history.git import Commit, head_sha, iter_commits
from steward.release.notes import PullRequest

_NOREPLY = re.compile(
    r"^(?:\d+\+)?(?P<login>[A-Za-z0-9-]+(?:\[bot\])?)@users\.noreply\.github\.com$"
)
_CO = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")
_SUFFIX = re.compile(r"\s*\(#[0-9]{1,9}\)\s*$")


def login_for(name: str, email: str) -> str:
    m = _NOREPLY.match(email.strip())
    return m.group("login") if m else name.strip()


def pull_from_commit(
    commit: Commit, types: Mapping[str, str | None], breaking_label: str
) -> PullRequest | None:
    """The PR a commit stands for; ``None`` for merge commits."""
    msg = commit.message
    if msg.merge or len(commit.parents) > 1:
        return None
    labels: list[str] = []
    if msg.header is not None:
        label = types.get(msg.header.type)
        if label:
            labels.append(label)
    if msg.breaking:
        labels.append(breaking_label)
    co: list[str] = []
    for raw in msg.co_authors:
        m = _CO.match(raw)
        if m is not None:
            co.append(login_for(m.group("name"), m.group("email")))
        elif raw.strip():
            co.append(raw.strip())
    return PullRequest(
        number=msg.pr,
        title=_SUFFIX.sub("", commit.subject).strip(),
        author=login_for(commit.author_name, commit.author_email),
        labels=tuple(labels),
        co_authors=tuple(co),
    )


def pulls_from_git(
    repo: Path,
    exclude_tips: list[str],
    types: Mapping[str, str | None],
    breaking_label: str,
) -> Iterator[PullRequest]:
    """Pulls for the commits HEAD reaches and no ``exclude_tips`` does, newest first."""
    head = head_sha(repo)
    if head is None:
        return
    for commit in iter_commits(repo, [head], exclude_tips):
        pr = pull_from_commit(commit, types, breaking_label)
        if pr is not None:
            yield pr
