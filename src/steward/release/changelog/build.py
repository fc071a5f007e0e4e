"""The changelog's data model, a pure function of commits and releases.

`build_changelog(commits, releases, cfg)` takes the commits in topological order (children
first) and the releases to show (oldest first); each commit goes to the oldest release whose
tag reaches it (`git log PREV..TAG` for every release at once, see
`steward.history.releases`), the rest to Unreleased. Each release groups its changes into
titled sections by type in the configured order (two types with one title share a heading),
breaking changes of unlisted types in a section of their own, then git-chglog's groups:
reverts, merged pull requests, and `BREAKING CHANGE` notes. A revert and the commit it
reverts in the same release cancel out. Non-conforming commits are counted, never fatal.
The model is plain data, fed to the templates and printed by `--json`.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from steward.config.release import ChangelogConfig
from steward.domain.refs import LOGIN, NUMBER
from steward.history.records import Commit
from steward.history.releases import UNRELEASED, assign_releases
from steward.patterns import compile_user_patterns
from steward.release.changes import STANDARD_TYPES, Change, cancel_reverts, changes_of, touches
from steward.release.membership import Walk
from steward.release.tags import Release

Entry = Change  # what a template calls one line of a section


@dataclass(slots=True)
class Section:
    type: str
    title: str
    entries: list[Change]


@dataclass(slots=True)
class VersionBlock:
    """One release (``tag`` None: Unreleased) with its sections in configured order."""

    version: str | None
    tag: str | None
    date: str | None
    previous_tag: str | None
    sections: list[Section]
    notes: list[str] = field(default_factory=list)  # BREAKING CHANGE notes
    reverts: list[Change] = field(default_factory=list)
    merges: list[Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tag": self.tag,
            "date": self.date,
            "sections": [
                {"title": s.title, "entries": [e.to_json() for e in s.entries]}
                for s in self.sections
            ],
            "reverts": [r.to_json() for r in self.reverts],
            "pull_requests": [m.to_json() for m in self.merges],
            "notes": self.notes,
        }


@dataclass(slots=True)
class Changelog:
    versions: list[VersionBlock]
    repository_url: str | None
    nonconforming: list[tuple[str, str]] = field(default_factory=list)
    nonconforming_count: int = 0
    nonconforming_unreleased: int = 0
    commits: int = 0
    ignored_tags: list[tuple[str, str]] = field(default_factory=list)
    tagged: bool = True
    off_line: list[tuple[str, str]] = field(default_factory=list)  # release tags off HEAD's line

    @property
    def unreleased(self) -> VersionBlock | None:
        return self.versions[0] if self.versions and self.versions[0].tag is None else None

    @property
    def releases(self) -> list[VersionBlock]:
        return [v for v in self.versions if v.tag is not None]

    def to_json(self) -> dict[str, Any]:
        return {"versions": [v.to_json() for v in self.versions]}


class Collector:
    """Turns commits into changes kept per release rank; dismisses most on the subject."""

    def __init__(self, cfg: ChangelogConfig) -> None:
        self.cfg = cfg
        self.exclude = compile_user_patterns(cfg.exclude, "changelog.exclude")
        self.body_types = STANDARD_TYPES | set(cfg.sections)
        self.kept: dict[int, list[Change]] = {}
        self.notes: dict[int, list[str]] = {}
        self.nonconforming: list[tuple[str, str]] = []
        self.nonconforming_count = 0
        self.nonconforming_unreleased = 0
        self.commits = 0
        # read once, not per commit (the hot path of a changelog over a long history)
        self._sections = cfg.sections
        self._body_entries = cfg.body_entries
        self._excluded = self.exclude.matches

    def add(self, rank: int, commit: Commit) -> None:
        self.commits += 1
        changes = changes_of(
            commit,
            body_entries=self._body_entries,
            body_types=self.body_types,
            wanted=self._sections,
        )
        if not changes:
            return
        sections = self._sections
        for c in changes:
            if c.notes:
                self.notes.setdefault(rank, []).extend(n or c.subject for n in c.notes)
            kind = c.kind
            if kind == "other":
                self.nonconforming_count += 1
                if rank == UNRELEASED:
                    self.nonconforming_unreleased += 1
                if len(self.nonconforming) < 1000:
                    self.nonconforming.append((c.sha, c.line[:200]))
                if not c.breaking:
                    continue
            elif kind == "commit" and not c.breaking and c.type not in sections:
                continue
            # every change's line is its commit's subject; a body entry is matched as a line
            # of its own
            if self._excluded(commit.subject if not c.extra else f"{c.type}: {c.text}"):
                continue
            kept = self.kept.get(rank)
            if kept is None:
                kept = self.kept[rank] = []
            kept.append(c)

    def block_parts(self, rank: int) -> tuple[list[Section], list[str], list[Change], list[Change]]:
        # Unreleased work that was reverted is no change at all; a released section keeps
        # both, as it was published (git-chglog's output does the same).
        changes = self.kept.get(rank, [])
        if rank == UNRELEASED:
            changes = cancel_reverts(changes)
        by_title: dict[str, list[Change]] = {}
        breaking: list[Change] = []
        reverts: list[Change] = []
        merges: list[Change] = []
        sections = self.cfg.sections
        for c in changes:
            if c.kind == "revert":
                reverts.append(c)
            elif c.kind == "merge":
                merges.append(c)
            elif c.type in sections:
                by_title.setdefault(sections[c.type], []).append(c)
            else:  # breaking, of a type with no section of its own
                breaking.append(c)
        out: list[Section] = []
        if breaking:
            out.append(Section("breaking", self.cfg.breaking_title, _by_scope(breaking)))
        seen: set[str] = set()
        for ctype, title in sections.items():
            if title in by_title and title not in seen:
                seen.add(title)
                out.append(Section(ctype, title, _by_scope(by_title[title])))
        return out, self.notes.get(rank, []), reverts, merges


def _by_scope(entries: list[Change]) -> list[Change]:
    # git-chglog's default order: by scope (none first), stable within a scope.
    return sorted(entries, key=lambda e: e.scope or "")


def build_changelog(
    commits: Iterable[Commit],
    releases: Sequence[Release],
    cfg: ChangelogConfig,
    *,
    repository_url: str | None = None,
    ignored_tags: Sequence[tuple[str, str]] = (),
    unreleased_only: bool = False,
    paths: Sequence[str] = (),
) -> Changelog:
    """Group ``commits`` (topological order) into ``releases`` (oldest first) and sections;
    with ``paths`` (a monorepo package), only the package's commits are read: those the
    walk's judge keeps when ``commits`` is a `membership.Walk` (its paths over time, its
    scopes, reverts of its commits), else those touching ``paths``."""
    keep = commits.holds if isinstance(commits, Walk) else lambda c: touches(c, paths)
    ranks: dict[str, int] = {}
    for i, rel in enumerate(releases):
        ranks.setdefault(rel.tag.sha, i)
    collector = Collector(cfg)
    # Nothing built here forms a cycle: the cyclic collector would only rescan the growing
    # heap of entries, over and over, on a long history.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        for rank, commit in assign_releases(commits, ranks):
            if not paths or keep(commit):
                collector.add(rank, commit)
    finally:
        if gc_was_on:
            gc.enable()
    sections, notes, reverts, merges = collector.block_parts(UNRELEASED)
    versions = [
        VersionBlock(
            None,
            None,
            None,
            releases[-1].tag.name if releases else None,
            sections,
            notes,
            reverts,
            merges,
        )
    ]
    if not unreleased_only:
        for i in range(len(releases) - 1, -1, -1):
            rel = releases[i]
            sections, notes, reverts, merges = collector.block_parts(i)
            versions.append(
                VersionBlock(
                    version=str(rel.version),
                    tag=rel.tag.name,
                    date=rel.tag.date[:10],
                    previous_tag=releases[i - 1].tag.name if i > 0 else None,
                    sections=sections,
                    notes=notes,
                    reverts=reverts,
                    merges=merges,
                )
            )
    return Changelog(
        versions=versions,
        repository_url=repository_url,
        nonconforming=collector.nonconforming,
        nonconforming_count=collector.nonconforming_count,
        nonconforming_unreleased=collector.nonconforming_unreleased,
        commits=collector.commits,
        ignored_tags=list(ignored_tags),
        tagged=bool(releases),
    )


# A reference or mention is linked whole or not at all (#16): `#N` is a whole number
# (`steward.domain.refs.NUMBER`) not glued to a word (`abc#12`); `@login` is a whole GitHub
# login (1-39 alphanumerics or single inner hyphens) neither inside a word or address
# (`user@example.com`) nor the head of a longer one (`@foo_bar`, `@foo-`, 40 characters).
_ISSUE_REF = re.compile(rf"(?<!\w)#({NUMBER})")
_MENTION = re.compile(rf"(?<![\w@/.])@({LOGIN})(?![\w-])")


def linker(repository_url: str | None) -> Callable[[str], str]:
    """``linkify(text)`` for templates: `#123` becomes a link to the issue or PR and `@login`
    to the profile, as in git-chglog's output on GitHub; text stays as is without a URL."""
    if not repository_url:
        return lambda text: text
    base = repository_url.rstrip("/")
    host = base.split("/", 3)
    profile = "/".join(host[:3]) if len(host) >= 3 else "https://github.com"

    issue = "[#\\1](" + base.replace("\\", "\\\\") + "/issues/\\1)"
    user = "[@\\1](" + profile.replace("\\", "\\\\") + "/\\1)"
    sub_issue, sub_user = _ISSUE_REF.sub, _MENTION.sub

    def linkify(text: str) -> str:
        if "#" in text:
            text = sub_issue(issue, text)
        return sub_user(user, text) if "@" in text else text

    return linkify
