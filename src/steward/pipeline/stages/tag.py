"""Git release: the version-bump commit and annotated tag, built with plumbing, then pushed.

Both objects are made from recorded inputs only (the release commit, the sealed version
file, the identity from the config and the release's epoch as every date), so a retry makes
byte-identical objects with the same ids. The worktree and the current branch are never
touched: the bump reaches the trunk through the optional bump PR.
"""

from __future__ import annotations

from steward.errors import GitError, ReleaseError
from steward.history.git import parents, ref_sha, remote_ref, remote_refs
from steward.history.plumbing import Signature, commit_file, create_ref, push_ref, tag_id, write_tag
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.github import repo_api
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import StageRecord


def _signature(ctx: Context) -> Signature:
    return Signature(ctx.cfg.git_user_name, ctx.cfg.git_user_email, ctx.epoch)


def bump_commit(ctx: Context) -> str:
    """The bump commit (the release commit plus the sealed version file), written to git;
    the release commit itself when it already holds the version."""
    src, sha = ctx.sealed("seal", SOURCE, "tag")
    tree = archive.restore(src, sha, ctx.work("tag"), "tag")
    rel = str(ctx.state.stage("seal").details["version_file"])
    message = ctx.cfg.bump_message.format(version=ctx.version)
    return commit_file(
        ctx.root,
        ctx.commit,
        rel,
        tree / rel,
        message=message,
        signature=_signature(ctx),
        index=ctx.work("tag.index"),
        parent_if_unchanged=True,
    )


def _tag_message(ctx: Context) -> str:
    return f"Release {ctx.tag}"


def tag_object(ctx: Context, commit: str) -> str:
    return write_tag(ctx.root, commit, ctx.tag, _signature(ctx), _tag_message(ctx))


def _on_release(ctx: Context, commit: str) -> bool | None:
    """Whether ``commit`` is the release commit or a commit made on it alone (the bump);
    ``None`` when it is not in the local repository, so nobody here can tell."""
    if commit == ctx.commit:
        return True
    if ref_sha(ctx.root, f"{commit}^{{commit}}") is None:
        return None
    return parents(ctx.root, commit) == [ctx.commit]


def _tag_clash(ctx: Context, where: str, sha: str, peeled: str | None) -> str | None:
    """Why an existing tag ``sha`` (peeled: its commit) stops this release, or ``None`` when
    it is the very tag the stage makes (a release whose state was moved aside, run again)."""
    never = "a published tag is never moved: release another version"
    if peeled is not None and _on_release(ctx, peeled) is False:
        return (
            f"tag {ctx.tag} already exists ({where}) on commit {peeled[:12]}, not the release "
            f"commit {ctx.commit[:12]} nor its version bump; {never}"
        )
    made = peeled is not None and sha == tag_id(
        ctx.root, peeled, ctx.tag, _signature(ctx), _tag_message(ctx)
    )
    if not made:
        return (
            f"tag {ctx.tag} already exists ({where}) and is not the tag this release makes "
            f"({sha[:12]}); {never}"
        )
    return None


def _remote_refs(ctx: Context, *refs: str) -> dict[str, str]:
    """``refs`` (and the commits their tags peel to, as ``REF^{}``) on the remote."""
    return remote_refs(ctx.root, ctx.cfg.remote, *refs, *(f"{r}^{{}}" for r in refs))


def _ensure_ref(ctx: Context, ref: str, sha: str) -> None:
    have = ref_sha(ctx.root, ref)
    if have is None:
        create_ref(ctx.root, ref, sha)
    elif have != sha:
        raise ReleaseError(f"stage tag: {ref} already exists at {have[:12]}, not {sha[:12]}")


def _push(ctx: Context, ref: str, sha: str) -> bool:
    """Push ``ref`` unless the remote already has it at ``sha``; refuse a different value."""
    remote = ctx.cfg.remote
    there = remote_ref(ctx.root, remote, ref)
    if there == sha:
        return False
    if there is not None:
        raise ReleaseError(
            f"stage tag: {remote} already has {ref} at {there[:12]}, not {sha[:12]}; "
            "a published tag is never moved"
        )
    push_ref(ctx.root, remote, sha, ref)
    return True


def _bump_pr(ctx: Context, branch: str) -> int:
    """The open bump PR from ``branch`` (opened now unless one exists)."""
    return repo_api(ctx, "tag", "the bump PR").ensure_pull(
        title=ctx.cfg.bump_message.format(version=ctx.version),
        head=branch,
        base=ctx.cfg.base_branch,
        body=f"Version bump for {ctx.tag}, released from this commit.",
    )


class TagStage:
    name = "tag"
    title = "Git tag and version bump"

    def preflight(self, ctx: Context) -> list[str]:
        """The refusals of `_ensure_ref` and `_push`, known before the first stage runs: the
        tag already there (here or on the remote) but not as this release makes it, the
        bump branch already on the remote at a commit not made on the release commit."""
        ref = f"refs/tags/{ctx.tag}"
        branch = ctx.cfg.bump_branch.format(version=ctx.version)
        heads = f"refs/heads/{branch}"
        remote = ctx.cfg.remote
        try:
            there = _remote_refs(ctx, ref, *([heads] if ctx.cfg.bump_pr else []))
        except GitError as exc:  # git's own message goes on for lines: its first says why
            why = (str(exc).splitlines() or [""])[0]
            return [f"tag: cannot read the refs of remote {remote}: {why}"]
        problems: list[str] = []
        places = [("local", ref_sha(ctx.root, ref), ref_sha(ctx.root, f"{ref}^{{commit}}"))]
        places.append((remote, there.get(ref), there.get(f"{ref}^{{}}", there.get(ref))))
        for where, sha, peeled in places:
            clash = _tag_clash(ctx, where, sha, peeled) if sha is not None else None
            if clash is not None:
                problems.append(clash)
                break
        head = there.get(heads)
        if head is not None and _on_release(ctx, head) is False:
            problems.append(
                f"branch {branch} already exists on {remote} at {head[:12]}, a commit not "
                f"made on the release commit {ctx.commit[:12]}: the bump would not reach it; "
                "delete the branch or set release.bump_branch"
            )
        return problems

    def plan(self, ctx: Context) -> list[str]:
        lines = [
            f"restore {SOURCE} after checking its sha256",
            f"commit the version bump on {ctx.commit[:12]} (dates fixed at {ctx.epoch})",
            f"annotated tag {ctx.tag}; check {ctx.cfg.remote} for it, then push it",
        ]
        if ctx.cfg.bump_pr:
            branch = ctx.cfg.bump_branch.format(version=ctx.version)
            lines.append(f"push {branch} and open the bump PR to {ctx.cfg.base_branch}")
        return lines

    def run(self, ctx: Context, rec: StageRecord) -> None:
        commit = bump_commit(ctx)
        tag = tag_object(ctx, commit)
        ref = f"refs/tags/{ctx.tag}"
        _ensure_ref(ctx, ref, tag)
        rec.outputs.update({"commit": commit, "tag": tag})
        pushed = _push(ctx, ref, tag)
        ctx.echo(f"  {ctx.tag} -> {commit[:12]} {'pushed' if pushed else 'already on remote'}")
        if ctx.cfg.bump_pr:
            branch = ctx.cfg.bump_branch.format(version=ctx.version)
            _push(ctx, f"refs/heads/{branch}", commit)
            rec.details["bump_pr"] = _bump_pr(ctx, branch)

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        ref = f"refs/tags/{ctx.tag}"
        for where, sha in (
            ("local", ref_sha(ctx.root, ref)),
            (ctx.cfg.remote, remote_ref(ctx.root, ctx.cfg.remote, ref)),
        ):
            if sha != rec.outputs["tag"]:
                raise ReleaseError(
                    f"stage tag: {ref} on {where} is {sha}, recorded {rec.outputs['tag']}"
                )
