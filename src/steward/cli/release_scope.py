"""What `version`, `changelog` and `release notes` share: the history they may trust, the
package they look at, and the one notice about tags that are not releases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from steward.errors import UsageError
from steward.release.membership import Membership
from steward.release.repository import Scope
from steward.release.tags import Line

if TYPE_CHECKING:
    from steward.config.release import ReleaseView

F = TypeVar("F", bound=Callable[..., Any])

fetch_option = click.option(
    "--fetch",
    is_flag=True,
    help="Deepen a shallow clone and fetch all tags first (git fetch --unshallow --tags). "
    "Without it a shallow clone is refused: its history is incomplete.",
)
package_option = click.option(
    "--package",
    "package",
    metavar="NAME",
    help="A monorepo package from `packages:` in the config: only commits touching its "
    "paths, its own tags and files.",
)


def scope_for(config: ReleaseView, package: str | None) -> Scope:
    """The whole repository, or one configured package."""
    if package is None:
        return Scope(config.version, config.changelog)
    for p in config.packages:
        if p.name == package:
            return package_scope(config, p.name)
    known = ", ".join(p.name for p in config.packages) or "none configured"
    raise UsageError(f"--package {package}: no such package in the config ({known})")


def setting_for(
    config: ReleaseView, package: str | None, file: Literal["changelog", "version_file"]
) -> str:
    """The setting that names a scope's changelog or version file, as the config file spells
    it (``changelog.output``, ``packages.2.version_file``), for errors about that path."""
    if package is not None:
        index = next(i for i, p in enumerate(config.packages) if p.name == package)
        return f"packages.{index}.{file}"
    if file == "changelog":
        return "changelog.output"
    return "version.version_file" if config.version.version_file else "version.pyproject"


def package_scope(config: ReleaseView, name: str) -> Scope:
    """One package: its paths (old ones included), scopes, tags and files; the packages
    whose tags are its tags too (lerna's fixed mode) share its version."""
    p = next(p for p in config.packages if p.name == name)
    settings = p.version_settings()
    vcfg = replace(
        config.version,
        tag_pattern=p.tags(),
        pyproject=settings.get("pyproject") or config.version.pyproject,
        version_file=settings["version_file"],
    )
    ccfg = replace(config.changelog, output=p.changelog_file())
    fixed = tuple(
        Membership(tuple(q.paths), q.commit_scopes())
        for q in config.packages
        if q.name != p.name and q.tags() == p.tags()
    )
    return Scope(
        vcfg,
        ccfg,
        tag_pattern=p.tags(),
        paths=tuple(p.paths),
        name=p.name,
        scopes=p.commit_scopes(),
        fixed=fixed,
    )


def tag_notice(line: Line) -> None:
    """Say once, on stderr, which tags are not releases and why, and which release tags
    are left off HEAD's line and why (never silently: a wrong version starts there)."""
    ignored = line.tags.ignored
    if ignored:
        shown = "; ".join(f"{name} ({why})" for name, why in ignored[:5])
        more = f"; and {len(ignored) - 5} more" if len(ignored) > 5 else ""
        click.echo(f"note: {len(ignored)} tag(s) are not releases: {shown}{more}", err=True)
    off = line.off_line()
    if off:
        click.echo(f"note: {off_line_text(off)}", err=True)


def off_line_text(off: list[tuple[str, str]], first: int = 3) -> str:
    """`3 release tags are not on this branch's history: v3.2.0 (tagged commit a1b2c3d
    changes src/x.py besides the version), ...`"""
    noun = "release tag is" if len(off) == 1 else "release tags are"
    shown = ", ".join(f"{name} ({why})" for name, why in off[:first])
    more = ", ..." if len(off) > first else ""
    return f"{len(off)} {noun} not on this branch's history: {shown}{more}"


def off_line_json(line: Line) -> list[dict[str, str]]:
    """The same, for `--json` output."""
    return [{"tag": name, "reason": why} for name, why in line.off_line()]
