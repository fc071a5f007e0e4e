"""The whole config file: one section per policy or capability, each with the playbook's
defaults, so an empty (or absent) `.github/steward.yml` behaves like the Powertools automation.

This module is the composition root of the config: it imports the policy registry and
builds the model when it is imported (``StewardConfig``); nothing below it imports it at
run time (policies name ``StewardConfig`` for typing only), so there is no import cycle to
hide. Code that needs a policy's section reads it typed with ``POLICY.of(config)``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import Field, create_model, field_validator

from steward.config.base import Section
from steward.config.labels import LabelSpec, playbook_labels
from steward.config.pipeline import PipelineConfig
from steward.config.release import (
    ChangelogConfig,
    Packages,
    ReleaseNotesConfig,
    Remembered,
    VersionConfig,
)
from steward.policies.registry import policies

_HEAD = ("ignore_authors", "labels")  # shown before the policies' sections


def _default_ignore() -> list[str]:
    return ["dependabot[bot]", "renovate[bot]", "github-actions[bot]", "pre-commit-ci[bot]"]


class ConfigCore(Section, Remembered):
    """`.github/steward.yml`. Every key is optional; unknown keys are errors. The release
    sections are the ones `steward.config.release.ReleaseSections` loads alone."""

    version: VersionConfig = Field(default_factory=VersionConfig)
    changelog: ChangelogConfig = Field(default_factory=ChangelogConfig)
    release_notes: ReleaseNotesConfig = Field(default_factory=ReleaseNotesConfig)
    packages: Packages = Field(default_factory=list)

    ignore_authors: list[str] = Field(
        default_factory=_default_ignore,
        description="PR/issue authors the automation leaves alone (bots)",
    )
    labels: list[LabelSpec] = Field(default_factory=playbook_labels)
    release: PipelineConfig = Field(default_factory=PipelineConfig)

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, value: list[LabelSpec]) -> list[LabelSpec]:
        seen: set[str] = set()
        for spec in value:
            key = spec.name.casefold()
            if key in seen:
                raise ValueError(f"label {spec.name!r} is listed twice")
            seen.add(key)
        return value

    def effective(self) -> dict[str, Any]:
        """The config as plain data: the core's head, the policies in order, the rest."""
        data = self.model_dump(mode="json", by_alias=True)
        order = [*_HEAD, *(p.name for p in policies())]
        return {**{k: data[k] for k in order if k in data}, **data}

    def label_names(self) -> set[str]:
        return {spec.name for spec in self.labels}

    def labels_by_policy(self) -> dict[str, str]:
        """Every label an enabled policy applies or acts on -> the first such policy, for
        `config check` to compare with ``labels`` (GitHub would create a missing one grey
        and without a description)."""
        out: dict[str, str] = {}
        for policy in policies():
            section = policy.of(self)
            if section.enabled:
                for label in policy.labels(section):
                    out.setdefault(label, policy.name)
        return out


@cache
def config_model() -> type[ConfigCore]:
    """The config model: the core plus one section per registered policy."""
    sections: dict[str, Any] = {
        p.name: (p.section, Field(default_factory=p.section, description=p.help))
        for p in policies()
    }
    return create_model(
        "StewardConfig",
        __base__=ConfigCore,
        __module__=__name__,
        __doc__=ConfigCore.__doc__,
        **sections,
    )


if TYPE_CHECKING:
    # To mypy the whole model is its core: a policy's section is read typed with
    # ``POLICY.of(config)``, never as an attribute typed ``Any``.
    StewardConfig = ConfigCore
else:
    StewardConfig = config_model()
