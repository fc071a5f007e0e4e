"""One module per stage. Each stage plans (for --dry-run), runs, and re-verifies its outputs."""

from __future__ import annotations

from typing import Protocol

from steward.pipeline.context import Context
from steward.pipeline.state import StageRecord


class Stage(Protocol):
    """A stage of the release. It may also define ``unconfigured(ctx) -> str | None`` (why
    it is skipped: its config section is unset) and ``preflight(ctx) -> list[str]`` (what
    it needs and cannot have, checked before anything runs); the runner looks them up."""

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


def skip_reason(stage: Stage, ctx: Context) -> str | None:
    """Why ``stage`` is skipped by configuration (None: it runs)."""
    check = getattr(stage, "unconfigured", None)
    return check(ctx) if check is not None else None


def stage_preflight(stage: Stage, ctx: Context) -> list[str]:
    check = getattr(stage, "preflight", None)
    return list(check(ctx)) if check is not None else []


def all_stages() -> dict[str, Stage]:
    from steward.pipeline.stages.build import BuildStage
    from steward.pipeline.stages.seal import SealStage

    from .docs import DocsStage
    from .layer_build import LayerBuildStage
    from .layer_publish import LayerPublishStage
    from .post_release import PostReleaseStage
    from .provenance import ProvenanceStage
    from .publish import PublishStage
    from .quality import QualityStage
    from .sar import SarStage
    from .tag import TagStage

    stages: list[Stage] = [
        SealStage(),
        QualityStage(),
        BuildStage(),
        ProvenanceStage(),
        PublishStage(),
        TagStage(),
        LayerBuildStage(),
        LayerPublishStage("beta"),
        LayerPublishStage("prod"),
        SarStage("beta"),
        SarStage("prod"),
        DocsStage(),
        PostReleaseStage(),
    ]
    return {s.name: s for s in stages}
