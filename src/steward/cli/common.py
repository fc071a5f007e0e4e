"""Options and helpers shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from steward.cli.main import echo_json
from steward.config.loader import find_config, load_config
from steward.config.model import StewardConfig
from steward.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from collections.abc import Mapping

    from steward.domain.models import Issue
    from steward.forge.client import GitHubClient
    from steward.forge.repo_api import RepoApi
    from steward.plan import Plan


def config_option(root: str = "") -> Callable[[F], F]:
    """The `--config FILE` option; ``root`` names the option that sets the repository."""
    where = f"{root}/.github/steward.yml" if root else ".github/steward.yml"
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help=f"Config file. Default: {where} if present, else the playbook's defaults.",
    )


git_repo_option = click.option(
    "--repo",
    "repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=".",
    show_default=True,
    help="The git repository.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def resolve_config(config_file: Path | None, root: Path | None = None) -> StewardConfig:
    """An explicit file, else the repository's `.github/steward.yml`, else the defaults."""
    if config_file is not None:
        return load_config(config_file)
    return load_config(find_config(root or Path()))


def github_client(token: str | None = None) -> GitHubClient:
    """A client from GITHUB_TOKEN/GITHUB_API_URL. httpx is imported here, not at module load,
    so offline commands (version, changelog) start without it."""
    from steward.forge.client import DEFAULT_API_URL, GitHubClient

    token = token or os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise UsageError(
            "no GitHub token: set GITHUB_TOKEN (or pass --dry-run to only print the plan)"
        )
    return GitHubClient(token, os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)


def repo_name(explicit: str | None) -> str:
    name = explicit or os.environ.get("GITHUB_REPOSITORY")
    if not name:
        raise UsageError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    if name.count("/") != 1 or not all(name.split("/")):
        raise UsageError(f"repository must be OWNER/NAME, got {name!r}")
    return name


def apply_or_print(
    plan: Plan,
    api: RepoApi | None,
    *,
    dry_run: bool,
    as_json: bool,
    known: Mapping[int, Issue] | None = None,
) -> None:
    """Print the plan (dry run, or offline), else apply it and say what changed.

    ``known``: issues already read in this run, so the executor does not read them again.
    """
    if dry_run or api is None:
        if as_json:
            echo_json(plan.to_json())
        else:
            click.echo(plan.render())
        return
    from steward.forge.executor import Executor

    result = Executor(api, known).apply(plan)
    if as_json:
        echo_json({**plan.to_json(), "applied": result.applied, "skipped": result.skipped})
        return
    for line in result.applied:
        click.echo(f"done: {line}")
    for line in result.skipped:
        click.echo(f"unchanged: {line}")
    if not result.applied:
        click.echo("nothing to change")
