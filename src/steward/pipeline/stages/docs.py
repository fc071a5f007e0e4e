"""Docs: the playbook's "Create PR (Layer ARN)" and "Release versioned docs".

1. When the layer stages recorded layer ARNs and ``release.docs.layer_arns.file`` is set, the
   docs file is rendered with them (a pure function of the file and the ARNs), committed on
   the base branch with git plumbing, with the CHANGELOG updated for the release on top
   (the playbook's layer docs PR carries both), pushed to its own branch, and a pull
   request opened through the GitHub client (once: an open PR from that branch is reused).
2. The docs are built from the sealed source (with the same ARNs already in place) and
   deployed with mike: ``mike deploy --push --update-aliases VERSION latest`` to the
   documentation branch, then ``mike set-default --push latest``; the alias never moves
   back to an older version than the one it is on.

Re-running it changes nothing: the same content makes no commit on the documentation branch,
the ARN commit is rebuilt from recorded inputs (same id) and the open PR is found again.
Off until configured (``release.docs.enabled``). A pre-release (PEP 440 a/b/rc) deploys
under ``prerelease_alias`` (`alpha`, the playbook's alpha docs), never under `latest` nor
as the site's default; ``include_prereleases: false`` skips them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.config.docs import DocsConfig, LayerArnFormat, LayerArnsConfig
from steward.errors import ConfigError, GitError, ReleaseError
from steward.fsutil import atomic_write_text
from steward.history.git import archive_tar, remote_ref, show_file
from steward.history.plumbing import (
    REGULAR_FILE,
    Signature,
    commit_file,
    fetch_ref,
    push_with_lease,
)
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.github import repo_api
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import ReleaseState, StageRecord
from steward.release import docs_site
from steward.release.changelog.render import BUILTIN, load_template
from steward.release.changelog.splice import splice_checked
from steward.release.changelog.text import changelog_text
from steward.release.repository import Scope
from steward.workspace import Limit, Workspace, read_text

_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]{0,20}):lambda:(?P<region>[a-z]{2}(?:-[a-z]+){1,3}-[0-9]|\{region\})"
    r":(?P<account>[0-9]{12}):layer:(?P<name>[A-Za-z0-9_-]{1,140}):(?P<version>[0-9]{1,9})"
)
MAX_PR_LINES = 200


# -- layer ARNs: pure ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class LayerArn:
    name: str
    region: str
    partition: str
    account: str
    version: int

    @classmethod
    def parse(cls, text: str) -> LayerArn | None:
        m = _ARN.fullmatch(text.strip())
        if m is None or m["region"] == "{region}":
            return None
        return cls(m["name"], m["region"], m["partition"], m["account"], int(m["version"]))

    @property
    def arn(self) -> str:
        return (
            f"arn:{self.partition}:lambda:{self.region}:{self.account}:layer:"
            f"{self.name}:{self.version}"
        )


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def recorded_layer_arns(state: ReleaseState, stage: str) -> list[LayerArn]:
    """Every layer ARN the completed ``stage`` recorded in its details (any shape: a list of
    ARNs, a region -> ARN map, records with an ``arn`` field), sorted by layer and region."""
    rec = state.stages.get(stage)
    if rec is None or rec.status != "completed":
        return []
    found = {arn for s in _strings(rec.details) if (arn := LayerArn.parse(s)) is not None}
    return sorted(found)


def _markdown_tables(arns: Sequence[LayerArn]) -> str:
    by_name: dict[str, list[LayerArn]] = {}
    for a in sorted(arns):
        by_name.setdefault(a.name, []).append(a)
    blocks = []
    for name, items in by_name.items():
        rows = ["| Region | Layer ARN |", "| ------ | --------- |"]
        rows += [f"| `{a.region}` | `{a.arn}` |" for a in items]
        table = "\n".join(rows)
        blocks.append(f"**{name}**\n\n{table}" if len(by_name) > 1 else table)
    return "\n\n".join(blocks)


def render_layer_arns(
    text: str | None,
    arns: Sequence[LayerArn],
    fmt: LayerArnFormat,
    *,
    marker: str = "layer-arns",
    version: str = "",
    where: str = "the layer ARN file",
) -> str:
    """The docs file ``text`` (None: it does not exist) updated with ``arns``.

    ``markdown`` replaces what lies between ``<!-- steward:MARKER:start -->`` and
    ``<!-- steward:MARKER:end -->`` with one table per layer; ``replace`` gives every ARN of a
    published layer (same partition, region, account and name; ``{region}`` placeholders
    too, when all regions share one version) the new version number; ``json`` is the whole
    file. Rendering the result again with the same ARNs returns it unchanged.
    """
    if fmt == "json":
        layers: dict[str, dict[str, str]] = {}
        for a in sorted(arns):
            layers.setdefault(a.name, {})[a.region] = a.arn
        return json.dumps({"version": version, "layers": layers}, indent=2) + "\n"
    if text is None:
        raise docs_site.DocsError(f"{where} does not exist")
    if fmt == "markdown":
        start, end = f"<!-- steward:{marker}:start -->", f"<!-- steward:{marker}:end -->"
        i = text.find(start)
        j = text.find(end, i + len(start)) if i >= 0 else -1
        if i < 0 or j < 0:
            raise docs_site.DocsError(
                f"{where} has no {start} ... {end} markers around its layer ARN table"
            )
        return f"{text[: i + len(start)]}\n{_markdown_tables(arns)}\n{text[j:]}"
    return _replace_arns(text, arns, where)


def _replace_arns(text: str, arns: Sequence[LayerArn], where: str) -> str:
    exact = {(a.partition, a.region, a.account, a.name): a.version for a in arns}
    per_layer: dict[tuple[str, str, str], set[int]] = {}
    for a in arns:
        per_layer.setdefault((a.partition, a.account, a.name), set()).add(a.version)
    matched = 0

    def swap(m: re.Match[str]) -> str:
        nonlocal matched
        if m["region"] == "{region}":
            versions = per_layer.get((m["partition"], m["account"], m["name"]), set())
            new = next(iter(versions)) if len(versions) == 1 else None
        else:
            new = exact.get((m["partition"], m["region"], m["account"], m["name"]))
        if new is None:
            return m.group(0)
        matched += 1
        return m.group(0)[: m.start("version") - m.start()] + str(new)

    out = _ARN.sub(swap, text)
    if matched == 0:
        raise docs_site.DocsError(f"{where} names none of the published layers' ARNs")
    return out


# -- the layer ARN pull request --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileUpdate:
    """One file of the PR: its path, how to render it from the base's text, the message."""

    rel: str
    render: Callable[[str | None], str]
    message: str


@dataclass(frozen=True, slots=True)
class FileCommit:
    base: str  # the base branch's commit on the remote
    commit: str | None  # the last commit updating the files; None when all were up to date
    texts: dict[str, str]  # each file as the commit has it
    changed: tuple[str, ...] = ()  # the files a commit updates, in order


def commit_file_updates(
    ctx: Context, base_branch: str, updates: Sequence[FileUpdate]
) -> FileCommit:
    """Commits on the remote's ``base_branch``, one per file whose rendering differs from
    the base's, made with git plumbing from recorded inputs (so a retry gives the same ids);
    the worktree, the index and the current branch are not touched."""
    root, remote = ctx.root, ctx.cfg.remote
    base = remote_ref(root, remote, f"refs/heads/{base_branch}")
    if base is None:
        raise ReleaseError(f"stage docs: {remote} has no branch {base_branch} to open a PR to")
    fetch_ref(root, remote, f"refs/heads/{base_branch}")
    parent, texts, changed = base, {}, []
    for update in updates:
        current = _read_blob(root, base, update.rel)
        new = update.render(current)
        texts[update.rel] = new
        if new == current:
            continue
        parent = commit_file(
            root,
            parent,
            update.rel,
            new.encode(),
            message=update.message,
            signature=Signature(ctx.cfg.git_user_name, ctx.cfg.git_user_email, ctx.epoch),
            index=ctx.work("docs.index"),
            mode=REGULAR_FILE,
        )
        changed.append(update.rel)
    return FileCommit(base, parent if changed else None, texts, tuple(changed))


def _read_blob(root: Path, rev: str, rel: str) -> str | None:
    try:
        data = show_file(root, rev, rel)
    except GitError:
        return None
    return data.decode("utf-8", errors="replace")


def push_branch(ctx: Context, branch: str, commit: str, texts: dict[str, str]) -> bool:
    """Push ``commit`` to ``branch`` unless the remote's branch already has every file as
    ``texts`` says (a rerun); the branch is steward's own, so an older update is replaced."""
    root, remote, ref = ctx.root, ctx.cfg.remote, f"refs/heads/{branch}"
    there = remote_ref(root, remote, ref)
    if there == commit:
        return False
    if there is not None:
        fetch_ref(root, remote, ref)
        if all(_read_blob(root, there, rel) == text for rel, text in texts.items()):
            return False
    push_with_lease(root, remote, commit, ref, there)
    return True


def changelog_update(ctx: Context) -> FileUpdate:
    """The CHANGELOG as the release leaves it (the playbook's layer docs PR runs `make
    changelog` too): rendered from the history with the release's tag, merged into the
    base branch's file so its released sections and intro are kept as they are."""
    cfg = ctx.config.changelog
    scope = Scope(ctx.config.version, cfg)
    if cfg.template not in BUILTIN:  # a repository's own template: a file inside it
        ctx.workspace().config_path(cfg.template, "changelog.template")
    template = load_template(cfg.template, ctx.root)
    result = changelog_text(
        ctx.root,
        scope,
        template=template,
        template_id=cfg.template if cfg.template in BUILTIN else None,
        use_cache=False,
    )
    rendered = result.text
    names: dict[str, str] = {}
    for release in result.line.shown:
        names[release.tag.name] = release.tag.name
        names.setdefault(str(release.version), release.tag.name)
    if ctx.tag not in names:
        raise ReleaseError(
            f"stage docs: the changelog has no section for {ctx.tag}: the tag is not on the "
            "line of the checkout (set release.docs.layer_arns.changelog: false to leave it)"
        )

    def render(current: str | None) -> str:
        if current is None:
            return rendered
        merged = splice_checked(current, rendered, names)
        if merged.lacking:
            raise ReleaseError(
                f"stage docs: {cfg.output} on the base branch has released sections the "
                f"history here lacks ({', '.join(merged.lacking)}): a shallow clone?"
            )
        return merged.text

    return FileUpdate(cfg.output, render, f"docs(changelog): update changelog for {ctx.tag}")


def _pr_body(tag: str, arns: Sequence[LayerArn], rel: str, changed: Sequence[str]) -> str:
    lines = [f"Layer ARNs published by {tag}, for `{rel}`:", ""]
    lines += [f"- `{a.arn}`" for a in arns[:MAX_PR_LINES]]
    if len(arns) > MAX_PR_LINES:
        lines.append(f"- ... and {len(arns) - MAX_PR_LINES} more")
    others = [f"`{c}`" for c in changed if c != rel]
    if others:
        lines += ["", f"Also updates {', '.join(others)} for {tag}."]
    lines += ["", "Opened by `steward release run` (docs stage)."]
    return "\n".join(lines)


# -- the stage -------------------------------------------------------------------------------


def docs_config(ctx: Context) -> DocsConfig:
    """The ``release.docs`` section."""
    return ctx.cfg.docs


class DocsStage:
    name = "docs"
    title = "Versioned docs and layer ARNs"

    def __init__(self, config: DocsConfig | None = None) -> None:
        self._config = config

    def config(self, ctx: Context) -> DocsConfig:
        return self._config if self._config is not None else docs_config(ctx)

    def _skip_reason(self, ctx: Context, cfg: DocsConfig) -> str | None:
        if not cfg.enabled:
            return "docs are not configured (release.docs.enabled is false)"
        if ctx.prerelease and not cfg.include_prereleases:
            return "pre-release (release.docs.include_prereleases is false)"
        return None

    def _target(self, ctx: Context, cfg: DocsConfig) -> docs_site.DocsTarget:
        return docs_site.DocsTarget(ctx.root, cfg.remote or ctx.cfg.remote, cfg.branch)

    def _build(
        self, ctx: Context, cfg: DocsConfig, source: Path, *, moves: bool = True
    ) -> docs_site.DocsBuild:
        """``moves``: whether the alias (`latest`, `alpha` for a pre-release) goes to it."""
        name = docs_site.docs_version_name(cfg.version_name, ctx.version)
        return docs_site.DocsBuild(
            source=source,
            config_file=cfg.mkdocs_config,
            version=name,
            alias=cfg.alias_for(ctx.prerelease) if moves else None,
            set_default=cfg.set_default and not ctx.prerelease,
            epoch=ctx.epoch,
            message=f"docs: deploy {name} from {ctx.commit[:12]} ({ctx.tag})",
            mike=tuple(cfg.mike_command),
            committer=(ctx.cfg.git_user_name, ctx.cfg.git_user_email),
            timeout=cfg.timeout,
        )

    def plan(self, ctx: Context) -> list[str]:
        cfg = self.config(ctx)
        reason = self._skip_reason(ctx, cfg)
        if reason is not None:
            return [f"nothing: {reason}"]
        lines = []
        arn = cfg.layer_arns
        if arn.file:
            branch = arn.branch.format(version=ctx.version, tag=ctx.tag)
            lines.append(
                f"layer ARNs recorded by {arn.source_stage} into {arn.file} ({arn.format}); "
                f"push {branch} and open a PR to {ctx.cfg.base_branch}"
            )
        lines.append(f"restore {SOURCE} (or the release commit) into {ctx.work('docs')}")
        build = self._build(ctx, cfg, ctx.work("docs"))
        alias = cfg.alias_for(ctx.prerelease)
        lines += docs_site.describe(self._target(ctx, cfg), build)
        return [*lines, f"{alias} moves to {build.version} unless a newer version holds it"]

    def preflight(self, ctx: Context) -> list[str]:
        """What the stage will need but cannot have (for the runner's check before a
        release starts)."""
        cfg = self.config(ctx)
        if self._skip_reason(ctx, cfg) is not None:
            return []
        problems = []
        try:
            docs_site.resolve_command(cfg.mike_command, ctx.env)
        except docs_site.DocsError as exc:
            problems.append(f"docs: {exc}")
        if cfg.layer_arns.file:
            if ctx.github is None:
                problems.append("the layer ARN PR needs GITHUB_TOKEN (or --skip docs)")
            elif not (ctx.cfg.repository or ctx.env.get("GITHUB_REPOSITORY")):
                problems.append("set release.repository or GITHUB_REPOSITORY (OWNER/NAME)")
        return problems

    def run(self, ctx: Context, rec: StageRecord) -> None:
        cfg = self.config(ctx)
        reason = self._skip_reason(ctx, cfg)
        if reason is not None:
            rec.details["skipped"] = reason
            ctx.echo(f"  nothing to do: {reason}")
            return
        tree = self._source(ctx)
        # mike reads the MkDocs config from the restored tree: a regular file in it.
        Workspace(tree, ctx.config.origin).config_path(
            cfg.mkdocs_config, "release.docs.mkdocs_config", must_exist=False
        )
        if cfg.layer_arns.file:
            self._layer_arns(ctx, cfg.layer_arns, rec, tree)
        target = self._target(ctx, cfg)
        build = self._build(ctx, cfg, tree, moves=self._alias_moves(ctx, cfg, target))
        result = docs_site.deploy(target, build, ctx.env)
        rec.details.update(
            {
                "docs_version": build.version,
                "alias": build.alias,
                "remote": target.remote,
                "branch": target.branch,
                "commit": result.after,
                "changed": result.changed,
            }
        )
        state = "deployed" if result.changed else "already deployed, nothing changed"
        ctx.echo(f"  docs {build.version} on {target.remote} {target.branch}: {state}")

    def _alias_moves(self, ctx: Context, cfg: DocsConfig, target: docs_site.DocsTarget) -> bool:
        """Whether the alias may move to this release: never back to an older version (a
        patch of an old line released after a newer one leaves `latest` where it is)."""
        if docs_site.fetch_branch(target) is None:
            return True
        versions = docs_site.read_versions(ctx.root, target.tracking_ref)
        name = docs_site.docs_version_name(cfg.version_name, ctx.version)
        return docs_site.takes_alias(versions, name, cfg.alias_for(ctx.prerelease))

    def _source(self, ctx: Context) -> Path:
        """The sealed source restored (its hash checked), else the release commit."""
        dest = ctx.work("docs")
        seal = ctx.state.stages.get("seal")
        if seal is not None and seal.status == "completed":
            src, sha = ctx.sealed("seal", SOURCE, self.name)
            return archive.restore(src, sha, dest, self.name)
        data = archive_tar(ctx.root, ctx.commit)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(dest, filter="data")
        return dest

    def _layer_arns(self, ctx: Context, cfg: LayerArnsConfig, rec: StageRecord, tree: Path) -> None:
        assert cfg.file is not None
        arns = recorded_layer_arns(ctx.state, cfg.source_stage)
        if not arns:
            rec.details["layer_arns"] = f"none recorded by stage {cfg.source_stage}"
            ctx.echo(f"  layer ARNs: none recorded by stage {cfg.source_stage}; no PR")
            return
        rel = cfg.file

        def render(text: str | None) -> str:
            return render_layer_arns(
                text, arns, cfg.format, marker=cfg.marker, version=ctx.version, where=rel
            )

        # The deployed docs show the new ARNs at once; the PR brings them to the trunk.
        built = Workspace(tree, ctx.config.origin).config_path(
            rel, "release.docs.layer_arns.file", must_exist=False
        )
        exists = built.is_file()
        current = (
            read_text(built, Limit.PROJECT, "layer ARN file", error=ConfigError) if exists else None
        )
        if built.parent.is_dir():
            atomic_write_text(built, render(current), root=tree, newline="")
        api = repo_api(ctx, "docs", "the layer ARN PR")
        title = cfg.title.format(version=ctx.version, tag=ctx.tag)
        branch = cfg.branch.format(version=ctx.version, tag=ctx.tag)
        updates = [FileUpdate(rel, render, title)]
        if cfg.changelog:
            updates.append(changelog_update(ctx))
        update = commit_file_updates(ctx, ctx.cfg.base_branch, updates)
        rec.details["layer_arns"] = [a.arn for a in arns]
        files = " and ".join(u.rel for u in updates)
        if update.commit is None:
            rec.details["layer_arn_pr"] = f"{files} on {ctx.cfg.base_branch} up to date"
            ctx.echo(f"  layer ARNs: {files} on {ctx.cfg.base_branch} already up to date; no PR")
            return
        rec.details["layer_arn_pr_files"] = list(update.changed)
        pushed = push_branch(ctx, branch, update.commit, update.texts)
        existing = api.open_pull_from(branch)  # a rerun finds the same PR
        opened = existing is None
        number = existing or api.create_pull(
            title=title,
            head=branch,
            base=ctx.cfg.base_branch,
            body=_pr_body(ctx.tag, arns, rel, update.changed),
        )
        rec.details["layer_arn_pr"] = number
        rec.details["layer_arn_branch"] = branch
        what = "opened" if opened else "already open"
        ctx.echo(
            f"  layer ARNs: {branch} {'pushed' if pushed else 'up to date'}; PR #{number} {what}"
        )

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        """The documentation branch on the remote still holds the deployed version."""
        if "skipped" in rec.details or "docs_version" not in rec.details:
            return
        target = docs_site.DocsTarget(
            ctx.root, str(rec.details["remote"]), str(rec.details["branch"])
        )
        version = str(rec.details["docs_version"])
        sha = docs_site.fetch_branch(target)
        if sha is None or not docs_site.has_version(ctx.root, sha, version):
            raise ReleaseError(
                f"stage docs: {target.remote} {target.branch} no longer holds docs {version}"
            )
