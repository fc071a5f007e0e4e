"""The release sections of the config: `version`, `changelog`, `release_notes` and
`packages`, each with the playbook's defaults (Powertools: tags `v{version}`, the git-chglog
section titles of its CHANGELOG, its release-drafter categories and template), and
`ReleaseSections`, what `steward version` and `steward changelog` load alone.

They are frozen dataclasses, not pydantic models: with no config file a release command
uses the defaults as they are and never imports pydantic (a third of its start-up on a
typical history). A file is validated by pydantic all the same (`steward.config.loader`
builds a `TypeAdapter`): every check is a `steward.config.checks.Check` in the field's
type, unknown keys are errors (``__pydantic_config__``), and `steward config check`
validates the whole file as before. A value built in code is not validated: only the
defaults below are, by a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Literal, Protocol, Self

from steward.config.checks import Check, RepoPath, doc, matching
from steward.config.lists import Once, OnceCaseBlind, repeated
from steward.workspace import Origin

_STRICT: Any = {"extra": "forbid"}  # pydantic's ConfigDict, as the plain dict it is


def _one_version(v: str) -> str:
    if v.count("{version}") != 1:
        raise ValueError("tag_pattern must contain {version} exactly once")
    return v


def _a_version(v: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        Version(v)
    except InvalidVersion:
        raise ValueError(f"{v!r} is not a PEP 440 version (e.g. 0.1.0)") from None
    return v


def _star_alone(v: list[str]) -> list[str]:
    if "*" in v and len(v) > 1:
        raise ValueError("'*' already means every type: give it alone, or list the types")
    return v


def _linear(what: str) -> Check:
    """Reject at load time a pattern that does not compile or could backtrack."""

    def check(patterns: list[str]) -> list[str]:
        from steward.patterns import compile_user_patterns

        compile_user_patterns(patterns, what)
        return patterns

    return Check(
        check,
        "regular expressions (RE2, linear-time)",
    )


@dataclass(frozen=True, kw_only=True)
class VersionConfig:
    __pydantic_config__ = _STRICT

    tag_pattern: Annotated[
        str, Check(_one_version, "release tag names; {version} is the PEP 440 version")
    ] = "v{version}"
    breaking_before_1: Annotated[
        Literal["major", "minor"],
        doc("what a breaking change bumps while the major version is 0"),
    ] = "minor"
    minor_types: Annotated[Once, doc("commit types that bump the minor version")] = field(
        default_factory=lambda: ["feat"]
    )
    patch_types: Annotated[
        Once,
        Check(
            _star_alone,
            "commit types that bump the patch version; other types release nothing "
            "(Conventional Commits gives them no effect). ['*']: every type not in "
            "ignore_types (steward's rule before this setting)",
        ),
    ] = field(default_factory=lambda: ["fix", "perf"])
    ignore_types: Annotated[
        Once,
        doc(
            "commit types that never release a patch, even when patch_types lists them or is ['*']"
        ),
    ] = field(default_factory=lambda: ["ci", "test", "tests", "style"])
    ignore_tags: Annotated[Once, _linear("version.ignore_tags")] = field(default_factory=list)
    nonconventional: Annotated[
        Literal["none", "patch"], doc("what a commit that is not a conventional commit releases")
    ] = "none"
    initial_version: Annotated[str, Check(_a_version, "first release when there is no tag")] = (
        "0.1.0"
    )
    pyproject: Annotated[RepoPath, doc("where [project].version lives")] = "pyproject.toml"
    version_file: Annotated[
        RepoPath | None, doc('a file with `__version__ = "..."` to use instead of pyproject')
    ] = None


def _powertools_sections() -> dict[str, str]:
    # git-chglog's title_maps from the Powertools repository, in its (alphabetical) order.
    return {
        "fix": "Bug Fixes",
        "refactor": "Code Refactoring",
        "docs": "Documentation",
        "feat": "Features",
        "chore": "Maintenance",
        "perf": "Performance Improvements",
        "revert": "Regression",
    }


def _powertools_excludes() -> list[str]:
    # The Powertools template drops these subjects (after the type and scope).
    # Release commits (`chore(release): v1.2.0`) are noise in a changelog too.
    return [
        r"^chore\(release\)",
        r"^[A-Za-z0-9_-]+(?:\([^()]*\))?!?: (?:changelog rebuild|layer docs update|"
        r"bump version to)",
    ]


@dataclass(frozen=True, kw_only=True)
class ChangelogConfig:
    __pydantic_config__ = _STRICT

    sections: Annotated[
        dict[str, str],
        doc("ordered map of commit type -> section title; unlisted types are left out"),
    ] = field(default_factory=_powertools_sections)
    exclude: Annotated[
        Once,
        _linear("changelog.exclude"),
        doc(
            "regular expressions (RE2, linear-time); commits whose subject line matches one "
            "are left out"
        ),
    ] = field(default_factory=_powertools_excludes)
    body_entries: Annotated[
        bool,
        doc(
            "conventional lines in a commit body (a squash merge's `* fix: ...` list) become "
            "entries of their own and count for the version; `steward init` turns it on"
        ),
    ] = False
    breaking_title: Annotated[
        str, doc("section for breaking changes whose type has no section of its own")
    ] = "Breaking Changes"
    template: Annotated[
        RepoPath, doc("'github' (git-chglog layout), 'keepachangelog', or a Jinja2 template file")
    ] = "github"
    output: Annotated[RepoPath, doc("the file --output writes by default")] = "CHANGELOG.md"
    repository_url: Annotated[
        str | None, doc("for links; default: derived from the `origin` remote")
    ] = None
    include_prereleases: Annotated[
        bool, doc("give pre-release tags their own section (else they fold into the next)")
    ] = False


def _package_paths(v: list[str]) -> list[str]:
    if not v:
        raise ValueError("a package needs at least one path")
    for p in v:
        if p.startswith("/") or ".." in p.split("/"):
            raise ValueError(f"path {p!r} must be relative to the repository, without ..")
    paths = [p.rstrip("/") or "." for p in v]
    problem = repeated(paths)
    if problem is not None:
        raise ValueError(problem)
    return paths


def _plain_scopes(v: bool | list[str]) -> bool | list[str]:
    if isinstance(v, list):
        for s in v:
            if not s.strip() or any(c in s for c in "(),\n"):
                raise ValueError(f"scope {s!r} must be one non-empty conventional scope")
        problem = repeated((s.strip() for s in v), fold=True)
        if problem is not None:
            raise ValueError(problem)
    return v


@dataclass(frozen=True, kw_only=True)
class PackageConfig:
    """One package of a monorepo: its own paths, tags, version file and changelog."""

    __pydantic_config__ = _STRICT

    name: Annotated[str, Check(matching(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a package name"))]
    paths: Annotated[list[str], Check(_package_paths, "directories or files of the package")]
    tag_pattern: Annotated[
        str, Check(_one_version, "its release tags; {name} is the package's name")
    ] = "{name}-v{version}"
    version_file: Annotated[
        RepoPath,
        doc('a pyproject.toml, or a file with `__version__ = "..."`; {path} is its first path'),
    ] = "{path}/pyproject.toml"
    changelog: Annotated[RepoPath, doc("the file --output writes")] = "{path}/CHANGELOG.md"
    scopes: Annotated[
        bool | list[str],
        Check(
            _plain_scopes,
            "commits whose conventional scope is one of these count for the package even "
            "when they change no file of it; true: its name; false (the default): none",
        ),
    ] = False

    def commit_scopes(self) -> frozenset[str]:
        """The conventional scopes that name the package, case-folded (empty: opted out)."""
        if self.scopes is True:
            return frozenset({self.name.casefold()})
        if self.scopes is False:
            return frozenset()
        return frozenset(s.strip().casefold() for s in self.scopes)

    def _fill(self, text: str) -> str:
        return text.replace("{name}", self.name).replace("{path}", self.paths[0])

    def tags(self) -> str:
        return self._fill(self.tag_pattern)

    def version_settings(self) -> dict[str, str | None]:
        path = self._fill(self.version_file)
        if path.endswith(".toml"):
            return {"pyproject": path, "version_file": None}
        return {"version_file": path}

    def changelog_file(self) -> str:
        return self._fill(self.changelog)


@dataclass(frozen=True, kw_only=True)
class Category:
    __pydantic_config__ = _STRICT

    title: str
    labels: OnceCaseBlind


def _powertools_categories() -> list[Category]:
    return [
        Category(title="⚠️ Breaking Changes", labels=["breaking-change"]),
        Category(title="🌟New features and non-breaking changes", labels=["feature"]),
        Category(title="🌟 Minor Changes", labels=["enhancement"]),
        Category(title="📜 Documentation updates", labels=["documentation"]),
        Category(title="🐛 Bug and hot fixes", labels=["bug"]),
        Category(title="🚒 Deprecations", labels=["deprecated"]),
        Category(title="🔧 Maintenance", labels=["internal", "dependencies"]),
    ]


_DEFAULT_TEMPLATE = """## Summary

**[Human readable summary of changes]**

## Changes

$CHANGES

## This release was made possible by the following contributors:

$CONTRIBUTORS
"""


def _categories_apart(v: list[Category]) -> list[Category]:
    """A title twice would be two sections of one name; a label in two categories never
    reaches the second (a PR goes in the first category it matches)."""
    problem = repeated((c.title for c in v), what="the category ")
    if problem is not None:
        raise ValueError(problem)
    owner: dict[str, str] = {}
    for c in v:
        for label in c.labels:
            first = owner.setdefault(label.casefold(), c.title)
            if first != c.title:
                raise ValueError(
                    f"label {label!r} is in the categories {first!r} and {c.title!r}: a PR "
                    f"goes in the first only, so list it once"
                )
    return v


@dataclass(frozen=True, kw_only=True)
class ReleaseNotesConfig:
    __pydantic_config__ = _STRICT

    categories: Annotated[
        list[Category],
        Check(
            _categories_apart,
            "ordered; a PR goes in the first category one of whose labels it has",
        ),
    ] = field(default_factory=_powertools_categories)
    exclude_labels: OnceCaseBlind = field(default_factory=lambda: ["skip-changelog"])
    uncategorized_title: str = "Other changes"
    change_template: Annotated[str, doc("one line per PR ($TITLE $NUMBER $AUTHOR)")] = (
        "* $TITLE (#$NUMBER) by @$AUTHOR"
    )
    template: Annotated[str, doc("the whole body ($CHANGES, $CONTRIBUTORS, $NEXT_VERSION)")] = (
        _DEFAULT_TEMPLATE
    )
    major_labels: OnceCaseBlind = field(default_factory=lambda: ["breaking-change"])
    minor_labels: OnceCaseBlind = field(default_factory=lambda: ["feature"])
    maintainers: Annotated[OnceCaseBlind, doc("logins left out of the contributors line")] = field(
        default_factory=list
    )
    no_contributors: str = "No contributors"


_ORIGIN = "steward_origin"  # a key of the instance's __dict__ that is no field

# The core's other sections (`steward.config.model.ConfigCore`); a test keeps this true.
OTHER_CORE_KEYS = frozenset({"ignore_authors", "labels", "release"})


def unique_packages(value: list[PackageConfig]) -> list[PackageConfig]:
    names = [p.name for p in value]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"package {sorted(dup)[0]!r} is listed twice")
    return value


Packages = Annotated[
    list[PackageConfig],
    Check(unique_packages, "a monorepo's packages; empty: the repository is one package"),
]


class Remembered:
    """Where a config was loaded from, kept beside its fields (`ReleaseSections` and the
    whole model share it)."""

    @property
    def origin(self) -> Origin | None:
        """Where this config was loaded from (None: the playbook's defaults): the file and
        the line of each key, for the errors of path settings checked where they are used
        (`steward.workspace`). Kept beside the fields, not in them: two configs with the
        same values are equal wherever they were read."""
        origin = self.__dict__.get(_ORIGIN)
        return origin if isinstance(origin, Origin) else None

    def with_origin(self, origin: Origin) -> Self:
        """This config, remembering ``origin`` (`steward.config.loader` calls it)."""
        self.__dict__[_ORIGIN] = origin
        return self


@dataclass(frozen=True, kw_only=True)
class ReleaseSections(Remembered):
    """The sections release intelligence reads (the whole model has the same fields)."""

    __pydantic_config__ = _STRICT

    version: VersionConfig = field(default_factory=VersionConfig)
    changelog: ChangelogConfig = field(default_factory=ChangelogConfig)
    release_notes: ReleaseNotesConfig = field(default_factory=ReleaseNotesConfig)
    packages: Packages = field(default_factory=list)


RELEASE_KEYS = frozenset(f.name for f in fields(ReleaseSections))


class ReleaseView(Protocol):
    """What release commands read of a config: `ReleaseSections`, or the whole model."""

    @property
    def version(self) -> VersionConfig: ...
    @property
    def changelog(self) -> ChangelogConfig: ...
    @property
    def release_notes(self) -> ReleaseNotesConfig: ...
    @property
    def packages(self) -> list[PackageConfig]: ...
    @property
    def origin(self) -> Origin | None: ...
