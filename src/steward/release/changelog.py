"""The changelog's data model, built from git in one streaming pass.

Releases are the version tags (`git log PREV..TAG` each, see `steward.history.releases`),
newest first after an Unreleased block. Each release groups its commits into titled sections
by commit type, in the configured order; unlisted types and excluded subjects are left out;
non-conforming commits are counted and reported, never fatal. The model is plain data, fed
to the templates and printed by `--json`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.conventional import parse_message
from steward.history.git import head_sha, iter_records, remote_url
from steward.history.progress import Progress
from steward.history.releases import UNRELEASED, assign_records
from steward.release.config import ChangelogConfig, VersionConfig
from steward.release.fastheader import clean_match, fast_header
from steward.release.version import Release, load_release_tags

_EMAIL = re.compile(r"\s*<[^<>]*>\s*$")
# The type a conventional subject starts with: lets most commits skip the full parse.
_TYPE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)[(!:]")


@dataclass(slots=True)
class Entry:
    type: str
    scope: str | None
    subject: str
    pr: int | None
    sha: str
    breaking: bool
    authors: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "scope": self.scope,
            "subject": self.subject,
            "pr": self.pr,
            "sha": self.sha,
            "breaking": self.breaking,
            "authors": self.authors,
        }


@dataclass(slots=True)
class Section:
    type: str
    title: str
    entries: list[Entry]


@dataclass(slots=True)
class VersionBlock:
    """One release (``tag`` None: Unreleased) with its sections in configured order."""

    version: str | None
    tag: str | None
    date: str | None
    previous_tag: str | None
    sections: list[Section]
    notes: list[str] = field(default_factory=list)  # BREAKING CHANGE notes

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "date": self.date,
            "sections": [
                {"title": s.title, "entries": [e.to_json() for e in s.entries]}
                for s in self.sections
            ],
        }


@dataclass(slots=True)
class Changelog:
    versions: list[VersionBlock]
    repository_url: str | None
    nonconforming: list[tuple[str, str]] = field(default_factory=list)
    nonconforming_count: int = 0
    commits: int = 0
    ignored_tags: list[str] = field(default_factory=list)
    tagged: bool = True

    @property
    def unreleased(self) -> VersionBlock | None:
        return self.versions[0] if self.versions and self.versions[0].tag is None else None

    @property
    def releases(self) -> list[VersionBlock]:
        return [v for v in self.versions if v.tag is not None]

    def to_json(self) -> dict[str, Any]:
        return {"versions": [v.to_json() for v in self.versions]}


class _Collector:
    """Turns commits into entries, grouped by release rank and type."""

    def __init__(self, cfg: ChangelogConfig) -> None:
        self.cfg = cfg
        self.exclude = (
            re.compile("|".join(f"(?:{p})" for p in cfg.exclude)) if cfg.exclude else None
        )
        self.sections_map = cfg.sections
        self.groups: dict[int, dict[str, list[Entry]]] = {}
        self.buckets: dict[tuple[int, str], list[Entry]] = {}
        self.notes: dict[int, list[str]] = {}
        self.nonconforming: list[tuple[str, str]] = []
        self.nonconforming_count = 0
        self.commits = 0

    def add(self, rank: int, rec: list[str]) -> None:
        """One raw record (see `iter_records`); most are dismissed on the subject alone."""
        self.commits += 1
        if " " in rec[1]:
            return  # merge commits: the merged commits speak for themselves
        subject = rec[5]
        m = None if rec[6] else clean_match(subject)
        if m is not None:  # the common case, in one regular expression (see fastheader)
            ctype = m.group("type").lower()
            if ctype not in self.sections_map:
                return
            if self.exclude is not None and self.exclude.search(subject):
                return
            pr = m.group("pr")
            self.bucket(rank, ctype).append(
                Entry(
                    ctype,
                    m.group("scope"),
                    m.group("subject"),
                    int(pr) if pr else None,
                    rec[0],
                    m.group("bang") is not None,
                    [rec[2]],
                )
            )
            return
        tm = _TYPE.match(subject)
        if tm is not None and tm.group(1).lower() not in self.sections_map:
            return  # a type the changelog leaves out: no need to parse further
        if self.exclude is not None and self.exclude.search(subject):
            return
        header = fast_header(subject) if not rec[6] else None
        co_authors: tuple[str, ...] = ()
        notes: tuple[str, ...] = ()
        if header is not None:
            breaking, pr = header.breaking, header.pr
        else:
            msg = parse_message(subject, rec[6])
            header = msg.header
            breaking, pr, co_authors, notes = (
                msg.breaking,
                msg.pr,
                msg.co_authors,
                msg.breaking_notes,
            )
            if header is None:
                if msg.merge:
                    return
                if msg.revert_of is None:
                    self.nonconforming_count += 1
                    if len(self.nonconforming) < 1000:
                        self.nonconforming.append((rec[0], subject[:200]))
                    return
        if header is None:
            ctype, scope, text = "revert", None, subject.strip()
        else:
            ctype = header.type
            scope = ",".join(header.scopes) or None
            text = header.subject
        if ctype not in self.sections_map:
            return
        authors = [rec[2]]
        for co in co_authors:
            name = _EMAIL.sub("", co)
            if name and name not in authors:
                authors.append(name)
        self.bucket(rank, ctype).append(Entry(ctype, scope, text, pr, rec[0], breaking, authors))
        if notes:
            self.notes.setdefault(rank, []).extend(notes)

    def bucket(self, rank: int, ctype: str) -> list[Entry]:
        key = (rank, ctype)
        entries = self.buckets.get(key)
        if entries is None:
            entries = self.buckets[key] = []
            self.groups.setdefault(rank, {})[ctype] = entries
        return entries

    def sections(self, rank: int) -> list[Section]:
        by_type = self.groups.get(rank, {})
        out = []
        for ctype, title in self.cfg.sections.items():
            entries = by_type.get(ctype)
            if entries:
                # git-chglog's default order: by scope (none first), stable within a scope.
                entries.sort(key=lambda e: e.scope or "")
                out.append(Section(ctype, title, entries))
        return out


def build_changelog(
    repo: Path,
    cfg: ChangelogConfig,
    vcfg: VersionConfig,
    *,
    unreleased_only: bool = False,
    progress: Progress | None = None,
) -> Changelog:
    """Read the history once and group it into releases and sections."""
    tags = load_release_tags(repo, vcfg)
    releases: list[Release] = tags.releases if cfg.include_prereleases else tags.finals
    ranks: dict[str, int] = {}
    for i, rel in enumerate(releases):
        ranks.setdefault(rel.tag.sha, i)
    head = head_sha(repo)
    collector = _Collector(cfg)
    stream: Iterable[tuple[int, list[str]]]
    if unreleased_only:
        records = iter_records(repo, [head], list(ranks), progress=progress) if head else ()
        stream = ((UNRELEASED, rec) for rec in records)
    else:
        stream = assign_records(repo, ranks, head, progress=progress)
    for rank, commit in stream:
        collector.add(rank, commit)

    versions = [
        VersionBlock(
            None,
            None,
            None,
            releases[-1].tag.name if releases else None,
            collector.sections(UNRELEASED),
            collector.notes.get(UNRELEASED, []),
        )
    ]
    if not unreleased_only:
        for i in range(len(releases) - 1, -1, -1):
            rel = releases[i]
            versions.append(
                VersionBlock(
                    version=str(rel.version),
                    tag=rel.tag.name,
                    date=rel.tag.date[:10],
                    previous_tag=releases[i - 1].tag.name if i > 0 else None,
                    sections=collector.sections(i),
                    notes=collector.notes.get(i, []),
                )
            )
    url = cfg.repository_url.rstrip("/") if cfg.repository_url else remote_url(repo)
    return Changelog(
        versions=versions,
        repository_url=url,
        nonconforming=collector.nonconforming,
        nonconforming_count=collector.nonconforming_count,
        commits=collector.commits,
        ignored_tags=tags.ignored,
        tagged=bool(releases),
    )
