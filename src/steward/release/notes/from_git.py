"""Offline release notes: the pulls are read back from git history.

Each squash-merged commit stands for its PR: the number from the subject's `(#123)`, the
labels from the commit type (the semantic-title mapping, plus the breaking label), the author
from the commit (a GitHub login when the e-mail is a `users.noreply.github.com` one) and the
co-authors from `Co-authored-by:` trailers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from steward.domain.logins import noreply_login
from steward.domain.refs import NUMBER
from steward.history.records import Commit
from steward.release.changes import cancel_reverts, changes_of
from steward.release.notes.draft import PullRequest

_CO = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")
_SUFFIX = re.compile(rf"\s*\(#{NUMBER}\)\s*$")


def commits_by_sha(commits: Iterable[Commit], keep: set[str]) -> Iterator[Commit]:
    return (c for c in commits if c.sha in keep)


def login_for(name: str, email: str) -> str:
    """The GitHub `Login` in a noreply ``email``, else ``name`` (a plain name)."""
    return noreply_login(email) or name.strip()


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


def pulls_from_commits(
    commits: Iterable[Commit], types: Mapping[str, str | None], breaking_label: str
) -> Iterator[PullRequest]:
    """Pulls for ``commits`` (newest first), a squashed revert and what it reverts cancelled,
    each PR once."""
    kept = cancel_reverts([c for commit in commits for c in changes_of(commit)])
    keep = {c.sha for c in kept}
    seen: set[int] = set()
    for commit in commits_by_sha(commits, keep):
        pr = pull_from_commit(commit, types, breaking_label)
        if pr is None or (pr.number is not None and pr.number in seen):
            continue
        if pr.number is not None:
            seen.add(pr.number)
        yield pr
