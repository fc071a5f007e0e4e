"""`steward handle`: one webhook event through the policies, then (unless dry run) applied."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from steward.cli.common import (
    config_option,
    dry_run_option,
    github_client,
    json_option,
    path_option,
    report_plan,
    resolve_config,
)
from steward.cli.main import echo_json
from steward.domain.events import Event, Ignored, load_payload, parse_event, read_json
from steward.domain.models import ChangedFile
from steward.engine import skip_reason
from steward.errors import InputError, UsageError
from steward.github.repo_api import RepoApi, files_from_api
from steward.workspace import Workspace

if TYPE_CHECKING:
    from steward.config.model import StewardConfig


class _WithPolicies(click.Command):
    """Its help lists the policies from the registry, so it cannot fall behind them."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from steward.policies.registry import policies

        rows = [(p.name, p.help) for p in policies() if p.evaluate is not None]
        with formatter.section("Policies (config sections of the same name)"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


@click.command(cls=_WithPolicies)
@click.option(
    "--event-name",
    envvar="GITHUB_EVENT_NAME",
    metavar="NAME",
    help="Webhook event name (pull_request, issues, release, merge_group). "
    "Default: $GITHUB_EVENT_NAME.",
)
@click.option(
    "--payload",
    "payload_path",
    envvar="GITHUB_EVENT_PATH",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Webhook payload JSON. Default: $GITHUB_EVENT_PATH.",
)
@click.option(
    "--files",
    "files_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="JSON of GitHub's 'list pull request files' response; with it a dry run needs no network.",
)
@path_option(help="The checkout whose .github/steward.yml applies.")
@config_option()
@dry_run_option()
@json_option
def handle(  # noqa: PLR0917 (click passes one argument per option)
    event_name: str | None,
    payload_path: Path | None,
    files_path: Path | None,
    path: Path,
    config_file: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Run the PR and issue automation for one GitHub event.

    The policies (listed below) turn the event into a plan of actions; the plan is
    applied with the fewest API calls, and applying the same event twice changes nothing
    the second time.

    In a GitHub Actions job every option defaults from the environment
    (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_TOKEN). On a
    merge_group event it reports the required statuses (steward/semantic-title,
    steward/do-not-merge) on the group's commit, from the queued pull request.

    \b
    Example (offline):
      steward handle --event-name pull_request --payload event.json \\
        --files files.json --dry-run --json
    """
    if not event_name:
        raise UsageError("no event name: pass --event-name or set GITHUB_EVENT_NAME")
    if payload_path is None:
        raise UsageError("no payload: pass --payload FILE or set GITHUB_EVENT_PATH")
    config = resolve_config(config_file, path)
    ws = Workspace(path)  # input files may lie anywhere, but are regular files
    payload = ws.cli_path(payload_path, "--payload", error=InputError, must_exist=False)
    event = parse_event(event_name, load_payload(payload))
    files = None
    if files_path is not None:
        listed = ws.cli_path(files_path, "--files", error=InputError, must_exist=False)
        files = files_from_api(read_json(listed, "changed files"))

    # Ignored events and authors cost no API call at all (not even the changed files).
    reason = skip_reason(event, config)
    if reason is not None or isinstance(event, Ignored):
        if as_json:
            echo_json({"actions": [], "ignored": reason})
        else:
            click.echo(f"ignored: {reason}")
        return

    # A dry run reads from GitHub only when it has a token and no --files: it never writes.
    api: RepoApi | None = None
    online = not dry_run or (files is None and bool(os.environ.get("GITHUB_TOKEN")))
    if online:
        api = RepoApi(github_client(), event.repo.full_name)
    try:
        _run(event, config, api, files, dry_run=dry_run, as_json=as_json)
    finally:
        if api is not None:
            api.client.close()


def _run(
    event: Event,
    config: StewardConfig,
    api: RepoApi | None,
    files: list[ChangedFile] | None,
    *,
    dry_run: bool,
    as_json: bool,
) -> None:
    from steward.shell.executor import handle_event

    handled = handle_event(event, config, api, files, dry_run=dry_run)
    report_plan(handled.decision.plan, handled.result, as_json=as_json)
