"""`steward version`: the current version and the next one, from tags and commits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from steward.cli.common import (
    config_option,
    json_option,
    path_option,
    resolve_release_config,
    workspace,
)
from steward.cli.main import echo_json
from steward.cli.release_scope import (
    fetch_option,
    off_line_json,
    package_option,
    package_scope,
    scope_for,
    setting_for,
    tag_notice,
)
from steward.config.release import VersionConfig
from steward.errors import UsageError
from steward.release.repository import (
    Checked,
    Scope,
    next_version_of,
    read_line,
    require_complete,
    unreleased_by_scope,
)
from steward.release.tags import Line, TagScheme, normalize
from steward.release.version import NextVersion, Phase
from steward.release.version_file import declared_version, write_version
from steward.workspace import Workspace

if TYPE_CHECKING:
    from steward.config.release import ReleaseView


@click.group()
def version() -> None:
    """Versions (PEP 440) from release tags (`v{version}` unless configured).

    A release tag matches `version.tag_pattern` with a complete X.Y.Z version; floating
    tags (`v1`, `v1.1`) and tags matching `version.ignore_tags` are not releases, and are
    named once on stderr. The current version is the newest release on HEAD's line: a
    maintenance branch has its own. A shallow clone is refused (see --fetch).
    """


@version.command("current")
@path_option("--repo", dest="repo")
@config_option()
@package_option
@fetch_option
@json_option
def current(
    repo: Path, config_file: Path | None, package: str | None, fetch: bool, as_json: bool
) -> None:
    """Print the current version: the newest release on HEAD's line (pre-releases
    included). A release tagged on a version-bump commit off the trunk counts when the
    bump's parent is on HEAD's line (the playbook's release workflow).

    With no release tag, prints the version the project file declares, and says so.
    """
    checked = require_complete(repo, fetch=fetch)
    config = resolve_release_config(config_file, repo)
    scope = scope_for(config, package)
    cfg = scope.version
    where = _where(repo, config, package)
    line = read_line(repo, scope, checked=checked)
    tag_notice(line)
    latest = line.current
    declared = _declared(repo, cfg, where)
    if as_json:
        echo_json(
            {
                "version": str(latest.version) if latest else None,
                "tag": latest.tag.name if latest else None,
                "declared": declared,
                "ignored_tags": [{"tag": n, "reason": why} for n, why in line.tags.ignored],
                "off_line_tags": off_line_json(line),
            }
        )
        return
    if latest is None:
        click.echo(declared or cfg.initial_version)
        src = "the project file" if declared else "version.initial_version"
        click.echo(f"note: no release on HEAD's line; version from {src}", err=True)
        return
    click.echo(str(latest.version))


@version.command("next")
@path_option("--repo", dest="repo")
@config_option()
@package_option
@click.option(
    "--all",
    "all_packages",
    is_flag=True,
    help="Every package of a monorepo (`packages:`); with --json, lists those that need a release.",
)
@fetch_option
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
    package: str | None,
    all_packages: bool,
    fetch: bool,
    prerelease: Phase | None,
    write: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Print the next version: breaking -> major (minor under 1.0), feat -> minor
    (`version.minor_types`), fix and perf -> patch (`version.patch_types`), other types
    nothing, counted over the commits no release on HEAD's line contains (a revert and
    what it reverts cancel out; non-conventional commits release nothing unless
    `version.nonconventional: patch`).

    \b
    Examples:
      steward version next
      steward version next --prerelease a --write
      steward version next --all --json
    """
    if dry_run and not write:
        raise UsageError("--dry-run goes with --write (without --write nothing is written)")
    checked = require_complete(repo, fetch=fetch)
    config = resolve_release_config(config_file, repo)
    if all_packages:
        if package is not None or write:
            raise UsageError("--all cannot be combined with --package or --write")
        if not config.packages:
            raise UsageError("--all: no `packages:` in the config")
        scopes = [package_scope(config, p.name) for p in config.packages]
        _all(repo, checked, scopes, prerelease, as_json)
        return
    scope = scope_for(config, package)
    where = _where(repo, config, package)
    result, line, line_declared = _next(repo, checked, scope, prerelease, where)
    cfg = scope.version
    changed: str | None = None
    if write and line_declared != str(result.version):
        changed = str(Path(cfg.version_file or cfg.pyproject))
        if not dry_run:
            write_version(repo, str(result.version), cfg, *where)
    if as_json:
        echo_json(
            {
                **_as_json(result, cfg),
                "written": changed if write and not dry_run else None,
                "off_line_tags": off_line_json(line),
            }
        )
        return
    click.echo(str(result.version))
    click.echo(f"note: {result.reason}", err=True)
    if write:
        if changed is None:
            click.echo(f"{cfg.version_file or cfg.pyproject} already at {result.version}", err=True)
        else:
            verb = "would set" if dry_run else "set"
            click.echo(f"{verb} {changed} to {result.version}", err=True)


def _next(
    repo: Path,
    checked: Checked,
    scope: Scope,
    prerelease: Phase | None,
    where: tuple[Workspace, str],
) -> tuple[NextVersion, Line, str | None]:
    line = read_line(repo, scope, checked=checked)
    tag_notice(line)
    declared = _declared(repo, scope.version, where)
    initial = normalize(declared) if declared and not line.on_line else None
    result = next_version_of(repo, scope, line=line, prerelease=prerelease, initial=initial)
    return result, line, declared


def _all(
    repo: Path, checked: Checked, scopes: list[Scope], prerelease: Phase | None, as_json: bool
) -> None:
    lines = [read_line(repo, scope, checked=checked) for scope in scopes]
    unreleased = unreleased_by_scope(repo, scopes, lines)  # one pass for every package
    rows = []
    for scope, line, changes in zip(scopes, lines, unreleased, strict=True):
        result = next_version_of(repo, scope, line=line, prerelease=prerelease, changes=changes)
        current = line.current
        rows.append(
            {
                "package": scope.name,
                "current": str(current.version) if current else None,
                **_as_json(result, scope.version),
                "release": result.level is not None,
            }
        )
    if as_json:
        echo_json({"packages": rows, "to_release": [r["package"] for r in rows if r["release"]]})
        return
    for r in rows:
        state = (
            f"{r['current']} -> {r['version']}" if r["release"] else f"{r['current']} (no change)"
        )
        click.echo(f"{r['package']}: {state}")


def _as_json(result: NextVersion, cfg: VersionConfig) -> dict[str, Any]:
    return {
        "version": str(result.version),
        "tag": TagScheme(cfg.tag_pattern).format(result.version),
        "level": result.level,
        "reason": result.reason,
    }


def _where(repo: Path, config: ReleaseView, package: str | None) -> tuple[Workspace, str]:
    """The checkout and the setting naming the version file, for `steward.workspace`."""
    return workspace(repo, config), setting_for(config, package, "version_file")


def _declared(repo: Path, cfg: VersionConfig, where: tuple[Workspace, str]) -> str | None:
    """The version the project file declares; None when there is no such file or line. A
    path the config may not name (outside, a FIFO...) or a file that cannot be read as a
    project file (invalid TOML, not UTF-8, no PEP 440 version) is an error, never a None."""
    return declared_version(repo, cfg, *where)
