"""The release sections of the config: `version`, `changelog`, `release_notes` and
`packages`, each model with the playbook's defaults (Powertools: tags `v{version}`, the
git-chglog section titles of its CHANGELOG, its release-drafter categories and template),
and `ReleaseSections`, what `steward version` and `steward changelog` load alone. Loading
them does not assemble the whole model (every policy's section, the release pipeline's, the
label taxonomy), which would cost a release command more start-up time than its work on a
typical history. `steward config check` still validates the whole file.
"""

from __future__ import annotations

from typing import Literal, Self

from packaging.version import InvalidVersion, Version
from pydantic import Field, field_validator

from steward.config.base import RepoPath, Section
from steward.config.lists import Once, OnceCaseBlind, repeated
from steward.workspace import Origin


class VersionConfig(Section):
    tag_pattern: str = Field(
        "v{version}", description="release tag names; {version} is the PEP 440 version"
    )
    breaking_before_1: Literal["major", "minor"] = Field(
        "minor", description="what a breaking change bumps while the major version is 0"
    )
    minor_types: Once = Field(
        default_factory=lambda: ["feat"], description="commit types that bump the minor version"
    )
    patch_types: Once = Field(
        default_factory=lambda: ["fix", "perf"],
        description="commit types that bump the patch version; other types release nothing "
        "(Conventional Commits gives them no effect). ['*']: every type not in ignore_types "
        "(steward's rule before this setting)",
    )
    ignore_types: Once = Field(
        default_factory=lambda: ["ci", "test", "tests", "style"],
        description="commit types that never release a patch, even when patch_types lists "
        "them or is ['*']",
    )
    ignore_tags: Once = Field(
        default_factory=list,
        description="regular expressions (RE2, linear-time); matching tags are never releases "
        "(dead branches, experiments)",
    )
    nonconventional: Literal["none", "patch"] = Field(
        "none", description="what a commit that is not a conventional commit releases"
    )
    initial_version: str = Field("0.1.0", description="first release when there is no tag")
    pyproject: RepoPath = Field("pyproject.toml", description="where [project].version lives")
    version_file: RepoPath | None = Field(
        None, description='a file with `__version__ = "..."` to use instead of pyproject'
    )

    @field_validator("tag_pattern")
    @classmethod
    def _has_placeholder(cls, v: str) -> str:
        if v.count("{version}") != 1:
            raise ValueError("tag_pattern must contain {version} exactly once")
        return v

    @field_validator("initial_version")
    @classmethod
    def _a_version(cls, v: str) -> str:
        try:
            Version(v)
        except InvalidVersion:
            raise ValueError(f"{v!r} is not a PEP 440 version (e.g. 0.1.0)") from None
        return v

    @field_validator("patch_types")
    @classmethod
    def _star_alone(cls, v: list[str]) -> list[str]:
        if "*" in v and len(v) > 1:
            raise ValueError("'*' already means every type: give it alone, or list the types")
        return v

    @field_validator("ignore_tags")
    @classmethod
    def _ignore_compiles(cls, v: list[str]) -> list[str]:
        return _linear_patterns(v, "version.ignore_tags")


def _linear_patterns(patterns: list[str], what: str) -> list[str]:
    """Reject at load time a pattern that does not compile or could backtrack."""
    from steward.patterns import compile_user_patterns

    compile_user_patterns(patterns, what)
    return patterns


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


class ChangelogConfig(Section):
    sections: dict[str, str] = Field(
        default_factory=_powertools_sections,
        description="ordered map of commit type -> section title; unlisted types are left out",
    )
    exclude: Once = Field(
        # The Powertools template drops these subjects (after the type and scope).
        # Release commits (`chore(release): v1.2.0`) are noise in a changelog too.
        default_factory=lambda: [
            r"^chore\(release\)",
            r"^[A-Za-z0-9_-]+(?:\([^()]*\))?!?: (?:changelog rebuild|layer docs update|"
            r"bump version to)",
        ],
        description="regular expressions (RE2, linear-time); commits whose subject line "
        "matches one are left out",
    )
    body_entries: bool = Field(
        False,
        description="conventional lines in a commit body (a squash merge's `* fix: ...` list) "
        "become entries of their own and count for the version; `steward init` turns it on",
    )
    breaking_title: str = Field(
        "Breaking Changes",
        description="section for breaking changes whose type has no section of its own",
    )
    template: RepoPath = Field(
        "github",
        description="'github' (git-chglog layout), 'keepachangelog', or a Jinja2 template file",
    )
    output: RepoPath = Field("CHANGELOG.md", description="the file --output writes by default")
    repository_url: str | None = Field(
        None, description="for links; default: derived from the `origin` remote"
    )
    include_prereleases: bool = Field(
        False, description="give pre-release tags their own section (else they fold into the next)"
    )

    @field_validator("exclude")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        return _linear_patterns(v, "changelog.exclude")


class PackageConfig(Section):
    """One package of a monorepo: its own paths, tags, version file and changelog."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    paths: list[str] = Field(min_length=1, description="directories or files of the package")
    tag_pattern: str = Field(
        "{name}-v{version}", description="its release tags; {name} is the package's name"
    )
    version_file: RepoPath = Field(
        "{path}/pyproject.toml",
        description='a pyproject.toml, or a file with `__version__ = "..."`; {path} is its '
        "first path",
    )
    changelog: RepoPath = Field("{path}/CHANGELOG.md", description="the file --output writes")
    scopes: bool | list[str] = Field(
        False,
        description="commits whose conventional scope is one of these count for the package "
        "even when they change no file of it; true: its name; false (the default): none",
    )

    @field_validator("tag_pattern")
    @classmethod
    def _one_placeholder(cls, v: str) -> str:
        if v.count("{version}") != 1:
            raise ValueError("tag_pattern must contain {version} exactly once")
        return v

    @field_validator("paths")
    @classmethod
    def _relative(cls, v: list[str]) -> list[str]:
        for p in v:
            if p.startswith("/") or ".." in p.split("/"):
                raise ValueError(f"path {p!r} must be relative to the repository, without ..")
        paths = [p.rstrip("/") or "." for p in v]
        problem = repeated(paths)
        if problem is not None:
            raise ValueError(problem)
        return paths

    @field_validator("scopes")
    @classmethod
    def _plain_scopes(cls, v: bool | list[str]) -> bool | list[str]:
        if isinstance(v, list):
            for s in v:
                if not s.strip() or any(c in s for c in "(),\n"):
                    raise ValueError(f"scope {s!r} must be one non-empty conventional scope")
            problem = repeated((s.strip() for s in v), fold=True)
            if problem is not None:
                raise ValueError(problem)
        return v

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


class Category(Section):
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


class ReleaseNotesConfig(Section):
    categories: list[Category] = Field(
        default_factory=_powertools_categories,
        description="ordered; a PR goes in the first category one of whose labels it has",
    )
    exclude_labels: OnceCaseBlind = Field(default_factory=lambda: ["skip-changelog"])
    uncategorized_title: str = "Other changes"
    change_template: str = Field(
        "* $TITLE (#$NUMBER) by @$AUTHOR", description="one line per PR ($TITLE $NUMBER $AUTHOR)"
    )
    template: str = Field(
        _DEFAULT_TEMPLATE, description="the whole body ($CHANGES, $CONTRIBUTORS, $NEXT_VERSION)"
    )
    major_labels: OnceCaseBlind = Field(default_factory=lambda: ["breaking-change"])
    minor_labels: OnceCaseBlind = Field(default_factory=lambda: ["feature"])
    maintainers: OnceCaseBlind = Field(
        default_factory=list, description="logins left out of the contributors line"
    )
    no_contributors: str = "No contributors"

    @field_validator("categories")
    @classmethod
    def _categories_apart(cls, v: list[Category]) -> list[Category]:
        """A title twice would be two sections of one name; a label in two categories
        never reaches the second (a PR goes in the first category it matches)."""
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


_ORIGIN = "steward_origin"  # a key of the model's __dict__ that is no field

# The core's other sections (`steward.config.model.ConfigCore`); a test keeps this true.
OTHER_CORE_KEYS = frozenset({"ignore_authors", "labels", "release"})


class ReleaseSections(Section):
    """The sections release intelligence reads; the whole config model extends it."""

    version: VersionConfig = Field(default_factory=VersionConfig)
    changelog: ChangelogConfig = Field(default_factory=ChangelogConfig)
    release_notes: ReleaseNotesConfig = Field(default_factory=ReleaseNotesConfig)
    packages: list[PackageConfig] = Field(
        default_factory=list,
        description="a monorepo's packages; empty: the repository is one package",
    )

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

    @field_validator("packages")
    @classmethod
    def _unique_packages(cls, value: list[PackageConfig]) -> list[PackageConfig]:
        names = [p.name for p in value]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"package {sorted(dup)[0]!r} is listed twice")
        return value


RELEASE_KEYS = frozenset(ReleaseSections.model_fields)
