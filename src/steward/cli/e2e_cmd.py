"""`steward e2e`: helpers around the E2E pytest plugin (the plugin itself runs inside pytest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from steward.cli.common import dry_run_option, json_option
from steward.e2e.naming import DEFAULT_PREFIX, RUN_TAG
from steward.errors import StewardError

if TYPE_CHECKING:
    from steward.e2e.deployer import CloudFormationDeployer, StackInfo


@click.group()
def e2e() -> None:
    """E2E infrastructure helpers. The plugin: `pytest -p steward.e2e` (see docs/e2e.md)."""


@e2e.command("janitor")
@click.option(
    "--older-than",
    default="2h",
    show_default=True,
    metavar="DURATION",
    help="Only stacks created longer ago than this (90s, 30m, 2h, 1d): spares running sessions.",
)
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, help="Stack name prefix.")
@dry_run_option("List what would be deleted; delete nothing.")
@json_option
def janitor(older_than: str, prefix: str, dry_run: bool, as_json: bool) -> None:
    """Delete E2E stacks leaked by earlier runs (a killed CI job, a lost network).

    Only stacks the plugin tagged with a run id are considered. The AWS account, region and
    endpoint come from the usual AWS environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL).
    Running it twice deletes nothing the second time.
    """
    from steward.e2e.janitor import leaked, parse_duration

    grace = parse_duration(older_than)
    deployer = _deployer()
    try:
        doomed = leaked(deployer.stacks(), now=datetime.now(UTC), older_than=grace, prefix=prefix)
        if as_json:
            if doomed and not dry_run:
                deployer.sweep(lambda s: s.name in {d.name for d in doomed})
            _echo_json(doomed, dry_run)
            return
        if not doomed:
            click.echo(f"no leaked E2E stacks (prefix {prefix!r}, older than {older_than})")
            return
        for stack in doomed:
            created = stack.created.isoformat(timespec="seconds") if stack.created else "?"
            run = stack.tags.get(RUN_TAG, "?")
            verb = "would delete" if dry_run else "deleting"
            click.echo(f"{verb} {stack.name} (run {run}, created {created})")
        if not dry_run:
            deployer.sweep(lambda s: s.name in {d.name for d in doomed})
            click.echo(f"deleted {len(doomed)} stack(s)")
    except StewardError:
        raise
    except Exception as exc:  # botocore: no credentials, access denied, endpoint down
        raise StewardError(
            f"AWS: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from exc


def _echo_json(doomed: list[StackInfo], dry_run: bool) -> None:
    from steward.cli.main import echo_json

    echo_json(
        {
            "dry_run": dry_run,
            "deleted": [] if dry_run else [s.name for s in doomed],
            "stacks": [
                {
                    "name": s.name,
                    "run": s.tags.get(RUN_TAG),
                    "created": s.created.isoformat(timespec="seconds") if s.created else None,
                }
                for s in doomed
            ],
        }
    )


def _deployer() -> CloudFormationDeployer:
    try:
        from steward.e2e.deployer import CloudFormationDeployer

        return CloudFormationDeployer()
    except ImportError as exc:
        raise StewardError("boto3 is missing: pip install 'repo-steward[e2e]'") from exc
    except Exception as exc:
        raise StewardError(f"AWS: {exc}") from exc
