"""The pipeline's way to GitHub: the repository it releases and the one adapter (RepoApi),
shared by the stages that open pull requests or tell issues."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.errors import ReleaseError
from steward.pipeline.context import Context

if TYPE_CHECKING:
    from steward.github.repo_api import RepoApi


def repository(ctx: Context) -> str:
    """OWNER/NAME from `release.repository`, else GITHUB_REPOSITORY."""
    name = ctx.cfg.repository or ctx.env.get("GITHUB_REPOSITORY")
    if not name or name.count("/") != 1:
        raise ReleaseError(
            "no GitHub repository: set release.repository or GITHUB_REPOSITORY (OWNER/NAME)"
        )
    return name


def repo_api(ctx: Context, stage: str, what: str) -> RepoApi:
    """The adapter for ``stage``; without a token, one line saying what needs it."""
    from steward.github.repo_api import RepoApi

    if ctx.github is None:
        raise ReleaseError(f"stage {stage}: {what} needs GitHub access: set GITHUB_TOKEN")
    return RepoApi(ctx.github(), repository(ctx))
