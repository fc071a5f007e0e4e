"""`steward changelog`: the CHANGELOG from conventional commits and release tags."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from steward.cli.common import config_option, path_option, resolve_release_config, workspace
from steward.cli.release_scope import (
    fetch_option,
    package_option,
    scope_for,
    setting_for,
    tag_notice,
)
from steward.errors import UsageError
from steward.history.progress import Progress
from steward.release import repository
from steward.release.changelog.file import update_changelog
from steward.release.changelog.render import BUILTIN, load_template
from steward.release.changelog.text import ChangelogText, changelog_text
from steward.release.tags import Line


@click.command()
@path_option("--repo", dest="repo")
@config_option()
@package_option
@click.option(
    "--output",
    "output",
    metavar="FILE",
    is_flag=False,
    flag_value="",
    help="Write this file (relative paths are inside PATH), keeping the released sections "
    "it already has as they are. Without a value: `changelog.output`, or the package's "
    "`changelog` with --package.",
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
@click.option(
    "--no-cache",
    is_flag=True,
    help="Read the whole history; neither use nor update the cache of released sections "
    "(.git/steward/), which lets a run after a full one read only what is new.",
)
@click.option("--dry-run", is_flag=True, help="With --output: say whether it would change.")
def changelog(  # noqa: PLR0917 (click passes options positionally)
    repo: Path,
    config_file: Path | None,
    package: str | None,
    output: str | None,
    force: bool,
    as_json: bool,
    unreleased: bool,
    template: str | None,
    fetch: bool,
    no_cache: bool,
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
    checked = repository.require_complete(repo, fetch=fetch)
    config = resolve_release_config(config_file, repo)
    scope = scope_for(config, package)
    ws = workspace(repo, config)
    # Paths typed here may lie anywhere (relative ones are inside PATH); the config's stay
    # inside the checkout. Neither is ever a device, a FIFO or a socket.
    if output is None:
        target = None
    elif output:
        target = ws.cli_path(repo / output, "--output", must_exist=False)
    else:
        where = setting_for(config, package, "changelog")
        target = ws.config_path(scope.changelog.output, where, must_exist=False)
    name = template or scope.changelog.template
    if name not in BUILTIN and template is not None:
        # A missing file is load_template's to say, naming the built-ins.
        ws.cli_path(repo / template, "--template", must_exist=False)
    elif name not in BUILTIN:
        ws.config_path(name, "changelog.template")
    tmpl = None if as_json else load_template(name, repo)
    result = changelog_text(
        repo,
        scope,
        template=tmpl,
        template_id="json" if as_json else (name if name in BUILTIN else None),
        unreleased_only=unreleased,
        use_cache=not no_cache,
        progress=Progress("changelog"),
        checked=checked,
    )
    tag_notice(result.line)
    _notices(result)
    if target is None or as_json:
        for chunk in result.chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    outcome = update_changelog(
        target.absolute(), result.text, _names(result.line), root=repo, force=force, dry_run=dry_run
    )
    click.echo(f"{target}: {outcome}", err=True)


def _names(line: Line) -> dict[str, str]:
    """Every release's tag name and version, for splicing into an existing file."""
    names: dict[str, str] = {}
    for r in line.shown:
        names[r.tag.name] = r.tag.name
        names.setdefault(str(r.version), r.tag.name)
    return names


def _notices(result: ChangelogText) -> None:
    if not result.line.shown:
        click.echo("note: no release tags yet: every change is Unreleased", err=True)
    count = result.nonconforming_count
    if count:
        shown = "; ".join(f"{sha[:7]} {subj[:60]}" for sha, subj in result.nonconforming[:3])
        more = " ..." if count > 3 else ""
        click.echo(f"note: {count} non-conventional commit(s) left out: {shown}{more}", err=True)
