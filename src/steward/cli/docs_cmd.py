"""`steward docs`: the playbook's documentation hotfix.

`steward docs rebuild --version X` rebuilds the docs of the checkout and redeploys them as
the already released version X (MkDocs and mike, as the release's docs stage does), without
a release: no seal, no tag, nothing published but the docs.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from packaging.version import Version

from steward.cli.common import config_option, json_option, resolve_config, workspace
from steward.cli.main import echo_json
from steward.config.docs import DocsConfig
from steward.config.model import StewardConfig
from steward.errors import GitError, UsageError
from steward.history.git import (
    commit_timestamp,
    has_remote,
    head_commit,
    read_tags,
    remote_refs,
)
from steward.release import docs_site
from steward.release.tags import TagScheme, normalize


@click.group()
def docs() -> None:
    """Versioned docs (MkDocs + mike): the documentation hotfix.

    The release pipeline's docs stage deploys each release's docs; `docs rebuild`
    redeploys an already released version from the current checkout.
    """


def _docs_config(config: StewardConfig) -> DocsConfig:
    return config.release.docs


@docs.command("rebuild")
@click.option(
    "--version",
    "version",
    required=True,
    metavar="X.Y.Z",
    help="The released version whose docs to rebuild (PEP 440, a leading v allowed).",
)
@click.option(
    "--path",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=".",
    show_default=True,
    help="The local git repository (its checkout is what gets built).",
)
@config_option("PATH")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the mike commands that would run and where the alias ends up; push nothing.",
)
@json_option
def rebuild(
    version: str, workdir: Path, config_file: Path | None, dry_run: bool, as_json: bool
) -> None:
    """Rebuild and redeploy the docs of an already released version, without a release
    (the playbook's "Releasing a documentation hotfix").

    Builds the checkout (keep the trunk checked out, as the playbook says) with MkDocs and
    deploys it with mike to the documentation branch as VERSION. VERSION must have a
    release tag (`version.tag_pattern`, here or on the remote): anything else is refused.
    The alias (`latest`; `alpha` for a pre-release) moves to it only when no newer version
    is deployed, so fixing an old version's docs never takes `latest` back. The same
    content makes no new commit. --dry-run reads the documentation branch and prints the
    exact mike commands and where the alias ends up.

    Settings come from `release.docs` (mkdocs_config, mike_command, remote, branch,
    alias, version_name, set_default); `release.docs.enabled` is not needed here.

    \b
    Examples:
      steward docs rebuild --version 1.4.0 --dry-run
      steward docs rebuild --version 1.4.0
    """
    config = resolve_config(config_file, workdir)
    cfg = _docs_config(config)
    # mike reads the MkDocs config from the checkout: inside it, a regular file.
    workspace(workdir, config).config_path(
        cfg.mkdocs_config, "release.docs.mkdocs_config", must_exist=False
    )
    root = workdir.resolve()
    try:
        head = head_commit(root)
        epoch = int(commit_timestamp(root, head))
    except (GitError, ValueError) as exc:
        raise UsageError(f"{root} is not a git repository with a commit: {exc}") from None
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or epoch)
    remote = cfg.remote or config.release.remote
    released = normalize(version)
    tag = release_tag(root, remote, TagScheme(config.version.tag_pattern), released)
    name = docs_site.docs_version_name(cfg.version_name, version)
    target = docs_site.DocsTarget(root, remote, cfg.branch)
    wanted = cfg.alias_for(released.is_prerelease)

    def build(alias: str | None) -> docs_site.DocsBuild:
        return docs_site.DocsBuild(
            source=root,
            config_file=cfg.mkdocs_config,
            version=name,
            alias=alias,
            set_default=cfg.set_default and not released.is_prerelease,
            epoch=epoch,
            message=f"docs: rebuild {name} from {head[:12]} (documentation hotfix)",
            mike=tuple(cfg.mike_command),
            committer=(config.release.git_user_name, config.release.git_user_email),
            timeout=cfg.timeout,
        )

    # The dry run reads the documentation branch as the real run does (a fetch into the
    # remote-tracking ref, nothing pushed), so it prints exactly the commands that would run.
    if docs_site.fetch_branch(target) is None:
        versions: list[docs_site.DocsVersion] = []
    else:
        versions = docs_site.read_versions(root, target.tracking_ref)
    moves, why = alias_move(versions, name, wanted)
    alias = wanted if moves else None
    if dry_run:
        lines = [f"release tag {tag} found", *docs_site.describe(target, build(alias)), why]
        if as_json:
            echo_json({"version": name, "tag": tag, "alias": alias, "dry_run": True, "plan": lines})
        else:
            for line in lines:
                click.echo(line)
            click.echo("dry run: nothing was changed")
        return
    result = docs_site.deploy(target, build(alias), os.environ)
    if as_json:
        echo_json(
            {
                "version": name,
                "tag": tag,
                "alias": alias,
                "remote": target.remote,
                "branch": target.branch,
                "before": result.before,
                "after": result.after,
                "changed": result.changed,
            }
        )
        return
    state = "deployed" if result.changed else "already deployed, nothing changed"
    click.echo(f"docs {name} on {target.remote} {target.branch}: {state} ({why})")


NEAREST = 2  # release tags named on each side of a version that has none


def release_tag(root: Path, remote: str, scheme: TagScheme, version: Version) -> str:
    """The release tag of ``version`` (local, else on ``remote``: a CI checkout often has
    no tags); a ``UsageError`` naming the tag looked for and the releases nearest to it
    otherwise, so a typo never deploys docs for a release that did not happen."""
    names = {t.name for t in read_tags(root)}
    found = sorted(n for n in names if scheme.parse(n) == version)
    if not found and has_remote(root, remote):
        try:
            refs = remote_refs(root, remote, "refs/tags/*")
        except GitError:
            refs = {}
        names |= {r.removeprefix("refs/tags/").removesuffix("^{}") for r in refs}
        found = sorted(n for n in names if scheme.parse(n) == version)
    if found:
        return found[0]
    releases = sorted((v, n) for n in names if (v := scheme.parse(n)) is not None)
    below = [n for v, n in releases if v < version][-NEAREST:]
    above = [n for v, n in releases if v > version][:NEAREST]
    near = below + above
    known = (
        f"nearest release tags: {', '.join(near)}"
        if near
        else f"no release tags match {scheme.pattern!r} here or on {remote}"
    )
    raise UsageError(
        f"{version} was never released: no release tag {scheme.format(version)} here or on "
        f"{remote} ({known}); docs rebuild redeploys released versions only"
    )


def alias_move(versions: list[docs_site.DocsVersion], name: str, alias: str) -> tuple[bool, str]:
    """Whether a rebuild of ``name`` moves ``alias``, and that said in words: an alias never
    goes back to an older version than the one it is on (or than any deployed one)."""
    current = docs_site.alias_target(versions, alias)
    if docs_site.takes_alias(versions, name, alias):
        if current == name:
            return True, f"{alias} already on {name}"
        if current is None:
            return True, f"{alias} set on {name}"
        return True, f"{alias} moves from {current} to {name}"
    if current is not None:
        return False, f"{alias} stays on {current} (newer than {name})"
    newer = [v.version for v in versions if v.version != name]
    return False, f"{alias} left unset (newer versions deployed: {', '.join(newer[:3])})"
