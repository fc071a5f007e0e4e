"""What every stage sees: the release's inputs, config, state and where its files live."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from steward.errors import ReleaseError
from steward.pipeline.state import ReleaseState
from steward.workspace import Workspace

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.config.pipeline import PipelineConfig
    from steward.github.client import GitHubClient

    from .aws import ClientFactory


def _stderr(msg: str) -> None:
    import click

    click.echo(msg, err=True)


@dataclass(slots=True)
class Context:
    root: Path
    version: str
    prerelease: bool
    config: StewardConfig
    state: ReleaseState
    dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    echo: Callable[[str], None] = _stderr
    github: Callable[[], GitHubClient] | None = None
    aws: ClientFactory | None = None

    def aws_clients(self) -> ClientFactory:
        """Boto3 clients per (account, region, service): the injected factory, else one
        session per account from the release's environment."""
        if self.aws is None:
            from .aws import Sessions

            self.aws = Sessions(self.env, f"steward-release-{self.version}")
        return self.aws

    @property
    def cfg(self) -> PipelineConfig:
        return self.config.release

    def workspace(self) -> Workspace:
        """The checkout, for the paths the config names (`steward.workspace`)."""
        return Workspace(self.root, self.config.origin)

    @property
    def tag(self) -> str:
        return self.config.version.tag_pattern.format(version=self.version)

    @property
    def commit(self) -> str:
        return str(self.state.inputs["commit"])

    @property
    def epoch(self) -> int:
        return int(self.state.inputs["epoch"])

    def work(self, name: str) -> Path:
        """A scratch directory for one stage, under the release directory."""
        return self.dir / "work" / name

    def sealed(self, stage: str, output: str, by: str) -> tuple[Path, str]:
        """Path and recorded hash of ``output`` sealed by ``stage``, for stage ``by``."""
        rec = self.state.stages.get(stage)
        if rec is None or rec.status != "completed" or output not in rec.outputs:
            raise ReleaseError(
                f"stage {by} needs {output} from stage {stage}, which has not completed"
            )
        return self.dir / output, rec.outputs[output]

    def base_env(self) -> dict[str, str]:
        return {**self.env, "SOURCE_DATE_EPOCH": str(self.epoch)}
