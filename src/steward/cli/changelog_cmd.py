"""`steward changelog`: the CHANGELOG from conventional commits and release tags."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.common import config_option, git_repo_option, resolve_config
from steward.cli.main import echo_json
from steward.errors import UsageError
from steward.history.git import ensure_repo
from steward.history.progress import Progress
from steward.release.changelog import Changelog, build_changelog
from steward.release.render import load_template, render
from steward.release.splice import splice


@click.command()
@git_repo_option
@config_option("REPO")
@click.option(
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write this file (relative paths are inside REPO), keeping the released "
    "sections it already has as they are. Default: print to stdout.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the data model as JSON.")
@click.option("--unreleased", is_flag=True, help="Only the changes since the last release.")
@click.option(
    "--template",
    "template",
    help="Override changelog.template (github, keepachangelog, or a Jinja2 file).",
)
@click.option("--dry-run", is_flag=True, help="With --output: say whether it would change.")
def changelog(  # noqa: PLR0917 (click passes options positionally)
    repo: Path,
    config_file: Path | None,
    output: Path | None,
    as_json: bool,
    unreleased: bool,
    template: str | None,
    dry_run: bool,
) -> None:
    """Group the history into releases (one per version tag, newest first, after an
    Unreleased section) and sections by commit type, then render it with a template.

    A release holds the commits its tag reaches and the previous release's tag does not,
    so release tags off the trunk work. Commits that are not conventional are left out and
    counted on stderr.

    \b
    Examples:
      steward changelog --unreleased
      steward changelog --output CHANGELOG.md
      steward changelog --json
    """
    ensure_repo(repo)
    config = resolve_config(config_file, repo)
    cfg = config.changelog
    if unreleased and output is not None:
        raise UsageError("--unreleased prints to stdout; it cannot be combined with --output")
    tmpl = None if as_json else load_template(template or cfg.template, repo)
    data = build_changelog(
        repo, cfg, config.version, unreleased_only=unreleased, progress=Progress("changelog")
    )
    _notices(data)
    if as_json:
        echo_json(data.to_json())
        return
    assert tmpl is not None
    text = render(data, tmpl)
    if output is None:
        click.echo(text, nl=False)
        return
    path = output if output.is_absolute() else repo / output
    old = path.read_text(encoding="utf-8") if path.exists() else None
    new = text if old is None else splice(old, text, _names(data))
    if new == old:
        click.echo(f"{path}: up to date", err=True)
    elif dry_run:
        click.echo(f"{path}: would be {'updated' if old is not None else 'created'}", err=True)
    else:
        path.write_text(new, encoding="utf-8")
        click.echo(f"{path}: {'updated' if old is not None else 'created'}", err=True)


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
