"""`steward config`: check a config file, show the effective config, export its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from steward.cli.common import config_option, json_option, path_option, resolve_config
from steward.cli.main import echo_json
from steward.config.loader import as_yaml, find_config, load_config
from steward.config.model import StewardConfig
from steward.config.paths import check_paths
from steward.errors import UsageError
from steward.workspace import Workspace

_CHECKOUT = "The checkout whose .github/steward.yml is meant."


@click.group()
def config() -> None:
    """Check, show or export steward's configuration (.github/steward.yml)."""


@config.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@path_option(help=_CHECKOUT)
@config_option()
@json_option
def check(file: Path | None, path: Path, config_file: Path | None, as_json: bool) -> None:
    """Validate FILE (or --config FILE; default: PATH/.github/steward.yml); errors name
    file, line and key.

    Path settings (changelog.output, version.version_file, release.state_dir, ...) are
    checked in PATH too: inside it after symlinks, outside .git/, a regular file (or a
    directory) where one exists, never a device, a FIFO or a socket.

    Also warns about labels a policy applies that the `labels` taxonomy lacks (GitHub would
    create them grey, with no description).
    """
    if file is not None and config_file is not None:
        raise UsageError("give the file once: as FILE or as --config FILE")
    # Relative to the checkout, so errors read .github/steward.yml:LINE.
    explicit = file or config_file
    if explicit is not None:
        option = "FILE" if file is not None else "--config"
        target: Path | None = Workspace(path).cli_path(explicit, option, must_exist=False)
    else:
        target = find_config(path)
    if target is None:
        message = f"no .github/steward.yml in {path}: the playbook's defaults apply"
        if as_json:
            echo_json({"file": None, "ok": True, "warnings": [], "note": message})
        else:
            click.echo(message)
        return
    cfg = load_config(target)
    check_paths(cfg, path)
    missing = cfg.labels_by_policy()
    warnings = [
        {"label": name, "policy": missing[name]}
        for name in sorted(set(missing) - cfg.label_names())
    ]
    if as_json:
        echo_json({"file": str(target), "ok": True, "warnings": warnings})
        return
    for w in warnings:
        click.echo(
            f"warning: label {w['label']!r} is applied by policy {w['policy']} but not in 'labels'",
            err=True,
        )
    click.echo(f"{target}: ok")


@config.command("show")
@path_option(help=_CHECKOUT)
@config_option()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def show(path: Path, config_file: Path | None, as_json: bool) -> None:
    """Print the effective config: the file's values over the playbook's defaults."""
    data = resolve_config(config_file, path).effective()
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
