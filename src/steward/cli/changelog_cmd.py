"""`steward changelog`: the CHANGELOG from conventional commits and release tags."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from steward.cli.common import config_option, git_repo_option, resolve_config
from steward.cli.intel import fetch_option, package_option, scope_for, tag_notice
from steward.errors import UsageError
from steward.history.progress import Progress
from steward.release import repository
from steward.release.changelog import Changelog
from steward.release.changelog_file import update_changelog
from steward.release.render import load_template, render, render_chunks


@click.command()
@git_repo_option
@config_option("REPO")
@package_option
@click.option(
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write this file (relative paths are inside REPO), keeping the released sections "
    "it already has as they are.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --output: accept a render that lacks released sections the file has.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the data model as JSON.")
@click.option("--unreleased", is_flag=True, help="Only the changes since the last release.")
@click.option(
    "--template",
    "template",
    help="Override changelog.template (github, keepachangelog, or a Jinja2 file).",
)
@fetch_option
@click.option("--dry-run", is_flag=True, help="With --output: say whether it would change.")
def changelog(  # noqa: PLR0917 (click passes options positionally)
    repo: Path,
    config_file: Path | None,
    package: str | None,
    output: Path | None,
    force: bool,
    as_json: bool,
    unreleased: bool,
    template: str | None,
    fetch: bool,
    dry_run: bool,
) -> None:
    """Group the history into releases (one per release tag, newest first, after an
    Unreleased section) and sections by commit type, then render it with a template.

    A release holds the commits its tag reaches and the previous release's tag does not,
    so release tags off the trunk work. The releases are those of HEAD's line plus older
    ones of other lines (a trunk lists its maintenance releases). Commits that are not
    conventional are left out and counted on stderr. A shallow clone is refused (see
    --fetch); --output never drops a released section the file has (see --force), and
    writes atomically.

    \b
    Examples:
      steward changelog --unreleased
      steward changelog --output CHANGELOG.md
      steward changelog --json
    """
    if unreleased and output is not None:
        raise UsageError("--unreleased prints to stdout; it cannot be combined with --output")
    if (dry_run or force) and output is None:
        raise UsageError("--dry-run and --force go with --output")
    repository.require_complete(repo, fetch=fetch)
    config = resolve_config(config_file, repo)
    scope = scope_for(config, package)
    cfg = scope.changelog
    tmpl = None if as_json else load_template(template or cfg.template, repo)
    line = repository.read_line(repo, scope)
    tag_notice(line)
    data = repository.changelog(
        repo, scope, line=line, unreleased_only=unreleased, progress=Progress("changelog")
    )
    _notices(data)
    if as_json:
        _write_json(data)
        return
    assert tmpl is not None
    if output is None:
        for chunk in render_chunks(data, tmpl):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    text = render(data, tmpl)
    outcome = update_changelog(output, text, _names(data), root=repo, force=force, dry_run=dry_run)
    path = output if output.is_absolute() else repo / output
    click.echo(f"{path}: {outcome}", err=True)


def _write_json(data: Changelog) -> None:
    """`{"versions": [...]}`, one release a line: a long history is never one big string."""
    out = sys.stdout
    out.write('{"versions": [\n')
    for i, block in enumerate(data.versions):
        out.write((",\n" if i else "") + json.dumps(block.to_json(), ensure_ascii=False))
    out.write("\n]}\n")
    out.flush()


def _names(data: Changelog) -> dict[str, str]:
    names: dict[str, str] = {}
    for v in data.releases:
        assert v.tag is not None
        names[v.tag] = v.tag
        if v.version is not None:
            names.setdefault(v.version, v.tag)
    return names


def _notices(data: Changelog) -> None:
    if not data.tagged:
        click.echo("note: no release tags yet: every change is Unreleased", err=True)
    if data.nonconforming_count:
        shown = "; ".join(f"{sha[:7]} {subj[:60]}" for sha, subj in data.nonconforming[:3])
        more = " ..." if data.nonconforming_count > 3 else ""
        click.echo(
            f"note: {data.nonconforming_count} non-conventional commit(s) left out: {shown}{more}",
            err=True,
        )
