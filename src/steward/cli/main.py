"""`steward`: the command line. Each noun lives in its own module, loaded on first use."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from typing import Any

import click

from steward import __version__
from steward.errors import StewardError

# noun -> (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "handle": ("steward.cli.handle", "handle", "Run the PR/issue automation for one event."),
    "config": ("steward.cli.config_cmd", "config", "Check, show or export the config."),
    "labels": ("steward.cli.labels_cmd", "labels", "List or sync the label taxonomy."),
    "sweep": ("steward.cli.sweep_cmd", "sweep", "Stale and revisit sweep of open items."),
    "version": ("steward.cli.version_cmd", "version", "Current and next version (PEP 440)."),
    "changelog": ("steward.cli.changelog_cmd", "changelog", "Write the CHANGELOG from git."),
    "release": ("steward.cli.release_cmd", "release", "Release notes and the release pipeline."),
    "e2e": ("steward.cli.e2e_cmd", "e2e", "E2E infrastructure helpers (janitor)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(name: str) -> bool:
    return importlib.util.find_spec(COMMANDS[name][0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="steward")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """repo-steward: the maintainers' playbook as software.

    Triage and PR automation (handle, labels), release intelligence (version, changelog,
    release notes), the sealed release pipeline (release run) and E2E helpers (e2e).
    Configuration lives in .github/steward.yml; with none, the playbook's defaults apply.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr, no traceback (unless STEWARD_DEBUG)."""
    try:
        rv = cli.main(args=argv, prog_name="steward", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except StewardError as exc:
        if os.environ.get("STEWARD_DEBUG"):
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


def echo_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False))
