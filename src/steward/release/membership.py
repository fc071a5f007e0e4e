"""Which commits are a monorepo package's (pure: the git reading is the caller's).

A commit is a package's when

* it changed a file under one of the package's paths (old paths included: a directory
  renamed long ago is still listed, so the history before the rename stays the package's);
* the package opts into ``scopes`` and the commit's conventional scope is one of them
  (`fix(core): ...` touching only root files); or
* it reverts a commit that is the package's: a revert's own files often do not show it (a
  revert resolved down to the lock file, the merge commit of a revert PR, which lists no
  files, a revert of a commit that was the package's by its scope).

Commits come children first, so a revert comes before the commit it reverts. The decision
stays in the one pass: the reverted commit's subject line, which the revert names, decides
by its scope without any lookup; otherwise the caller's ``lookup`` reads the reverted commit
(by the sha `git revert` writes, else by the subject line GitHub's `Revert "..." (#13)`
names), at most once per reverted commit however many packages ask.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from steward.conventional import clean_match, parse_header, parse_message
from steward.history.records import Commit
from steward.release.changes import touches

MAX_REVERT_DEPTH = 8  # a revert of a revert of ...: followed this far
_PR_SUFFIX = re.compile(r"\s*\(#[0-9]{1,9}\)\s*$")
_ELLIPSIS = "\u2026"  # GitHub cuts a long title with it


@dataclass(frozen=True, slots=True)
class Membership:
    """One package: ``paths`` (empty: the whole repository) and the conventional
    ``scopes`` (case-folded; empty: opted out) that make a commit its own."""

    paths: tuple[str, ...] = ()
    scopes: frozenset[str] = frozenset()

    def owns(self, commit: Commit, scopes: Callable[[], frozenset[str]]) -> bool:
        """By the commit itself: its files or its scope (``scopes()`` reads it lazily)."""
        return touches(commit, self.paths) or bool(self.scopes and self.scopes & scopes())


@dataclass(frozen=True, slots=True)
class Reverted:
    """What a revert names: the reverted commit's ``sha`` (`This reverts commit ...`) and
    subject ``line``; ``before`` are the revert's parents, where to look for that line."""

    sha: str | None
    line: str | None
    before: tuple[str, ...]


Lookup = Callable[[Reverted], Commit | None]


def named_text(line: str) -> str:
    """What a revert's named line says of the reverted subject: GitHub's revert names the
    PR's title, without the squash commit's `(#12)` and cut with `…` when long."""
    return _PR_SUFFIX.sub("", line).removesuffix(_ELLIPSIS).rstrip()


def names(line: str, subject: str) -> bool:
    """Whether a revert naming ``line`` names a commit whose subject is ``subject``."""
    have = _PR_SUFFIX.sub("", subject).strip()
    if _PR_SUFFIX.sub("", line).endswith(_ELLIPSIS):
        return have.startswith(named_text(line))
    return have == named_text(line)


def subject_scopes(subject: str) -> frozenset[str]:
    """The conventional scopes of a subject line, case-folded (`feat(a,b): x` has two)."""
    m = clean_match(subject)
    if m is not None:
        scope = m.group("scope")
        return frozenset({scope.casefold()}) if scope else frozenset()
    header = parse_header(subject)
    return frozenset(s.casefold() for s in header.scopes) if header else frozenset()


def reverted(commit: Commit) -> Reverted | None:
    """What ``commit`` reverts, when it is a revert (`Revert "..."`, `revert: ...`)."""
    if commit.subject[:6].lower() != "revert":  # the hot path: most commits are not
        return None
    msg = parse_message(commit.subject, commit.body)
    if msg.revert_of is None and msg.reverted_sha is None:
        return None
    return Reverted(msg.reverted_sha, msg.revert_of, commit.parents)


class Judge:
    """Which of ``members`` each commit belongs to, as a bit mask (bit i: ``members[i]``).

    ``lookup`` reads a reverted commit (with its files) when the revert's own files and
    scope, and the scope of the subject it names, leave a package undecided; without it a
    revert is judged on what it shows. Reverted commits are remembered (a handful: only
    reverts ask), so each is read once.
    """

    def __init__(self, members: Sequence[Membership], lookup: Lookup | None = None) -> None:
        self.members = tuple(members)
        self.full = (1 << len(self.members)) - 1
        self.lookup = lookup
        self._targets: dict[Reverted, int] = {}
        self._scoped = any(m.scopes for m in self.members)

    def mask(self, commit: Commit, depth: int = 0) -> int:
        found = 0
        cache: list[frozenset[str]] = []

        def scopes() -> frozenset[str]:
            if not cache:
                cache.append(subject_scopes(commit.subject))
            return cache[0]

        for bit, member in enumerate(self.members):
            if member.owns(commit, scopes):
                found |= 1 << bit
        if found == self.full:
            return found
        ref = reverted(commit)
        if ref is None:
            return found
        if self._scoped and ref.line is not None:
            named = subject_scopes(ref.line)
            for bit, member in enumerate(self.members):
                if member.scopes & named:
                    found |= 1 << bit
        if found != self.full and self.lookup is not None and depth < MAX_REVERT_DEPTH:
            found |= self._target(ref, depth)
        return found

    def _target(self, ref: Reverted, depth: int) -> int:
        key = ref if ref.sha is None else Reverted(ref.sha, None, ())
        if key not in self._targets:
            self._targets[key] = 0  # a cycle (never in git) or a miss: no package
            assert self.lookup is not None
            target = self.lookup(ref)
            if target is not None:
                self._targets[key] = self.mask(target, depth + 1)
        return self._targets[key]

    def holds(self, commit: Commit) -> bool:
        """Whether ``commit`` is the first member's (a one-package judge)."""
        return bool(self.mask(commit) & 1)


class Walk(Iterator[Commit]):
    """A package's commits as read (every commit in range, for release ranks), with the
    judge that says which are the package's: `build_changelog` keeps those."""

    def __init__(self, commits: Iterable[Commit], judge: Judge) -> None:
        self._commits = iter(commits)
        self.judge = judge

    def __iter__(self) -> Walk:
        return self

    def __next__(self) -> Commit:
        return next(self._commits)

    def holds(self, commit: Commit) -> bool:
        return self.judge.holds(commit)
