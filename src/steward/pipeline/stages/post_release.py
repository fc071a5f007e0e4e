"""Post-release: publish the drafted GitHub release notes, then announce the release to the
`pending-release` issues (comment, unlabel, close) exactly as `steward handle` does on a
`release: published` event: the same `shell.executor.handle_event`, so one pending-release
query (every state: an issue closed at merge by "Fixes #N" is told too) and one executor
that knows the issues it read.
"""

from __future__ import annotations

from steward.domain.events import ReleaseEvent
from steward.domain.models import Release, Repo, User
from steward.errors import ReleaseError
from steward.github.records import GitHubRelease
from steward.github.repo_api import RepoApi
from steward.pipeline.context import Context
from steward.pipeline.github import repo_api
from steward.pipeline.release_assets import plan_lines as provenance_plan
from steward.pipeline.release_assets import publish_provenance
from steward.pipeline.state import StageRecord
from steward.policies import post_release as announce
from steward.shell.executor import handle_event

NO_RELEASE = "no drafted release"


def _publish_notes(ctx: Context, api: RepoApi) -> tuple[str, str]:
    """(release html_url, what was done) for the tag's drafted release."""
    found: GitHubRelease | None = None
    for rel in api.releases():
        if rel.tag_name == ctx.tag or (rel.draft and rel.name == ctx.tag):
            found = rel
            break
    default = f"https://github.com/{api.full_name}/releases/tag/{ctx.tag}"
    if found is None:
        return default, NO_RELEASE
    html_url = found.html_url or default
    if not found.draft:
        return html_url, "release already published"
    if not ctx.cfg.publish_release_notes:
        return html_url, "drafted release left as draft (config)"
    rid = found.id
    if rid is None:
        raise ReleaseError(f"stage post-release: the drafted release {ctx.tag} has no id")
    patched = api.edit_release(rid, draft=False, tag_name=ctx.tag, prerelease=ctx.prerelease)
    return (patched.html_url or default), f"published release {rid}"


def _published(ctx: Context, api: RepoApi, html_url: str) -> ReleaseEvent:
    """The `release: published` event this stage stands for (sent by the release's actor)."""
    return ReleaseEvent(
        action="published",
        repo=Repo(api.full_name, f"https://github.com/{api.full_name}"),
        sender=User(ctx.env.get("GITHUB_ACTOR") or "steward"),
        release=Release(tag=ctx.tag, name=ctx.tag, html_url=html_url, prerelease=ctx.prerelease),
    )


class PostReleaseStage:
    name = "post-release"
    title = "Release notes and pending issues"

    def plan(self, ctx: Context) -> list[str]:
        label = announce.POLICY.of(ctx.config).label
        return [
            f"GitHub {ctx.cfg.repository or '$GITHUB_REPOSITORY'}: publish the drafted "
            f"release for {ctx.tag}",
            *provenance_plan(ctx),
            f"comment on and unlabel ({label}) every {label} issue, closing the open ones",
        ]

    def run(self, ctx: Context, rec: StageRecord) -> None:
        api = repo_api(ctx, "post-release", "publishing the release (or --skip post-release)")
        html_url, notes = _publish_notes(ctx, api)
        rec.details["release_url"] = html_url
        rec.details["notes"] = notes
        ctx.echo(f"  {notes}: {html_url}")
        if notes == NO_RELEASE:
            rec.details["provenance"] = {"skipped": "no GitHub release for the tag"}
        else:  # the seed's upload-release-provenance: provenance, key and checksums
            rec.details["provenance"] = publish_provenance(ctx, api)
        cfg = announce.POLICY.of(ctx.config)
        if not cfg.enabled or (ctx.prerelease and not cfg.include_prereleases):
            rec.details["issues"] = "left alone (disabled or pre-release)"
            return
        handled = handle_event(_published(ctx, api, html_url), ctx.config, api)
        result = handled.result
        assert result is not None  # online and not a dry run: applied
        rec.details["applied"] = result.applied
        for line in result.applied:
            ctx.echo(f"  {line}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        """Nothing local to check: its effects live on GitHub and are idempotent."""
