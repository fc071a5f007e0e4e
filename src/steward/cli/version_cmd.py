"""`steward version`: the current version and the next one, from tags and commits."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.common import config_option, git_repo_option, json_option, resolve_config
from steward.cli.main import echo_json
from steward.errors import ConfigError
from steward.release.config import VersionConfig
from steward.release.version import Phase, TagScheme, load_release_tags, next_version, normalize
from steward.release.version_file import read_version, write_version


@click.group()
def version() -> None:
    """Versions (PEP 440) from release tags (`v{version}` unless configured).

    A version's tag pattern is `version.tag_pattern` in the config; tags that are not
    versions are ignored with a notice.
    """


@version.command("current")
@git_repo_option
@config_option("REPO")
@json_option
def current(repo: Path, config_file: Path | None, as_json: bool) -> None:
    """Print the latest released version (the highest version tag, pre-releases included).

    With no release tag, prints the version the project file declares, and says so.
    """
    cfg = resolve_config(config_file, repo).version
    tags = load_release_tags(repo, cfg)
    latest = tags.latest()
    declared = _declared(repo, cfg)
    if as_json:
        echo_json(
            {
                "version": str(latest.version) if latest else None,
                "tag": latest.tag.name if latest else None,
                "declared": declared,
                "ignored_tags": tags.ignored,
            }
        )
        return
    if latest is None:
        click.echo(declared or cfg.initial_version)
        src = "the project file" if declared else "version.initial_version"
        click.echo(f"note: no tags match {cfg.tag_pattern!r}; version from {src}", err=True)
        return
    click.echo(str(latest.version))


@version.command("next")
@git_repo_option
@config_option("REPO")
@click.option(
    "--prerelease",
    type=click.Choice(["a", "b", "rc"]),
    help="Make a pre-release (3.2.1a0, then 3.2.1a1, ...), e.g. for daily alphas.",
)
@click.option(
    "--write",
    is_flag=True,
    help="Also set it where the project keeps its version (pyproject or __version__).",
)
@click.option("--dry-run", is_flag=True, help="With --write: say what would change only.")
@json_option
def next_(  # noqa: PLR0917 (click passes options positionally)
    repo: Path,
    config_file: Path | None,
    prerelease: Phase | None,
    write: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Print the next version: breaking -> major (minor under 1.0), feat -> minor, other
    releasable commits -> patch, counted over the commits no final release contains.

    \b
    Examples:
      steward version next
      steward version next --prerelease a --write
    """
    cfg = resolve_config(config_file, repo).version
    tags = load_release_tags(repo, cfg)
    declared = _declared(repo, cfg)
    initial = normalize(declared) if declared and not tags.releases else None
    result = next_version(repo, cfg, prerelease=prerelease, initial=initial, tags=tags)
    changed: str | None = None
    if write:
        current_text = declared
        if current_text != str(result.version):
            changed = str(Path(cfg.version_file or cfg.pyproject))
            if not dry_run:
                write_version(repo, str(result.version), cfg)
    if as_json:
        echo_json(
            {
                "version": str(result.version),
                "tag": TagScheme(cfg.tag_pattern).format(result.version),
                "level": result.level,
                "reason": result.reason,
                "written": changed if write and not dry_run else None,
            }
        )
    else:
        click.echo(str(result.version))
        click.echo(f"note: {result.reason}", err=True)
        if write:
            if changed is None:
                click.echo(
                    f"{cfg.version_file or cfg.pyproject} already at {result.version}", err=True
                )
            else:
                verb = "would set" if dry_run else "set"
                click.echo(f"{verb} {changed} to {result.version}", err=True)


def _declared(repo: Path, cfg: VersionConfig) -> str | None:
    try:
        return read_version(repo, cfg)
    except ConfigError:
        return None
