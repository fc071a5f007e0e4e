"""One module per stage. Each stage plans (for --dry-run), runs, and re-verifies its outputs."""

from __future__ import annotations

from typing import Protocol

from steward.release.pipeline.context import Context
from steward.release.pipeline.state import StageRecord


class Stage(Protocol):
    name: str
    title: str

    def plan(self, ctx: Context) -> list[str]:
        """What the stage would do: commands, files, targets (nothing is touched)."""
        ...

    def run(self, ctx: Context, rec: StageRecord) -> None:
        """Do the work; record output hashes in ``rec.outputs`` and facts in ``rec.details``."""
        ...

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        """Check the recorded outputs are still what the stage produced (for --resume)."""
        ...


def all_stages() -> dict[str, Stage]:
    from steward.release.pipeline.stages.build import BuildStage
    from steward.release.pipeline.stages.seal import SealStage

    from .post_release import PostReleaseStage
    from .provenance import ProvenanceStage
    from .publish import PublishStage
    from .quality import QualityStage
    from .tag import TagStage

    stages: list[Stage] = [
        SealStage(),
        QualityStage(),
        BuildStage(),
        ProvenanceStage(),
        PublishStage(),
        TagStage(),
        PostReleaseStage(),
    ]
    return {s.name: s for s in stages}
