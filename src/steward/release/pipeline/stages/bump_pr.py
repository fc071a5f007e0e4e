"""The "bump version" pull request, opened once through the GitHub client."""

from __future__ import annotations

from steward.errors import ReleaseError
from steward.forge.client import path
from steward.release.pipeline.context import Context


def repository(ctx: Context) -> str:
    name = ctx.cfg.repository or ctx.env.get("GITHUB_REPOSITORY")
    if not name or name.count("/") != 1:
        raise ReleaseError(
            "no GitHub repository: set release.repository or GITHUB_REPOSITORY (OWNER/NAME)"
        )
    return name


def open_bump_pr(ctx: Context, branch: str) -> int:
    """Number of the open PR from ``branch`` (opened now unless one already exists)."""
    if ctx.github is None:
        raise ReleaseError("stage tag: the bump PR needs GitHub access (GITHUB_TOKEN)")
    owner, repo = repository(ctx).split("/")
    client = ctx.github()
    url = path("/repos/{owner}/{repo}/pulls", owner=owner, repo=repo)
    for pr in client.paginate(url, {"state": "open", "head": f"{owner}:{branch}"}):
        return int(pr["number"])
    created = client.post(
        url,
        {
            "title": ctx.cfg.bump_message.format(version=ctx.version),
            "head": branch,
            "base": ctx.cfg.base_branch,
            "body": f"Version bump for {ctx.tag}, released from this commit.",
        },
    )
    return int(created["number"])
