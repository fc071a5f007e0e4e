"""The whole config file: one section per policy or capability, each with the playbook's
defaults, so an empty (or absent) `.github/steward.yml` behaves like the Powertools automation.

The policies' sections come from the policy registry: the model is assembled on first use
(`config_model()`, or importing ``StewardConfig`` from here), never at import time, so this
package imports no policy while it loads and no module depends on import order. Code that
needs a policy's section reads it typed with ``POLICY.of(config)``; ``config.<name>`` works
too and is typed ``Any``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import Field, create_model, field_validator

from steward.config.labels import LabelSpec, playbook_labels
from steward.config.release import ReleaseSections
from steward.pipeline.config import PipelineConfig

_HEAD = ("ignore_authors", "labels")  # shown before the policies' sections


def _default_ignore() -> list[str]:
    return ["dependabot[bot]", "renovate[bot]", "github-actions[bot]", "pre-commit-ci[bot]"]


class ConfigCore(ReleaseSections):
    """`.github/steward.yml`. Every key is optional; unknown keys are errors."""

    ignore_authors: list[str] = Field(
        default_factory=_default_ignore,
        description="PR/issue authors the automation leaves alone (bots)",
    )
    labels: list[LabelSpec] = Field(default_factory=playbook_labels)
    release: PipelineConfig = Field(default_factory=PipelineConfig)

    if TYPE_CHECKING:
        # The policies' sections, added from the registry by `config_model()`.
        def __getattr__(self, name: str) -> Any: ...

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
        from steward.policies.registry import policies

        data = self.model_dump(mode="json", by_alias=True)
        order = [*_HEAD, *(p.name for p in policies())]
        return {**{k: data[k] for k in order if k in data}, **data}

    def label_names(self) -> set[str]:
        return {spec.name for spec in self.labels}

    def labels_by_policy(self) -> dict[str, str]:
        """Every label an enabled policy applies or acts on -> the first such policy, for
        `config check` to compare with ``labels`` (GitHub would create a missing one grey
        and without a description)."""
        from steward.policies.registry import policies

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
    from steward.policies.registry import policies

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
    StewardConfig = ConfigCore
else:

    def __getattr__(name: str) -> Any:
        if name == "StewardConfig":
            return config_model()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
