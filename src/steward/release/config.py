"""Config sections for release intelligence: version, changelog, release notes.

Defaults are the playbook's (Powertools): tags `v{version}`, the git-chglog section titles of
its CHANGELOG, and its release-drafter categories and template.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from steward.config.base import Section


class VersionConfig(Section):
    tag_pattern: str = Field(
        "v{version}", description="release tag names; {version} is the PEP 440 version"
    )
    breaking_before_1: Literal["major", "minor"] = Field(
        "minor", description="what a breaking change bumps while the major version is 0"
    )
    minor_types: list[str] = Field(
        default_factory=lambda: ["feat"], description="commit types that bump the minor version"
    )
    ignore_types: list[str] = Field(
        default_factory=lambda: ["ci", "test", "tests", "style"],
        description="commit types that release nothing; every other commit bumps the patch",
    )
    initial_version: str = Field("0.1.0", description="first release when there is no tag")
    pyproject: str = Field("pyproject.toml", description="where [project].version lives")
    version_file: str | None = Field(
        None, description='a file with `__version__ = "..."` to use instead of pyproject'
    )

    @field_validator("tag_pattern")
    @classmethod
    def _has_placeholder(cls, v: str) -> str:
        if v.count("{version}") != 1:
            raise ValueError("tag_pattern must contain {version} exactly once")
        return v


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
    exclude: list[str] = Field(
        default_factory=lambda: [r"^chore\(release\)", r"^chore: ?(?:release|bump version)"],
        description="regular expressions; commits whose subject matches one are left out",
    )
    template: str = Field(
        "github",
        description="'github' (git-chglog layout), 'keepachangelog', or a Jinja2 template file",
    )
    output: str = Field("CHANGELOG.md", description="the file --output writes by default")
    repository_url: str | None = Field(
        None, description="for links; default: derived from the `origin` remote"
    )
    include_prereleases: bool = Field(
        False, description="give pre-release tags their own section (else they fold into the next)"
    )

    @field_validator("exclude")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from None
        return v


class Category(Section):
    title: str
    labels: list[str]


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
    exclude_labels: list[str] = Field(default_factory=lambda: ["skip-changelog"])
    uncategorized_title: str = "Other changes"
    change_template: str = Field(
        "* $TITLE (#$NUMBER) by @$AUTHOR", description="one line per PR ($TITLE $NUMBER $AUTHOR)"
    )
    template: str = Field(
        _DEFAULT_TEMPLATE, description="the whole body ($CHANGES, $CONTRIBUTORS, $NEXT_VERSION)"
    )
    major_labels: list[str] = Field(default_factory=lambda: ["breaking-change"])
    minor_labels: list[str] = Field(default_factory=lambda: ["feature"])
    maintainers: list[str] = Field(
        default_factory=list, description="logins left out of the contributors line"
    )
    no_contributors: str = "No contributors"
