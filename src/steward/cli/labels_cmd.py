"""`steward labels`: the label taxonomy, listed or synced to a repository."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.common import config_option, github_client, json_option, repo_name, resolve_config
from steward.cli.main import echo_json
from steward.forge.labels_sync import apply_sync, plan_sync
from steward.forge.repo_api import RepoApi


@click.group()
def labels() -> None:
    """The label taxonomy (the playbook's Labels table unless the config says otherwise)."""


@labels.command("list")
@config_option()
@json_option
def list_(config_file: Path | None, as_json: bool) -> None:
    """List the labels steward manages, with colour and description."""
    specs = resolve_config(config_file).labels
    if as_json:
        echo_json([s.model_dump(by_alias=True) for s in specs])
        return
    width = max(len(s.name) for s in specs)
    for s in specs:
        click.echo(f"{s.name:<{width}}  #{s.color}  {s.description}")


@labels.command("sync")
@click.option("--repo", "repo", metavar="OWNER/NAME", help="Default: $GITHUB_REPOSITORY.")
@config_option()
@click.option("--prune", is_flag=True, help="Also delete labels the taxonomy does not list.")
@click.option("--dry-run", is_flag=True, help="Print the changes; make none.")
def sync(repo: str | None, config_file: Path | None, prune: bool, dry_run: bool) -> None:
    """Create missing labels, update colours and descriptions, rename labels listed under a
    label's `from`, and with --prune delete the rest. Running it twice changes nothing."""
    name = repo_name(repo)
    specs = resolve_config(config_file).labels
    with github_client() as client:
        api = RepoApi(client, name)
        changes = plan_sync(specs, api.labels(), prune=prune)
        for c in changes:
            click.echo(("would " if dry_run else "") + c.describe())
        if not changes:
            click.echo(f"{name}: labels already in sync")
        elif not dry_run:
            apply_sync(api, changes)
