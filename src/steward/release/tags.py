"""Which tags are releases, and which releases are on HEAD's line (pure).

A release tag matches `version.tag_pattern` with a complete version (`X.Y.Z`, PEP 440, a
pre-release suffix allowed): floating tags such as `v1` or `v1.1`, which move with each
release, are not releases, and neither is a tag `version.ignore_tags` names. The current
version is the newest release on HEAD's line (see `steward.history.lines`), not the highest
tag in the repository: a maintenance branch has its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from steward.config.release import VersionConfig
from steward.errors import UsageError
from steward.history.records import Tag
from steward.patterns import compile_user_patterns

COMPLETE = 3  # X.Y.Z: fewer components is a floating tag


def normalize(text: str) -> Version:
    """Parse a version the way PEP 440 normalises it (`v3.2.1-alpha.1` -> `3.2.1a1`)."""
    try:
        return Version(text.strip())
    except InvalidVersion:
        raise UsageError(f"{text!r} is not a PEP 440 version") from None


def try_normalize(text: str) -> Version | None:
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


class TagScheme:
    """Tag names <-> versions for a pattern such as `v{version}` or `mypkg-v{version}`."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        prefix, _, suffix = pattern.partition("{version}")
        self._re = re.compile(re.escape(prefix) + "(?P<v>.+)" + re.escape(suffix))

    def version_text(self, tag: str) -> str | None:
        m = self._re.fullmatch(tag)
        return m.group("v") if m else None

    def parse(self, tag: str) -> Version | None:
        """The version a release tag names; ``None`` for other tags (floating ones too)."""
        text = self.version_text(tag)
        if text is None:
            return None
        v = try_normalize(text)
        return v if v is not None and len(v.release) >= COMPLETE else None

    def format(self, version: Version) -> str:
        return self.pattern.replace("{version}", str(version))


@dataclass(frozen=True, slots=True)
class Release:
    version: Version
    tag: Tag


@dataclass(slots=True)
class ReleaseTags:
    """Release tags, oldest version first, and the tags that are not releases (with why)."""

    releases: list[Release] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)

    @property
    def finals(self) -> list[Release]:
        return [r for r in self.releases if not r.version.is_prerelease]

    def latest(self, *, final: bool = False) -> Release | None:
        pool = self.finals if final else self.releases
        return pool[-1] if pool else None

    def by_name(self, name: str) -> Release | None:
        return next((r for r in self.releases if r.tag.name == name), None)


def classify_tags(
    tags: Iterable[Tag], cfg: VersionConfig, pattern: str | None = None
) -> ReleaseTags:
    """Sort release tags by PEP 440 order; every other tag goes to ``ignored`` with a reason.

    ``pattern`` overrides `cfg.tag_pattern` (a monorepo package's own pattern): tags that do
    not match it at all are another package's and are not reported.
    """
    scheme = TagScheme(pattern or cfg.tag_pattern)
    ignore = compile_user_patterns(cfg.ignore_tags, "version.ignore_tags")
    out = ReleaseTags()
    for tag in tags:
        text = scheme.version_text(tag.name)
        if text is None:
            if pattern is None:
                out.ignored.append((tag.name, f"does not match {scheme.pattern!r}"))
            continue
        if ignore.matches(tag.name):
            out.ignored.append((tag.name, "matches version.ignore_tags"))
            continue
        v = try_normalize(text)
        if v is None:
            out.ignored.append((tag.name, "not a PEP 440 version"))
        elif len(v.release) < COMPLETE:
            out.ignored.append((tag.name, "not a complete X.Y.Z version (a floating tag)"))
        else:
            out.releases.append(Release(v, tag))
    out.releases.sort(key=lambda r: (r.version, r.tag.name))
    return out


@dataclass(slots=True)
class Line:
    """The releases as seen from HEAD.

    ``on_line`` are the releases on HEAD's line; ``shown`` adds those of other lines older
    than the current version (a trunk's changelog lists its maintenance releases; a
    maintenance branch does not list the trunk's newer ones). Both oldest first.
    """

    tags: ReleaseTags
    on_line: list[Release]
    shown: list[Release]
    state: Any = None  # how it was found (`steward.history.lines.LineState`), for a cache
    head: str | None = None  # the commit it was seen from

    def off_line(self) -> list[tuple[str, str]]:
        """The release tags not on this line and why, newest version first."""
        why = self.state.off_line if self.state is not None else {}
        newest_first = reversed(self.tags.releases)
        return [(r.tag.name, why[r.tag.name]) for r in newest_first if r.tag.name in why]

    def signature(self) -> list[tuple[str, str]]:
        """The shown releases by tag name and object: what a cached render depends on."""
        return [(r.tag.name, r.tag.oid) for r in self.shown]

    @property
    def current(self) -> Release | None:
        return self.on_line[-1] if self.on_line else None

    @property
    def current_final(self) -> Release | None:
        finals = [r for r in self.on_line if not r.version.is_prerelease]
        return finals[-1] if finals else None

    @property
    def versions(self) -> list[Version]:
        """Every tagged version: no new version may collide with or undercut these."""
        return [r.version for r in self.tags.releases]


def select_line(tags: ReleaseTags, on_line_names: Set[str]) -> Line:
    on_line = [r for r in tags.releases if r.tag.name in on_line_names]
    top = on_line[-1].version if on_line else None
    shown = [
        r
        for r in tags.releases
        if r.tag.name in on_line_names or (top is not None and r.version < top)
    ]
    return Line(tags, on_line, shown)
