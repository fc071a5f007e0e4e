"""`steward docs`: the playbook's documentation hotfix.

`steward docs rebuild --version X` rebuilds the docs of the checkout and redeploys them as
the already released version X (MkDocs and mike, as the release's docs stage does), without
a release: no seal, no tag, nothing published but the docs.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from steward.cli.common import config_option, json_option, resolve_config, workspace
from steward.cli.main import echo_json
from steward.config.docs import DocsConfig
from steward.config.model import StewardConfig
from steward.errors import GitError, UsageError
from steward.history.git import commit_timestamp, head_commit
from steward.release import docs_site


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
@click.option("--dry-run", is_flag=True, help="Print the mike commands; change nothing.")
@json_option
def rebuild(
    version: str, workdir: Path, config_file: Path | None, dry_run: bool, as_json: bool
) -> None:
    """Rebuild and redeploy the docs of an already released version, without a release
    (the playbook's "Releasing a documentation hotfix").

    Builds the checkout (keep the trunk checked out, as the playbook says) with MkDocs and
    deploys it with mike to the documentation branch as VERSION. The alias (`latest`)
    moves to it only when no newer version is deployed, so fixing an old version's docs
    never takes `latest` back. The same content makes no new commit.

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
    name = docs_site.docs_version_name(cfg.version_name, version)
    target = docs_site.DocsTarget(root, cfg.remote or config.release.remote, cfg.branch)

    def build(alias: str | None) -> docs_site.DocsBuild:
        return docs_site.DocsBuild(
            source=root,
            config_file=cfg.mkdocs_config,
            version=name,
            alias=alias,
            set_default=cfg.set_default,
            epoch=epoch,
            message=f"docs: rebuild {name} from {head[:12]} (documentation hotfix)",
            mike=tuple(cfg.mike_command),
            committer=(config.release.git_user_name, config.release.git_user_email),
            timeout=cfg.timeout,
        )

    if dry_run:
        lines = docs_site.describe(target, build(cfg.alias))
        lines.append(f"{cfg.alias} moves to {name} only if no newer version is on {target.branch}")
        if as_json:
            echo_json({"version": name, "dry_run": True, "plan": lines})
        else:
            for line in lines:
                click.echo(line)
            click.echo("dry run: nothing was changed")
        return
    if docs_site.fetch_branch(target) is None:
        versions: list[docs_site.DocsVersion] = []
    else:
        versions = docs_site.read_versions(root, target.tracking_ref)
    alias = cfg.alias if docs_site.takes_alias(versions, name, cfg.alias) else None
    result = docs_site.deploy(target, build(alias), os.environ)
    if as_json:
        echo_json(
            {
                "version": name,
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
    moved = f" ({alias} -> {name})" if alias else f" ({cfg.alias} left alone)"
    click.echo(f"docs {name} on {target.remote} {target.branch}: {state}{moved}")
