"""Post-release: publish the drafted GitHub release notes, then run the post-release policy
(comment on, unlabel and close `pending-release` issues) through the executor.
"""

from __future__ import annotations

from typing import Any

from steward.errors import ReleaseError
from steward.forge.executor import Executor
from steward.forge.repo_api import RepoApi
from steward.policies.post_release import post_release_plan
from steward.release.pipeline.context import Context
from steward.release.pipeline.stages.bump_pr import repository
from steward.release.pipeline.state import StageRecord


def _publish_notes(ctx: Context, api: RepoApi) -> tuple[str, str]:
    """(release html_url, what was done) for the tag's drafted release."""
    found: dict[str, Any] | None = None
    for rel in api.releases():
        if rel.get("tag_name") == ctx.tag or (rel.get("draft") and rel.get("name") == ctx.tag):
            found = rel
            break
    default = f"https://github.com/{api.full_name}/releases/tag/{ctx.tag}"
    if found is None:
        return default, "no drafted release"
    url = found.get("html_url")
    html_url = url if isinstance(url, str) and url else default
    if not found.get("draft"):
        return html_url, "release already published"
    if not ctx.cfg.publish_release_notes:
        return html_url, "drafted release left as draft (config)"
    rid = found.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise ReleaseError(f"stage post-release: the drafted release {ctx.tag} has no id")
    patched = api.update_release(
        rid, {"draft": False, "tag_name": ctx.tag, "prerelease": ctx.prerelease}
    )
    url = patched.get("html_url")
    return (url if isinstance(url, str) and url else default), f"published release {rid}"


class PostReleaseStage:
    name = "post-release"
    title = "Release notes and pending issues"

    def plan(self, ctx: Context) -> list[str]:
        label = ctx.config.post_release.label
        return [
            f"GitHub {ctx.cfg.repository or '$GITHUB_REPOSITORY'}: publish the drafted "
            f"release for {ctx.tag}",
            f"comment on, unlabel ({label}) and close every open {label} issue",
        ]

    def run(self, ctx: Context, rec: StageRecord) -> None:
        if ctx.github is None:
            raise ReleaseError(
                "stage post-release: needs GitHub access: set GITHUB_TOKEN (or --skip post-release)"
            )
        api = RepoApi(ctx.github(), repository(ctx))
        html_url, notes = _publish_notes(ctx, api)
        rec.details["release_url"] = html_url
        rec.details["notes"] = notes
        ctx.echo(f"  {notes}: {html_url}")
        cfg = ctx.config.post_release
        if not cfg.enabled or (ctx.prerelease and not cfg.include_prereleases):
            rec.details["issues"] = "left alone (disabled or pre-release)"
            return
        issues = tuple(api.open_issues_with_label(cfg.label))
        result = Executor(api).apply(post_release_plan(ctx.tag, html_url, issues, cfg))
        rec.details["applied"] = result.applied
        for line in result.applied:
            ctx.echo(f"  {line}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        """Nothing local to check: its effects live on GitHub and are idempotent."""
