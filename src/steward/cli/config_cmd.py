"""`steward config`: check a config file, show the effective config, export its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from steward.cli.common import config_option, resolve_config
from steward.cli.main import echo_json
from steward.config.loader import as_yaml, find_config, load_config
from steward.config.model import StewardConfig


@click.group()
def config() -> None:
    """Check, show or export steward's configuration (.github/steward.yml)."""


@config.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
def check(file: Path | None) -> None:
    """Validate FILE (default: .github/steward.yml); errors name file, line and key.

    Also warns about labels a policy applies that the `labels` taxonomy lacks (GitHub would
    create them grey, with no description).
    """
    path = file or find_config(Path())  # relative, so errors read .github/steward.yml:LINE
    if path is None:
        click.echo("no .github/steward.yml here: the playbook's defaults apply")
        return
    cfg = load_config(path)
    for name in sorted(cfg.policy_labels() - cfg.label_names()):
        click.echo(f"warning: label {name!r} is applied by a policy but not in 'labels'", err=True)
    click.echo(f"{path}: ok")


@config.command("show")
@config_option()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def show(config_file: Path | None, as_json: bool) -> None:
    """Print the effective config: the file's values over the playbook's defaults."""
    data = resolve_config(config_file).effective()
    if as_json:
        echo_json(data)
    else:
        click.echo(as_yaml(data), nl=False)


@config.command("schema")
def schema() -> None:
    """Print the JSON Schema of the config file (for editor completion and validation)."""
    echo_json(config_schema())


def config_schema() -> dict[str, Any]:
    """The config's JSON Schema (Draft 2020-12, as pydantic emits it), with its dialect named."""
    schema = StewardConfig.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
