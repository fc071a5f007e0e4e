"""`steward`: the command line. Each noun lives in its own module, loaded on first use.

The contract every command keeps: ``--repo OWNER/NAME`` names a GitHub repository,
``--path DIR`` the local checkout, ``--config FILE`` the config file, ``--json`` machine
output, and ``--dry-run`` appears only where it gates a change. Exit codes: 0 done, 2 usage,
config and input errors, 1 runtime failures (`steward.errors`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from steward import __version__
from steward.errors import StewardError
from steward.logstream import CurrentStderrHandler


@dataclass(frozen=True, slots=True)
class Entry:
    """A command of a `LazyGroup`: where it lives, its one-line help, the extra it needs."""

    module: str
    attr: str
    help: str
    extra: str | None = None
    """The optional dependency group (``pip install 'repo-steward[EXTRA]'``) it needs."""
    needs: tuple[str, ...] = ()
    """Top-level modules of that extra; a missing one means the extra is not installed."""

    def missing(self) -> list[str]:
        return [m for m in self.needs if importlib.util.find_spec(m) is None]


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from a table of `Entry`."""

    def __init__(self, *args: Any, entries: Mapping[str, Entry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = dict(entries)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, e in self.entries.items() if _available(e))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.entries.get(cmd_name)
        if entry is None or not _available(entry):
            return None
        if entry.missing():
            return NeedsExtra(cmd_name, entry, ctx)
        cmd = getattr(importlib.import_module(entry.module), entry.attr)
        assert isinstance(cmd, click.Command)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, self.entries[n].help) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(entry: Entry) -> bool:
    return importlib.util.find_spec(entry.module) is not None


class NeedsExtra(click.Command):
    """Stands in for a command whose extra is not installed: any use says how to get it."""

    def __init__(self, name: str, entry: Entry, parent: click.Context) -> None:
        where = " ".join([*parent.command_path.split(), name])
        self.extra = entry.extra

        def fail() -> None:
            raise StewardError(
                f"{where} needs the {entry.extra!r} extra ({', '.join(entry.missing())} "
                f"missing): pip install 'repo-steward[{entry.extra}]'"
            )

        super().__init__(
            name,
            callback=fail,
            help=f"{entry.help} (needs: pip install 'repo-steward[{entry.extra}]')",
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            add_help_option=False,
        )


COMMANDS: dict[str, Entry] = {
    "init": Entry("steward.cli.init_cmd", "init", "Set a repository up the playbook's way."),
    "handle": Entry("steward.cli.handle", "handle", "Run the PR/issue automation for one event."),
    "config": Entry("steward.cli.config_cmd", "config", "Check, show or export the config."),
    "labels": Entry("steward.cli.labels_cmd", "labels", "List or sync the label taxonomy."),
    "sweep": Entry("steward.cli.sweep_cmd", "sweep", "Stale and revisit sweep of open items."),
    "version": Entry("steward.cli.version_cmd", "version", "Current and next version (PEP 440)."),
    "changelog": Entry("steward.cli.changelog_cmd", "changelog", "Write the CHANGELOG from git."),
    "release": Entry(
        "steward.cli.release_cmd", "release", "Release notes and the release pipeline."
    ),
    "docs": Entry("steward.cli.docs_cmd", "docs", "Rebuild a released version's docs (hotfix)."),
    "e2e": Entry(
        "steward.cli.e2e_cmd",
        "e2e",
        "E2E helpers: janitor (leaked stacks), migrate (Powertools' tests/e2e).",
        extra="e2e",  # janitor says so itself when boto3 is missing; migrate needs nothing
    ),
    "serve": Entry(
        "steward.cli.serve_cmd",
        "serve",
        "The GitHub App server: webhook intake, inbox, workers, reconcile.",
        extra="server",
        needs=("starlette", "uvicorn", "sqlalchemy", "alembic", "jwt"),
    ),
}


@click.group(
    cls=LazyGroup,
    entries=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="steward")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """repo-steward: the maintainers' playbook as software.

    Triage and PR automation (handle, labels), release intelligence (version, changelog,
    release notes), the sealed release pipeline (release run) and E2E helpers (e2e).
    Configuration lives in .github/steward.yml; with none, the playbook's defaults apply.

    \b
    Every command: --repo OWNER/NAME is a GitHub repository, --path DIR the local
    checkout, --config FILE the config file, --json machine output. Exit codes: 2 for
    usage, config and input errors, 1 when the work itself fails.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", handlers=[CurrentStderrHandler()]
    )


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
