"""The version engine (pure): the next version from the changes no release contains.

A release's level comes from the changes since the current final release on HEAD's line
(reverts cancelled): breaking -> major (minor while the major is 0, unless configured), a
minor type (feat) -> minor, a patch type (fix, perf; `["*"]`: any type not ignored) ->
patch, any other type -> nothing (Conventional Commits gives it no effect), a revert ->
patch when what it reverts released something, a non-conventional commit ->
`version.nonconventional`. Pre-releases count up (`3.2.1a0`, `3.2.1a1`, ...) and never go
backwards: the next version is above every tagged one. `steward.release.repository` feeds it
from git.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.version import Version

from steward.config.release import VersionConfig
from steward.conventional import parse_header
from steward.errors import UsageError
from steward.release.changes import Change, cancel_reverts
from steward.release.tags import normalize

Level = Literal["major", "minor", "patch"]
Phase = Literal["a", "b", "rc"]
_ORDER = {"patch": 0, "minor": 1, "major": 2}
_PHASES = ("a", "b", "rc")


def breaking_level(base: Version | None, cfg: VersionConfig) -> Level:
    """What a breaking change bumps: major, or minor while the major is 0 when configured."""
    if base is not None and base.major == 0 and cfg.breaking_before_1 == "minor":
        return "minor"
    return "major"


def releases_patch(ctype: str, cfg: VersionConfig) -> bool:
    """Whether a change of type ``ctype`` (not breaking, not a minor type) bumps the patch:
    listed in ``patch_types`` (or that is ``["*"]``) and not in ``ignore_types``."""
    if ctype in cfg.ignore_types:
        return False
    return cfg.patch_types == ["*"] or ctype in cfg.patch_types


def change_level(c: Change, cfg: VersionConfig, breaking: Level) -> Level | None:
    """The bump one change asks for; ``None`` when it releases nothing."""
    if c.kind == "merge":
        return None  # a merged PR: its commits speak for themselves
    if c.breaking:
        return breaking
    if c.kind == "other":
        return "patch" if cfg.nonconventional == "patch" else None
    ctype = c.type or "revert"
    if ctype in cfg.minor_types:
        return "minor"
    if releases_patch(ctype, cfg):
        return "patch"
    if ctype == "revert" and ctype not in cfg.ignore_types:
        return _revert_level(c, cfg)
    return None


def _revert_level(c: Change, cfg: VersionConfig) -> Level | None:
    """A revert undoes what users got from the reverted change: a patch when that change
    released something (a reverted feat is a patch too, as semantic-release has it), nothing
    when it did not (a reverted `docs:`); a patch when the reverted subject cannot be read."""
    reverted = parse_header(c.reverts) if c.reverts else None
    if (
        reverted is None
        or reverted.breaking
        or reverted.type in cfg.minor_types
        or reverted.type == "revert"  # a revert of a revert brings a change back
        or releases_patch(reverted.type, cfg)
    ):
        return "patch"
    return None


def bump_level(changes: Sequence[Change], cfg: VersionConfig, base: Version | None) -> Level | None:
    """The largest bump the changes ask for, reverts cancelled; ``None``: nothing to release."""
    level: Level | None = None
    breaking = breaking_level(base, cfg)
    for c in cancel_reverts(changes):
        this = change_level(c, cfg, breaking)
        if this is not None and (level is None or _ORDER[this] > _ORDER[level]):
            level = this
            if level == "major":
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


def next_version(
    base: Version | None,
    changes: Iterable[Change],
    existing: Iterable[Version],
    cfg: VersionConfig,
    *,
    prerelease: Phase | None = None,
    initial: Version | None = None,
) -> NextVersion:
    """The next version after final release ``base`` given the unreleased ``changes``.

    ``initial`` is the first release when nothing is tagged (e.g. the project file's
    version); ``cfg.initial_version`` otherwise.
    """
    level = bump_level(list(changes), cfg, base)
    return plan_next(
        base,
        level,
        existing,
        prerelease=prerelease,
        initial=initial or normalize(cfg.initial_version),
    )
