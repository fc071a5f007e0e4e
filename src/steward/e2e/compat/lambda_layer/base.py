"""`BaseLocalLambdaLayer`: the build hooks Powertools' local layers implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class BaseLocalLambdaLayer(ABC):
    """Builds into ``<output_dir>/layer_build``; packages go to its ``python/`` folder."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = Path(output_dir) / "layer_build"
        self.target_dir = f"{self.output_dir}/python"

    @abstractmethod
    def build(self) -> str:
        """Build the layer; returns the folder holding ``python/`` (a CDK asset path)."""

    def before_build(self) -> None:
        """Create the output folder."""
        self.output_dir.mkdir(parents=True, exist_ok=True)

    def after_build(self) -> None:  # noqa: B027 (an optional hook, as in Powertools)
        """Any step after a build succeeded."""
