"""`steward sweep`: the scheduled pass over long-running issues and PRs (stale, revisit)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from steward.cli.common import (
    apply_or_print,
    config_option,
    dry_run_option,
    github_client,
    json_option,
    path_option,
    repo_name,
    repo_option,
    resolve_config,
)
from steward.domain.events import read_json
from steward.domain.models import Issue
from steward.errors import InputError, PayloadError, UsageError
from steward.github.repo_api import RepoApi, issue_with_dates
from steward.workspace import Workspace


def _load_items(path: Path) -> list[Issue]:
    data = read_json(path, "issues list")
    if not isinstance(data, list):
        raise PayloadError(f"{path}: expected GitHub's list-issues response (a JSON list)")
    out: list[Issue] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise PayloadError(f"{path}: item {i} is not an object")
        out.append(issue_with_dates(item))
    return out


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        msg = f"--now must be an ISO 8601 time such as 2026-01-31T12:00:00Z: {text!r}"
        raise UsageError(msg) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@click.command()
@repo_option()
@path_option(help="The checkout whose .github/steward.yml applies.")
@config_option()
@click.option(
    "--items",
    "items_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON of GitHub's 'list repository issues' response, instead of reading "
    "the open issues and PRs from GitHub (with --dry-run: fully offline).",
)
@click.option("--now", "now_text", metavar="TIME", help="Judge idleness as of TIME (ISO 8601).")
@dry_run_option()
@json_option
def sweep(  # noqa: PLR0917 - one parameter per click option
    repo: str | None,
    path: Path,
    config_file: Path | None,
    items_path: Path | None,
    now_text: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Sweep open issues and PRs, as the playbook's "long running issues" asks.

    \b
    - `revisit-in-3-months` items idle for 90 days: one reminder to the maintainers' team;
    - items idle for 60 days: `stale` label and one comment;
    - `stale` items idle 7 more days: closed with one comment.
    Exempt labels (pending-release, RFC, help wanted, do-not-merge) are never touched. Days,
    labels and messages come from the `sweep` config section. Run it on a schedule; a second
    run the same day changes nothing.

    Only a person's activity restarts a clock: steward's own comments and other bots' do
    not. An item updated within its wait has its timeline read (one call, at most
    `max_activity_reads` items a run) to tell who acted; offline, with --items and
    --dry-run, every item is judged by its last activity of any kind.
    """
    config = resolve_config(config_file, path)
    now = _now(now_text)
    if items_path is not None:
        listed = Workspace(path).cli_path(items_path, "--items", error=InputError, must_exist=False)
        items = _load_items(listed)
        api = None if dry_run else RepoApi(github_client(), repo_name(repo))
        known = None  # a file may be older than what GitHub holds now
    else:
        api = RepoApi(github_client(), repo_name(repo))
        items = api.open_items()
        known = {i.number: i for i in items}
    try:
        from steward.shell.identity import default_identity
        from steward.shell.sweeper import plan_repository_sweep

        identity = default_identity(api.authenticated_login) if api is not None else None
        swept = plan_repository_sweep(items, now, config, api, identity)
        apply_or_print(
            swept.plan,
            api,
            dry_run=dry_run,
            as_json=as_json,
            known=known,
            markers=swept.markers,
            identity=identity,
        )
    finally:
        if api is not None:
            api.client.close()
