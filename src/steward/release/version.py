"""The version engine: PEP 440 versions from tags, and the next version from commits.

The core (`TagScheme`, `bump_level`, `plan_next`) is pure; `current_version` and
`next_version` read the repository. A release's level comes from the commits no final release
contains: breaking -> major (minor while the major is 0, unless configured), a minor type
(feat) -> minor, anything else releasable -> patch. Pre-releases count up (`3.2.1a0`,
`3.2.1a1`, ...) and never go backwards: the next version is above every tagged one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.version import InvalidVersion, Version

from steward.conventional import Message
from steward.errors import UsageError
from steward.history.git import Tag, ensure_repo, head_sha, iter_commits, read_tags
from steward.release.config import VersionConfig

log = logging.getLogger(__name__)

Level = Literal["major", "minor", "patch"]
Phase = Literal["a", "b", "rc"]
_ORDER = {"patch": 0, "minor": 1, "major": 2}
_PHASES = ("a", "b", "rc")


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
    """Tag names <-> versions for a pattern such as `v{version}` or `release-{version}`."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        prefix, _, suffix = pattern.partition("{version}")
        self._re = re.compile(re.escape(prefix) + "(?P<v>.+)" + re.escape(suffix))

    def parse(self, tag: str) -> Version | None:
        m = self._re.fullmatch(tag)
        return try_normalize(m.group("v")) if m else None

    def format(self, version: Version) -> str:
        return self.pattern.replace("{version}", str(version))


@dataclass(frozen=True, slots=True)
class Release:
    version: Version
    tag: Tag


@dataclass(slots=True)
class ReleaseTags:
    """Release tags, oldest version first, and the tags that are not versions."""

    releases: list[Release] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def finals(self) -> list[Release]:
        return [r for r in self.releases if not r.version.is_prerelease]

    def latest(self, *, final: bool = False) -> Release | None:
        pool = self.finals if final else self.releases
        return pool[-1] if pool else None


def release_tags(tags: Iterable[Tag], scheme: TagScheme) -> ReleaseTags:
    """Sort version tags by PEP 440 order; tags that are not versions go to ``ignored``."""
    out = ReleaseTags()
    for tag in tags:
        v = scheme.parse(tag.name)
        if v is None:
            out.ignored.append(tag.name)
        else:
            out.releases.append(Release(v, tag))
    out.releases.sort(key=lambda r: (r.version, r.tag.name))
    if out.ignored:
        shown = ", ".join(out.ignored[:5]) + (" ..." if len(out.ignored) > 5 else "")
        log.warning(
            "ignored %d tag(s) that do not match %r as a version: %s",
            len(out.ignored),
            scheme.pattern,
            shown,
        )
    return out


def bump_level(
    messages: Iterable[Message], cfg: VersionConfig, base: Version | None
) -> Level | None:
    """The largest bump the commits ask for; ``None`` when nothing is releasable."""
    level: Level | None = None
    breaking: Level = (
        "minor"
        if base is not None and base.major == 0 and (cfg.breaking_before_1 == "minor")
        else "major"
    )
    for m in messages:
        if m.merge:
            continue
        ctype = m.header.type if m.header is not None else None
        if m.breaking:
            this: Level = breaking
        elif ctype in cfg.minor_types:
            this = "minor"
        elif ctype in cfg.ignore_types:
            continue
        else:
            this = "patch"
        if level is None or _ORDER[this] > _ORDER[level]:
            level = this
            if level == breaking == "major":
                break
    return level


def bump(base: Version, level: Level) -> Version:
    major, minor, patch = [*base.release, 0, 0][:3]
    if level == "major":
        return Version(f"{major + 1}.0.0")
    if level == "minor":
        return Version(f"{major}.{minor + 1}.0")
    return Version(f"{major}.{minor}.{patch + 1}")


@dataclass(frozen=True, slots=True)
class NextVersion:
    version: Version
    level: Level | None
    reason: str


def plan_next(
    base: Version | None,
    level: Level | None,
    existing: Iterable[Version],
    *,
    prerelease: Phase | None = None,
    initial: Version | None = None,
) -> NextVersion:
    """The next version after final release ``base`` given the commits' ``level``.

    ``existing`` are all tagged versions (pre-releases included): a pre-release counts up
    from the last one of the same release and phase, and no result is below an existing tag.
    """
    tagged = sorted(set(existing))
    if base is None:
        target = initial or Version("0.1.0")
        reason = f"no release yet: first release {target}"
    elif level is None:
        target = base
        reason = f"no releasable change since {base}"
    else:
        target = bump(base, level)
        reason = f"{level} bump of {base}"
    top = tagged[-1] if tagged else None
    if top is not None and top.is_prerelease and Version(top.base_version) > target:
        target = Version(top.base_version)
        reason += f"; continuing the pre-releases of {target}"
    if prerelease is None:
        if level is None and base is not None and target == base:
            return NextVersion(base, None, reason)
        return NextVersion(target, level, reason)
    if prerelease not in _PHASES:
        raise UsageError(f"--prerelease must be one of {', '.join(_PHASES)}")
    if level is None and base is not None and target == base:
        return NextVersion(base, None, reason + "; no pre-release to make")
    same = [v for v in tagged if v.pre is not None and Version(v.base_version) == target]
    number = 0
    if same:
        phase, n = same[-1].pre  # type: ignore[misc]
        if phase == prerelease:
            number = n + 1
        elif _PHASES.index(prerelease) < _PHASES.index(phase):
            raise UsageError(
                f"{same[-1]} is already tagged: a {prerelease!r} pre-release cannot follow it"
            )
    result = Version(f"{target}{prerelease}{number}")
    return NextVersion(result, level, reason + f"; pre-release {prerelease}{number}")


def load_release_tags(repo: Path, cfg: VersionConfig) -> ReleaseTags:
    ensure_repo(repo)
    return release_tags(read_tags(repo), TagScheme(cfg.tag_pattern))


def current_version(repo: Path, cfg: VersionConfig) -> Version | None:
    """The highest tagged version (pre-releases included); ``None`` when nothing is tagged."""
    latest = load_release_tags(repo, cfg).latest()
    return latest.version if latest else None


def unreleased_messages(repo: Path, tags: ReleaseTags) -> Iterable[Message]:
    """Commits HEAD reaches that no final release tag reaches (pre-releases fold in)."""
    head = head_sha(repo)
    if head is None:
        return
    for commit in iter_commits(repo, [head], [r.tag.sha for r in tags.finals]):
        yield commit.message


def next_version(
    repo: Path,
    cfg: VersionConfig,
    *,
    prerelease: Phase | None = None,
    initial: Version | None = None,
    tags: ReleaseTags | None = None,
) -> NextVersion:
    """The next version for the repository at ``repo`` (see `plan_next`).

    ``initial`` is the first release when nothing is tagged (e.g. the project file's version);
    ``cfg.initial_version`` otherwise.
    """
    tags = tags if tags is not None else load_release_tags(repo, cfg)
    latest_final = tags.latest(final=True)
    base = latest_final.version if latest_final else None
    level = bump_level(unreleased_messages(repo, tags), cfg, base)
    return plan_next(
        base,
        level,
        (r.version for r in tags.releases),
        prerelease=prerelease,
        initial=initial or normalize(cfg.initial_version),
    )
