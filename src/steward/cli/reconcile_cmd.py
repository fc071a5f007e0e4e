"""`steward serve reconcile`: the click command over `steward.server.reconcile`.

The ``serve`` group (`steward.cli.serve_cmd`) puts what the command needs in
``ctx.meta[DEPS_KEY]``: a `ReconcileDeps`, or a zero-argument callable returning one, so
the database is opened only when reconcile runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from steward.cli.main import echo_json
from steward.errors import StewardError
from steward.server.reconcile import DEFAULT_SINCE, Report, parse_since, reconcile

if TYPE_CHECKING:
    from steward.github.client import GitHubClient

DEPS_KEY = "steward.cli.reconcile_cmd"


@dataclass(frozen=True, slots=True)
class ReconcileDeps:
    """What `reconcile_cmd` needs from the server: a client acting as the App and the
    inbox's ``known(guid)``. The ``serve`` group puts one (or a zero-argument callable
    returning one, to open the database only when reconcile runs) in
    ``ctx.meta[DEPS_KEY]``."""

    client_factory: Callable[[], GitHubClient]
    known: Callable[[str], bool]


def _deps(ctx: click.Context) -> ReconcileDeps:
    found: Any = ctx.meta.get(DEPS_KEY)
    if callable(found) and not isinstance(found, ReconcileDeps):
        found = found()
    if not isinstance(found, ReconcileDeps):
        raise StewardError(
            "steward serve reconcile: the server's settings were not loaded "
            "(run it as `steward serve reconcile`)"
        )
    return found


def _echo(report: Report, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_json())
        return
    for line in report.lines():
        click.echo(line)


@click.command("reconcile")
@click.option(
    "--since",
    "since_text",
    default=DEFAULT_SINCE,
    show_default=True,
    metavar="DURATION",
    help="How far back to look: 72h, 30m, 3d (GitHub keeps deliveries for three days).",
)
@click.option("--dry-run", "dry_run", is_flag=True, help="Report what would be redelivered.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def reconcile_cmd(ctx: click.Context, since_text: str, dry_run: bool, as_json: bool) -> None:
    """Ask GitHub to redeliver the App's webhook deliveries that never reached the inbox.

    Lists the deliveries of the last DURATION, and requests the redelivery of every event
    that no attempt delivered and that the inbox does not hold; then reports what it did.
    Exit 1 when GitHub refused a redelivery or the list could not be read.
    """
    since = parse_since(since_text)
    deps = _deps(ctx)
    report = reconcile(deps.client_factory, since, deps.known, dry_run=dry_run)
    _echo(report, as_json)
    if report.errors:
        raise StewardError(f"{len(report.errors)} redeliveries were refused (see above)")
