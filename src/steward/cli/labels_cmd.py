"""`steward labels`: the label taxonomy, listed or synced to a repository."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.common import (
    config_option,
    dry_run_option,
    github_client,
    json_option,
    path_option,
    repo_name,
    repo_option,
    resolve_config,
)
from steward.cli.main import echo_json
from steward.github.repo_api import RepoApi
from steward.shell.labels_sync import apply_sync, plan_sync

_CHECKOUT = "The checkout whose .github/steward.yml applies."


@click.group()
def labels() -> None:
    """The label taxonomy (the playbook's Labels table unless the config says otherwise)."""


@labels.command("list")
@path_option(help=_CHECKOUT)
@config_option()
@json_option
def list_(path: Path, config_file: Path | None, as_json: bool) -> None:
    """List the labels steward manages, with colour and description."""
    specs = resolve_config(config_file, path).labels
    if as_json:
        echo_json([s.model_dump(by_alias=True) for s in specs])
        return
    width = max(len(s.name) for s in specs)
    for s in specs:
        click.echo(f"{s.name:<{width}}  #{s.color}  {s.description}")


@labels.command("sync")
@repo_option()
@path_option(help=_CHECKOUT)
@config_option()
@click.option("--prune", is_flag=True, help="Also delete labels the taxonomy does not list.")
@dry_run_option("Print the changes; make none.")
@json_option
def sync(  # noqa: PLR0917 (click passes one argument per option)
    repo: str | None,
    path: Path,
    config_file: Path | None,
    prune: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Create missing labels, update colours and descriptions, rename labels listed under a
    label's `from`, and with --prune delete the rest. Running it twice changes nothing."""
    name = repo_name(repo)
    specs = resolve_config(config_file, path).labels
    with github_client() as client:
        api = RepoApi(client, name)
        changes = plan_sync(specs, api.labels(), prune=prune)
        if not as_json:
            for c in changes:
                click.echo(("would " if dry_run else "") + c.describe())
            if not changes:
                click.echo(f"{name}: labels already in sync")
        if changes and not dry_run:
            apply_sync(api, changes)
    if as_json:
        echo_json(
            {
                "repository": name,
                "dry_run": dry_run,
                "changes": [
                    {"op": c.op, "name": c.name, "from": c.current, "description": c.describe()}
                    for c in changes
                ],
            }
        )
