"""Config for the docs stage (`release.docs:` in .github/steward.yml) and the docs hotfix.

The playbook's "Docs" section: versioned documentation built with MkDocs and published with
mike to the documentation branch (`mike deploy --push --update-aliases VERSION latest`), and
a pull request that updates the Lambda layer ARNs shown in the docs. Off until configured:
a repository without MkDocs has nothing for the stage to do, and it says so.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from steward.config.base import RepoPath, Section

LayerArnFormat = Literal["markdown", "replace", "json"]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _check_placeholders(value: str, allowed: set[str], what: str) -> str:
    unknown = sorted(set(_PLACEHOLDER.findall(value)) - allowed)
    if unknown:
        names = ", ".join("{" + n + "}" for n in sorted(allowed))
        raise ValueError(f"{what}: unknown placeholder {{{unknown[0]}}}; allowed: {names}")
    return value


class LayerArnsConfig(Section):
    """The docs file that lists the published layer ARNs, and the PR that updates it."""

    file: RepoPath | None = Field(
        None,
        description="docs file (relative to the repository) that lists the layer ARNs; "
        "unset: no layer ARN pull request",
    )
    format: LayerArnFormat = Field(
        "markdown",
        description="markdown: a table between <!-- steward:layer-arns:start/end --> markers; "
        "replace: every ARN of a published layer in the file gets the new version number "
        "(the playbook's sed); json: the whole file is {version, layers: {name: {region: arn}}}",
    )
    marker: str = Field(
        "layer-arns",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="name in the markdown markers <!-- steward:NAME:start --> / :end -->",
    )
    source_stage: str = Field(
        "layer-prod",
        description="the stage whose recorded details hold the published layer ARNs",
    )
    branch: str = Field(
        "steward/layer-arns-{version}", description="branch the ARN update is pushed to"
    )
    title: str = Field(
        "docs(layers): update layer ARNs for {tag}", description="title of the ARN update PR"
    )
    changelog: bool = Field(
        True,
        description="the PR also updates changelog.output for the release (the playbook's "
        "layer docs PR carries the CHANGELOG); false: the ARN file only",
    )

    @field_validator("branch", "title")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        return _check_placeholders(value, {"version", "tag"}, "layer_arns")


def _default_mike() -> list[str]:
    return ["mike"]


class DocsConfig(Section):
    """Versioned docs (MkDocs + mike) and the layer ARN pull request."""

    enabled: bool = Field(
        False, description="deploy the versioned docs; off: the docs stage records a skip"
    )
    mkdocs_config: RepoPath = Field(
        "mkdocs.yml", description="MkDocs config file, relative to the repository"
    )
    mike_command: list[str] = Field(
        default_factory=_default_mike,
        min_length=1,
        description="how to run mike (the project's docs toolchain, e.g. [poetry, run, mike])",
    )
    remote: str | None = Field(
        None, description="git remote of the documentation branch (default: release.remote)"
    )
    branch: str = Field("gh-pages", min_length=1, description="the documentation branch")
    alias: str = Field(
        "latest",
        min_length=1,
        description="alias moved to each final release (never back to an older version)",
    )
    prerelease_alias: str = Field(
        "alpha",
        min_length=1,
        description="alias moved to each pre-release (PEP 440 a/b/rc) instead of alias: a "
        "pre-release never takes `latest` nor becomes the site's default",
    )
    version_name: str = Field(
        "{version}",
        description="docs version deployed: {version}, {major}, {minor}, {micro} "
        "(e.g. '{major}.{minor}' for one docs version per minor release)",
    )
    set_default: bool = Field(
        True, description="make the alias the site's default page (mike set-default)"
    )
    include_prereleases: bool = Field(
        True,
        description="deploy the docs of pre-releases under prerelease_alias (the playbook's "
        "alpha docs); off: the stage records a skip for them",
    )
    timeout: float = Field(
        900.0, gt=0, allow_inf_nan=False, description="seconds before a mike command fails"
    )
    layer_arns: LayerArnsConfig = Field(default_factory=LayerArnsConfig)

    @model_validator(mode="after")
    def _distinct_aliases(self) -> Self:
        if self.alias == self.prerelease_alias:
            raise ValueError("alias and prerelease_alias must differ")
        return self

    def alias_for(self, prerelease: bool) -> str:
        """The alias a version moves: `alpha` for a pre-release, else `latest`."""
        return self.prerelease_alias if prerelease else self.alias

    @field_validator("version_name")
    @classmethod
    def _version_name(cls, value: str) -> str:
        return _check_placeholders(value, {"version", "major", "minor", "micro"}, "version_name")
