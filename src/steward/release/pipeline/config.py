"""Config section for the release pipeline (`release:` in .github/steward.yml)."""

from __future__ import annotations

from steward.config.base import Section


class PipelineConfig(Section):
    pass
