"""Options and helpers shared by several commands: one definition of each word of the CLI's
vocabulary (``--repo OWNER/NAME``, ``--path DIR``, ``--config FILE``, ``--json``,
``--dry-run``), so they mean the same everywhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from steward.cli.main import echo_json
from steward.config.loader import find_config, load_config, load_release_config
from steward.errors import UsageError
from steward.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from steward.config.model import StewardConfig
    from steward.config.release import ReleaseSections, ReleaseView
    from steward.domain.models import Issue
    from steward.github.client import GitHubClient
    from steward.github.repo_api import RepoApi
    from steward.plan import Plan
    from steward.shell.executor import ApplyResult
    from steward.shell.identity import Identity

# Deprecated spellings are accepted until this version, with a warning.
REMOVED_IN = "0.3"


def deprecated(old: str, new: str) -> None:
    """The one-line warning a deprecated spelling prints on stderr."""
    click.echo(f"warning: {old} is deprecated (removed in {REMOVED_IN}); use {new}", err=True)


def config_option(root: str = "PATH") -> Callable[[F], F]:
    """The `--config FILE` option; ``root`` names the option that sets the checkout."""
    where = f"{root}/.github/steward.yml" if root else ".github/steward.yml"
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help=f"Config file. Default: {where} if present, else the playbook's defaults.",
    )


def path_option(
    *old: str, dest: str = "path", help: str = "The local git checkout."
) -> Callable[[F], F]:
    """`--path DIR` (default: the current directory) into the parameter ``dest``.

    Each of ``old`` is a former spelling (``--root``, or ``--repo`` where it named a
    directory): hidden, still accepted for one minor version, and warned about on stderr.
    """
    key = f"steward.path_alias.{dest}"

    def take_alias(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
        if value is None:
            return
        spelling = param.opts[0]
        if ctx.get_parameter_source(dest) is ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{spelling} is the old spelling of --path: give only --path")
        deprecated(f"{spelling} DIR", "--path DIR")
        ctx.meta[key] = (spelling, value)

    def resolve(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
        alias: tuple[str, Path] | None = ctx.meta.get(key)
        if alias is None:
            return value
        if ctx.get_parameter_source(dest) is ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{alias[0]} is the old spelling of --path: give only --path")
        return alias[1]

    def decorate(f: F) -> F:
        for spelling in old:
            f = click.option(
                spelling,
                f"deprecated_{spelling.lstrip('-')}",  # its own name: dest may be "repo"
                type=click.Path(path_type=Path, file_okay=False),
                hidden=True,
                expose_value=False,
                callback=take_alias,
            )(f)
        return click.option(
            "--path",
            dest,
            type=click.Path(path_type=Path, file_okay=False),
            default=".",
            show_default=True,
            metavar="DIR",
            callback=resolve,
            help=help,
        )(f)

    return decorate


def repo_option(help: str = "GitHub repository. Default: $GITHUB_REPOSITORY.") -> Callable[[F], F]:
    """`--repo OWNER/NAME`: a GitHub repository, never a directory."""
    return click.option("--repo", "repo", metavar="OWNER/NAME", help=help)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def dry_run_option(help: str = "Print the plan; change nothing.") -> Callable[[F], F]:
    return click.option("--dry-run", "dry_run", is_flag=True, help=help)


def dry_run_needs(dry_run: bool, gate: bool, option: str) -> None:
    """A `--dry-run` that would gate nothing is a usage error: without ``option`` the
    command changes nothing anyway."""
    if dry_run and not gate:
        raise UsageError(f"--dry-run goes with {option} (without {option} nothing is changed)")


def resolve_config(config_file: Path | None, root: Path | None = None) -> StewardConfig:
    """An explicit file, else the checkout's `.github/steward.yml`, else the defaults."""
    return load_config(config_path(config_file, root))


def resolve_release_config(config_file: Path | None, root: Path | None = None) -> ReleaseSections:
    """The release sections alone (`steward.config.loader.load_release_config`), from the
    same file `resolve_config` would read."""
    return load_release_config(config_path(config_file, root))


def config_path(config_file: Path | None, root: Path | None = None) -> Path | None:
    """The config file to read: ``--config FILE`` (anywhere, the user's choice, but a
    regular file), else the checkout's `.github/steward.yml` (inside it), else None."""
    base = root or Path()
    if config_file is not None:
        return Workspace(base).cli_path(config_file, "--config", must_exist=False)
    return find_config(base)


def workspace(root: Path, config: ReleaseView | None = None) -> Workspace:
    """The checkout ``root`` as `steward.workspace` sees it, with the config's file and lines
    for the errors of its path settings."""
    return Workspace(root, config.origin if config is not None else None)


def github_client(token: str | None = None) -> GitHubClient:
    """A client from GITHUB_TOKEN/GITHUB_API_URL. httpx is imported here, not at module load,
    so offline commands (version, changelog) start without it."""
    from steward.github.client import DEFAULT_API_URL, GitHubClient

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
    markers: Mapping[int, Collection[str]] | None = None,
    identity: Identity | None = None,
) -> None:
    """Print the plan (dry run, or offline), else apply it and say what changed.

    ``known``: issues already read in this run, so the executor does not read them again;
    ``markers``: steward's marker keys per item, when already read (see `Executor`).
    """
    if dry_run or api is None:
        report_plan(plan, None, as_json=as_json)
        return
    from steward.shell.executor import Executor

    report_plan(plan, Executor(api, known, identity, markers).apply(plan), as_json=as_json)


def report_plan(plan: Plan, result: ApplyResult | None, *, as_json: bool) -> None:
    """The plan (not applied: dry run or offline), else what changed and what was already so."""
    if result is None:
        if as_json:
            echo_json(plan.to_json())
        else:
            click.echo(plan.render())
        return
    if as_json:
        echo_json({**plan.to_json(), "applied": result.applied, "skipped": result.skipped})
        return
    for line in result.applied:
        click.echo(f"done: {line}")
    for line in result.skipped:
        click.echo(f"unchanged: {line}")
    if not result.applied:
        click.echo("nothing to change")
