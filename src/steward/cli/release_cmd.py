"""`steward release`: release notes (here) and the release pipeline (its own module)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from packaging.version import Version

from steward.cli.common import (
    config_option,
    dry_run_needs,
    dry_run_option,
    github_client,
    json_option,
    path_option,
    repo_name,
    repo_option,
    resolve_config,
    workspace,
)
from steward.cli.main import Entry, LazyGroup, echo_json
from steward.cli.release_scope import (
    fetch_option,
    package_option,
    scope_for,
    setting_for,
    tag_notice,
)
from steward.config.model import StewardConfig
from steward.errors import UsageError
from steward.github.client import GitHubClient
from steward.github.records import GitHubRelease
from steward.history.git import remote_url
from steward.policies import semantic_title
from steward.release import repository
from steward.release.changes import body_types, changes_of
from steward.release.notes.draft import Notes, draft_notes
from steward.release.notes.from_git import pulls_from_commits
from steward.release.notes.from_github import (
    LastRelease,
    last_release,
    list_releases,
    merged_pulls,
    publish_draft,
    release_by_tag,
)
from steward.release.tags import TagScheme, normalize
from steward.release.version_file import declared_version

_PIPELINE = "steward.cli.pipeline_cmd"
# The release group's commands, registered like the top-level ones (`steward.cli.main`): the
# pipeline's live in their own module, and `run` needs the `release` extra (build, twine).
COMMANDS: dict[str, Entry] = {
    "notes": Entry(__name__, "notes", "Draft the release notes (merged PRs or git history)."),
    "run": Entry(
        _PIPELINE,
        "run_cmd",
        "Seal, check, build, attest, publish, tag and announce a release.",
        extra="release",
        needs=("build", "twine"),
    ),
    "status": Entry(_PIPELINE, "status_cmd", "Recorded releases, or one release's stages."),
    "verify": Entry(_PIPELINE, "verify_cmd", "Check a dist directory against its provenance."),
}


@click.group(cls=LazyGroup, entries=COMMANDS)
def release() -> None:
    """Release notes and the release pipeline."""


@click.command("notes")
@repo_option("GitHub repository. Default: $GITHUB_REPOSITORY, else the origin remote.")
@path_option(dest="workdir")
@config_option()
@click.option(
    "--since",
    "since",
    metavar="TAG",
    help="Notes for what was merged after this release tag (default: the last one).",
)
@click.option(
    "--from-git",
    is_flag=True,
    help="Build the notes from git history, offline (also the default with no token).",
)
@click.option(
    "--publish",
    is_flag=True,
    help="Create or update the one draft release on GitHub with these notes.",
)
@package_option
@fetch_option
@dry_run_option("With --publish: say what would change only.")
@json_option
def notes(  # noqa: PLR0917 (click passes options positionally)
    repo: str | None,
    workdir: Path,
    config_file: Path | None,
    since: str | None,
    from_git: bool,
    publish: bool,
    package: str | None,
    fetch: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Draft the release notes: merged PRs since the last release, grouped by label into the
    configured categories (the first matching one wins; excluded labels left out;
    uncategorised last), one line each ('* $TITLE (#$NUMBER) by @$AUTHOR'), a Summary
    placeholder, the contributors, and the next version resolved from the labels.

    From GitHub (with GITHUB_TOKEN) it costs one call for the releases and one search call
    per 100 PRs. Offline (--from-git, or no token) the commits since the last release tag
    stand for the PRs: number from '(#123)', category from the commit type.

    \b
    Examples:
      steward release notes --from-git
      steward release notes --repo OWNER/NAME --publish
    """
    dry_run_needs(dry_run, publish, "--publish")
    config = resolve_config(config_file, workdir)
    scheme = TagScheme(config.version.tag_pattern)
    has_token = bool(os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN"))
    if publish and not has_token:
        raise UsageError("--publish needs GITHUB_TOKEN (or run without --publish)")
    offline = from_git or not has_token
    if package is not None and not offline:
        raise UsageError("--package reads the package's commits from git: add --from-git")
    published: str | None = None
    if offline:
        if not from_git:
            click.echo("note: no GITHUB_TOKEN: building the notes from git history", err=True)
        result = _from_git(workdir, since, config, fetch, package)
    if publish or not offline:
        name = _repo(repo, workdir)
        with github_client() as client:
            releases = list_releases(client, name)
            if not offline:
                result = _from_github(
                    client, name, since=since, releases=releases, config=config, scheme=scheme
                )
            if publish:
                outcome = publish_draft(client, name, result, releases, dry_run=dry_run)
                published = outcome.action
    if as_json:
        echo_json(
            {**result.to_json(), "source": "git" if offline else "github", "draft": published}
        )
        return
    click.echo(result.body, nl=not result.body.endswith("\n"))
    click.echo(f"note: next version {result.version} ({result.tag})", err=True)
    if published is not None:
        click.echo(f"draft release {result.tag}: {published}", err=True)


def _repo(explicit: str | None, workdir: Path) -> str:
    if explicit or os.environ.get("GITHUB_REPOSITORY"):
        return repo_name(explicit)
    url = remote_url(workdir)
    if url and url.count("/") >= 4:
        return repo_name("/".join(url.split("/")[-2:]))
    return repo_name(None)


def _from_git(
    workdir: Path, since: str | None, config: StewardConfig, fetch: bool, package: str | None
) -> Notes:
    checked = repository.require_complete(workdir, fetch=fetch)
    scope = scope_for(config, package)
    vcfg = scope.version
    line = repository.read_line(workdir, scope, checked=checked)
    tag_notice(line)
    if since is not None:
        match = line.tags.by_name(since)
        if match is None:
            raise UsageError(f"--since {since}: no such release tag in {workdir}")
        base: Version | None = match.version
        exclude = [match.tag.sha]
    else:
        latest = line.current_final
        base = latest.version if latest else None
        exclude = repository.final_tips(line)
        if latest is None:
            click.echo(
                f"note: no release tags on HEAD's line match {vcfg.tag_pattern!r}: every "
                "commit is in these notes",
                err=True,
            )
    st = semantic_title.POLICY.of(config)
    commits = list(repository.commits_since(workdir, scope, exclude, line))
    pulls = list(pulls_from_commits(commits, st.types, st.breaking_label))
    types = body_types(scope.changelog.sections, vcfg)
    body = scope.changelog.body_entries
    changes = [
        c for commit in commits for c in changes_of(commit, body_entries=body, body_types=types)
    ]
    initial = None
    if base is None:
        where = workspace(workdir, config), setting_for(config, package, "version_file")
        declared = declared_version(workdir, vcfg, *where)  # None: no version declared
        initial = normalize(declared) if declared is not None else None
    return draft_notes(
        pulls,
        config.release_notes,
        vcfg,
        base=base,
        existing=line.versions,
        initial=initial,
        commit_changes=changes,
    )


def _from_github(
    client: GitHubClient,
    name: str,
    *,
    since: str | None,
    releases: list[GitHubRelease],
    config: StewardConfig,
    scheme: TagScheme,
) -> Notes:
    last: LastRelease | None = (
        release_by_tag(client, name, since) if since else last_release(releases, scheme)
    )
    pulls = merged_pulls(client, name, last.date if last else None)
    base = scheme.parse(last.tag) if last else None
    existing = [v for r in releases if (v := scheme.parse(r.tag_name or ""))]
    return draft_notes(pulls, config.release_notes, config.version, base=base, existing=existing)
