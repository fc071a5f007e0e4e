"""The whole config file: one section per policy or capability, each with the playbook's
defaults, so an empty (or absent) `.github/steward.yml` behaves like the Powertools automation.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from steward.config.base import Section
from steward.config.labels import LabelSpec, playbook_labels
from steward.policies.areas import AreasConfig
from steward.policies.large_pr import LargePrConfig
from steward.policies.merge_gate import MergeGateConfig
from steward.policies.missing_sections import AcknowledgementConfig, RelatedIssueConfig
from steward.policies.pending_release import PendingReleaseConfig
from steward.policies.post_release import PostReleaseConfig
from steward.policies.semantic_title import SemanticTitleConfig
from steward.policies.size import SizeConfig
from steward.policies.sweep import SweepConfig
from steward.policies.triage import TriageConfig
from steward.release.config import (
    ChangelogConfig,
    PackageConfig,
    ReleaseNotesConfig,
    VersionConfig,
)
from steward.release.pipeline.config import PipelineConfig


def _default_ignore() -> list[str]:
    return ["dependabot[bot]", "renovate[bot]", "github-actions[bot]", "pre-commit-ci[bot]"]


class StewardConfig(Section):
    """`.github/steward.yml`. Every key is optional; unknown keys are errors."""

    ignore_authors: list[str] = Field(
        default_factory=_default_ignore,
        description="PR/issue authors the automation leaves alone (bots)",
    )
    labels: list[LabelSpec] = Field(default_factory=playbook_labels)
    size: SizeConfig = Field(default_factory=SizeConfig)
    areas: AreasConfig = Field(default_factory=AreasConfig)
    semantic_title: SemanticTitleConfig = Field(default_factory=SemanticTitleConfig)
    related_issue: RelatedIssueConfig = Field(default_factory=RelatedIssueConfig)
    acknowledgement: AcknowledgementConfig = Field(default_factory=AcknowledgementConfig)
    merge_gate: MergeGateConfig = Field(default_factory=MergeGateConfig)
    large_pr: LargePrConfig = Field(default_factory=LargePrConfig)
    pending_release: PendingReleaseConfig = Field(default_factory=PendingReleaseConfig)
    post_release: PostReleaseConfig = Field(default_factory=PostReleaseConfig)
    triage: TriageConfig = Field(default_factory=TriageConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    version: VersionConfig = Field(default_factory=VersionConfig)
    changelog: ChangelogConfig = Field(default_factory=ChangelogConfig)
    release_notes: ReleaseNotesConfig = Field(default_factory=ReleaseNotesConfig)
    release: PipelineConfig = Field(default_factory=PipelineConfig)
    packages: list[PackageConfig] = Field(
        default_factory=list,
        description="a monorepo's packages; empty: the repository is one package",
    )

    @field_validator("packages")
    @classmethod
    def _unique_packages(cls, value: list[PackageConfig]) -> list[PackageConfig]:
        names = [p.name for p in value]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"package {sorted(dup)[0]!r} is listed twice")
        return value

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
        return self.model_dump(mode="json", by_alias=True)

    def label_names(self) -> set[str]:
        return {spec.name for spec in self.labels}

    def policy_labels(self) -> set[str]:
        """Every label the enabled policies may apply, for `config check` to compare with
        ``labels`` (GitHub would create a missing one grey and without a description)."""
        out: set[str] = set(self.merge_gate.block_labels)
        if self.size.enabled:
            out.update(self.size.all_labels())
        if self.areas.enabled:
            out.update(self.areas.labels())
        if self.semantic_title.enabled:
            out.update(self.semantic_title.type_labels(), self.semantic_title.scope_labels.values())
            out.add(self.semantic_title.breaking_label)
        for section in (self.related_issue, self.acknowledgement):
            if section.enabled:
                out.update((section.block_label, section.reason_label))
        if self.pending_release.enabled:
            out.add(self.pending_release.label)
        if self.triage.enabled:
            out.add(self.triage.label)
        if self.sweep.enabled:
            out.add(self.sweep.stale_label)
        return out
